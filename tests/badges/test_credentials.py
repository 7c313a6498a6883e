"""Open Badges 3.0: signed OpenBadgeCredentials, verified by an independent implementation; tampering,
key rotation, revocation through the Bitstring Status List, and who may download what."""
from __future__ import annotations

import copy
import hashlib
import json

import pytest

from lms.badges import documents, services as badges
from lms.badges.documents import Issuer
from lms.badges.models import BadgeSigningKey
from lms.certification import services as certs
from lms.core.clock import now_utc
from tests.concurrency import run_at_once
from tests.badges.conftest import path_of, schema_errors


def download(client, auth, user, record, status=200):
    auth.login_as(user)
    response = client.get(f"/badges/records/{record.id}/credential.json")
    auth.logout()
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    return response


def credential_of(client, auth, user, record) -> dict:
    response = download(client, auth, user, record)
    assert response.mimetype == "application/ld+json"
    assert response.headers["Content-Disposition"] == f'attachment; filename="credencial-proceso-{record.id}.json"'
    return json.loads(response.get_data(as_text=True))


def issuer(app) -> Issuer:
    return Issuer.from_config(app.config)


def test_credential_shape_and_recipient(client, auth, record, agent, make_user):
    credential = credential_of(client, auth, agent, record)
    assert schema_errors(credential, "ob3-credential.json") == []
    assert credential["name"] == "Certificación de proceso"
    assert credential["validFrom"] == record.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert credential["validUntil"] == record.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert credential["issuer"]["id"] == "did:web:127.0.0.1%3A5000"  # resolved at /.well-known/did.json
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == "Certification" and "«Evaluación de la semana A»" in achievement["criteria"]["narrative"]
    (identity,) = credential["credentialSubject"]["identifier"]
    assert identity["identityHash"] == "sha256$" + hashlib.sha256((agent.email + identity["salt"]).encode()).hexdigest()
    assert identity["identityHash"] != "sha256$" + hashlib.sha256((make_user("agent").email + identity["salt"]).encode()).hexdigest()
    assert agent.email not in json.dumps(credential) and agent.name not in json.dumps(credential)
    # its links resolve: achievement, image, criteria page, evidence (the public verification page)
    assert client.get(path_of(achievement["id"])).get_json(force=True)["name"] == "Certificación de proceso"
    for url in (achievement["image"]["id"], achievement["criteria"]["id"], credential["evidence"][0]["id"]):
        assert client.get(path_of(url)).status_code == 200, url
    # the same credential (id, salt) on every download
    again = credential_of(client, auth, agent, record)
    assert again["id"] == credential["id"] and again["credentialSubject"] == credential["credentialSubject"]


def test_an_independent_verifier_accepts_it_and_rejects_any_change(client, auth, record, agent, verifier):
    credential = credential_of(client, auth, agent, record)
    assert verifier.verify(credential)
    for change in (lambda c: c.update(name="Certificación de liderazgo"),
                   lambda c: c.update(validFrom="2020-01-01T00:00:00Z"),
                   lambda c: c.update(validUntil="2099-12-31T00:00:00Z"),
                   lambda c: c["credentialSubject"]["achievement"].update(name="Otra cosa"),
                   lambda c: c["credentialSubject"]["identifier"][0].update(identityHash="sha256$" + "0" * 64),
                   lambda c: c["issuer"].update(name="Otra academia"),
                   lambda c: c["proof"].update(created="2020-01-01T00:00:00Z")):
        tampered = copy.deepcopy(credential)
        change(tampered)
        assert not verifier.verify(tampered), tampered


def test_the_site_verifies_it_too_and_says_why_not(app, client, auth, session, record, agent):
    credential = credential_of(client, auth, agent, record)
    verdict = badges.verify_credential(session, credential, issuer=issuer(app), now=now_utc())
    assert verdict.valid and verdict.record.id == record.id
    tampered = {**credential, "name": "Certificación de liderazgo"}
    assert badges.verify_credential(session, tampered, issuer=issuer(app), now=now_utc()).problems == [
        "proof: the signature does not match: the credential was changed after it was signed"]
    # a property no context defines would not be signed: refused rather than ignored
    extra = {**credential, "nota": "10"}
    assert badges.verify_credential(session, extra, issuer=issuer(app), now=now_utc()).problems == [
        "proof: properties not defined by the document's @context: nota"]
    unsigned = {k: v for k, v in credential.items() if k != "proof"}
    assert "not signed" in badges.verify_credential(session, unsigned, issuer=issuer(app), now=now_utc()).problems[0]
    foreign = {**credential, "issuer": {**credential["issuer"], "id": "https://otra.example/issuer"}}
    assert "not by this site" in badges.verify_credential(session, foreign, issuer=issuer(app), now=now_utc()).problems[0]
    later = record.expires_at.replace(year=record.expires_at.year + 1)
    assert badges.verify_credential(session, credential, issuer=issuer(app), now=later).problems == [f"expired on {credential['validUntil']}"]


def test_key_rotation_keeps_old_credentials_verifiable(app, client, auth, session, record, agent, verifier):
    before = credential_of(client, auth, agent, record)
    result = app.test_cli_runner().invoke(args=["badges", "rotate-key"])
    assert result.exit_code == 0, result.output
    assert "2 key(s) published" in result.output
    after = credential_of(client, auth, agent, record)
    assert before["proof"]["verificationMethod"] != after["proof"]["verificationMethod"]
    assert after["proof"]["verificationMethod"] in result.output
    did_document = client.get("/.well-known/did.json").get_json(force=True)  # rotation kept in the did:web document
    assert did_document["assertionMethod"] == [before["proof"]["verificationMethod"], after["proof"]["verificationMethod"]]
    assert verifier.verify(before) and verifier.verify(after)
    assert badges.verify_credential(session, before, issuer=issuer(app), now=now_utc()).valid
    keys = session.query(BadgeSigningKey).order_by(BadgeSigningKey.id).all()
    assert [k.active_marker for k in keys] == [None, 1] and keys[0].retired_at is not None


def test_private_key_is_encrypted_and_a_new_secret_means_a_new_key(session):
    row, _key = badges.active_key(session, secret="secreto-1" * 4, now=now_utc())
    assert row.private_key_pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert badges.active_key(session, secret="secreto-1" * 4, now=now_utc())[0].id == row.id
    replacement, _key = badges.active_key(session, secret="secreto-2" * 4, now=now_utc())
    assert replacement.id != row.id and row.retired_at is not None
    assert [k.public_key for k in badges.published_keys(session)] == [row.public_key, replacement.public_key]


def test_revocation_shows_in_the_signed_status_list(app, client, auth, session, record, agent, admin, verifier):
    credential = credential_of(client, auth, agent, record)
    entry = credential["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry" and entry["statusPurpose"] == "revocation"
    index = int(entry["statusListIndex"])

    def revoked_bit() -> bool:
        response = client.get(path_of(entry["statusListCredential"]))
        assert response.status_code == 200 and response.mimetype == "application/ld+json"
        status_list = response.get_json(force=True)
        assert "BitstringStatusListCredential" in status_list["type"] and verifier.verify(status_list)
        bits = documents.decode_status_list(status_list["credentialSubject"]["encodedList"])
        assert len(bits) * 8 >= documents.STATUS_LIST_MIN_BITS
        return bool(bits[index // 8] & (0x80 >> (index % 8)))

    assert revoked_bit() is False
    certs.revoke(session, record, actor=admin, reason="Fraude en la evaluación", now=now_utc())
    session.commit()
    assert revoked_bit() is True
    assert verifier.verify(credential)  # still the issuer's signature: revocation is a separate check
    assert badges.verify_credential(session, credential, issuer=issuer(app), now=now_utc()).problems == [
        "revoked by the issuer: Fraude en la evaluación"]
    # no new credential for a revoked certificate
    assert download(client, auth, agent, record, status=410).get_data(as_text=True) == "Este certificado fue revocado: no tiene credencial."


def test_status_list_encoding():
    assert documents.decode_status_list(documents.encode_status_list([])) == bytes(16384)
    bits = documents.decode_status_list(documents.encode_status_list([0, 9, 131072]))
    assert len(bits) == 2 * 16384 and bits[0] == 0x80 and bits[1] == 0x40 and bits[16384] == 0x80


@pytest.mark.parametrize("who, status", [("agent", 200), ("manager", 200), ("admin", 200), ("outsider_manager", 404),
                                         ("other_agent", 404), ("trainer", 403)])
def test_who_may_download(client, auth, record, who, status, request, make_user):
    user = make_user("agent") if who == "other_agent" else request.getfixturevalue(who)
    download(client, auth, user, record, status=status)
    auth.login_as(user)
    response = client.get(f"/badges/records/{record.id}/assertion")
    assert response.status_code == (302 if status == 200 else status)


def test_anonymous_downloads_go_to_login(client, record):
    for url in (f"/badges/records/{record.id}/credential.json", f"/badges/records/{record.id}/assertion"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_links_on_the_agents_and_the_managers_pages(client, auth, session, record, agent, manager, admin):
    auth.login_as(agent)
    page = client.get("/certifications").get_data(as_text=True)
    assert f"/badges/records/{record.id}/credential.json" in page and f"/badges/records/{record.id}/assertion" in page
    auth.logout()
    auth.login_as(manager)
    page = client.get(f"/manage/certifications/records/{record.id}").get_data(as_text=True)
    assert f"/badges/records/{record.id}/credential.json" in page
    auth.logout()
    certs.revoke(session, record, actor=admin, reason="Error", now=now_utc())
    session.commit()
    auth.login_as(agent)
    assert "/credential.json" not in client.get("/certifications").get_data(as_text=True)


def test_concurrent_first_downloads_share_one_key_and_one_assertion(databases, tmp_path):
    """Eight requests publish the same record and sign with the first key at once (real threads, a real
    database): one signing key, one assertion, the same id and salt for all."""
    
    from lms.accounts import services as accounts
    from lms.badges.models import BadgeAssertion
    from lms.content import sync
    from lms.core.db import Database, get_db, write_intent
    from sqlalchemy import func, select
    from tests.conftest import TEST_CONTENT, make_test_app

    url = databases.create("badgeconcurrency")
    app = make_test_app(url, tmp_path)
    db = Database(url)
    with app.app_context():
        with db.sessionmaker() as session:
            sync(session, TEST_CONTENT)
            admin = accounts.create_user(session, email="a@example.com", name="A", role="admin")
            agent = accounts.create_user(session, email="b@example.com", name="B", role="agent")
            record = certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Prueba", now=now_utc())
            session.commit()
            record_id = record.id
        def download(_i):
            with app.app_context():
                token = write_intent.set(True)
                try:
                    with db.sessionmaker() as session:
                        try:
                            credential = badges.credential_for(session, certs.get_record(session, record_id), issuer=issuer(app),
                                                               secret=app.config["SECRET_KEY"], now=now_utc())
                            session.commit()
                            return (credential["id"], credential["credentialSubject"]["identifier"][0]["salt"],
                                    credential["proof"]["verificationMethod"])
                        except Exception:
                            session.rollback()
                            raise
                finally:
                    write_intent.reset(token)

        outcomes = run_at_once(download, 8)
        with db.sessionmaker() as session:
            keys = session.scalar(select(func.count()).select_from(BadgeSigningKey))
            assertions = session.scalar(select(func.count()).select_from(BadgeAssertion))
        assert len(outcomes) == 8 and len(set(outcomes)) == 1 and not str(outcomes[0]).startswith("error"), outcomes
        assert keys == 1 and assertions == 1
    db.engine.dispose()
    get_db(app).engine.dispose()


def test_published_3_0_documents_are_json_ld_with_every_term_defined(client, content):
    from lms.badges import integrity

    for url in ("/badges/v3/issuer", "/badges/v3/achievements/proceso", "/badges/v3/status/revocation"):
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "application/ld+json" and response.headers["Access-Control-Allow-Origin"] == "*"
        assert integrity.canonicalize(response.get_json(force=True)), url  # refuses undefined terms and unknown contexts
    assert client.get("/badges/v3/achievements/no-existe").status_code == 404
