"""What standard verifiers found: the 3.0 revocation status list is signed when it changes (not on every request),
cached and served with validators; the issuer is a did:web identifier whose DID document the site serves; a
compromised signing key can be withdrawn so that what it signed afterwards fails."""
from __future__ import annotations

import json
from datetime import timedelta

from lms.badges import integrity, services as badges
from lms.badges.documents import Issuer
from lms.certification import services as certs
from lms.core.clock import now_utc
from tests.badges.conftest import T0
from tests.badges.test_credentials import credential_of

SECRET = "clave-de-prueba-" + "x" * 32


def _issuer(app) -> Issuer:
    return Issuer.from_config(app.config)


def test_the_status_list_is_signed_when_it_changes_and_served_with_an_etag(app, client, session, record, admin, verifier):
    badges.publish(session, record, now=T0)  # its credential exists: its revocation belongs in the list
    first = badges.status_list(session, issuer=_issuer(app), secret=SECRET, now=T0)
    later = badges.status_list(session, issuer=_issuer(app), secret=SECRET, now=T0 + timedelta(hours=5))
    assert later.document == first.document  # the same signed document: validFrom stays the moment it was signed
    assert json.loads(later.document)["validFrom"] == T0.strftime("%Y-%m-%dT%H:%M:%SZ")
    session.commit()

    response = client.get("/badges/v3/status/revocation")
    assert response.status_code == 200 and response.headers["ETag"]
    document = json.loads(response.get_data(as_text=True))
    assert document["validFrom"] == T0.strftime("%Y-%m-%dT%H:%M:%SZ") and verifier.verify(document)
    cached = client.get("/badges/v3/status/revocation", headers={"If-None-Match": response.headers["ETag"]})
    assert cached.status_code == 304 and cached.get_data() == b""

    certs.revoke(session, record, actor=admin, reason="Fraude", now=T0 + timedelta(days=1))
    session.commit()
    changed = client.get("/badges/v3/status/revocation", headers={"If-None-Match": response.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != response.headers["ETag"]
    signed_again = json.loads(changed.get_data(as_text=True))
    assert signed_again["validFrom"] > document["validFrom"] and verifier.verify(signed_again)
    again = client.get("/badges/v3/status/revocation")
    assert again.get_data() == changed.get_data()  # not signed again on the next request


def test_the_issuer_is_did_web_and_its_did_document_is_served(app, client, auth, record, agent, verifier):
    credential = credential_of(client, auth, agent, record)
    did = "did:web:127.0.0.1%3A5000"
    assert credential["issuer"]["id"] == did and credential["proof"]["verificationMethod"].startswith(did + "#")
    document = client.get("/.well-known/did.json").get_json(force=True)
    assert document["id"] == did and document["@context"][0] == "https://www.w3.org/ns/did/v1"
    (method,) = document["verificationMethod"]
    assert method == {"id": credential["proof"]["verificationMethod"], "type": "Multikey", "controller": did,
                      "publicKeyMultibase": credential["proof"]["verificationMethod"].split("#")[1]}
    assert document["assertionMethod"] == [method["id"]]
    assert verifier.verify(credential)  # resolved by the did:web method alone


def test_a_compromised_key_can_be_withdrawn(app, client, auth, session, record, agent, verifier):
    before = badges.credential_for(session, record, issuer=_issuer(app), secret=app.config["SECRET_KEY"], now=T0)
    session.commit()
    compromised = before["proof"]["verificationMethod"].split("#")[1]
    row, private = badges.active_key(session, secret=app.config["SECRET_KEY"], now=now_utc())
    assert row.public_key == compromised
    since = now_utc().replace(microsecond=0)
    # an attacker holding the key signs a credential after the compromise
    forged_at = since + timedelta(minutes=5)
    unsigned = {k: v for k, v in before.items() if k != "proof"}
    forged = integrity.sign(unsigned, private, verification_method=before["proof"]["verificationMethod"], created=forged_at)

    result = app.test_cli_runner().invoke(args=["badges", "revoke-key", compromised, "--since",
                                                since.strftime("%Y-%m-%dT%H:%M:%S")])
    assert result.exit_code == 0, result.output
    session.expire_all()
    verdict = badges.verify_credential(session, forged, issuer=_issuer(app), now=forged_at + timedelta(minutes=1))
    assert not verdict.valid and "withdrawn" in " ".join(verdict.problems)
    assert badges.verify_credential(session, before, issuer=_issuer(app), now=now_utc()).valid  # signed before
    # no longer an assertion method: standard verifiers refuse it too; a new key signs
    document = client.get("/.well-known/did.json").get_json(force=True)
    assert before["proof"]["verificationMethod"] not in document["assertionMethod"]
    after = credential_of(client, auth, agent, record)
    assert after["proof"]["verificationMethod"] != before["proof"]["verificationMethod"] and verifier.verify(after)
    assert app.test_cli_runner().invoke(args=["badges", "revoke-key", "z6Mkno", "--since", "2026-01-01"]).exit_code != 0
