"""Open Badges 2.0: the issuer Profile, BadgeClass, hosted Assertion and RevocationList, over HTTP."""
from __future__ import annotations

import hashlib
import json
from xml.etree import ElementTree as ET

from pyld.jsonld import JsonLdProcessor
from pyld.documentloader.frozen import FrozenDocumentLoader

from lms.badges import services as badges
from lms.certification import services as certs
from lms.core.clock import now_utc
from tests.badges.conftest import HERE, path_of, schema_errors

OB2 = "https://w3id.org/openbadges/v2"
_OB2_LOADER = FrozenDocumentLoader(documents={OB2: HERE / "vectors" / "openbadges-v2-context.json"})


def get_json(client, url, status=200, **headers):
    response = client.get(path_of(url), headers=headers)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:300])
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return response, json.loads(response.get_data(as_text=True))


def undefined_terms(document: dict) -> list[str]:
    """Properties the Open Badges 2.0 context does not define (JSON-LD processors would drop them)."""
    dropped: list[str] = []
    JsonLdProcessor(on_property_dropped=lambda p: dropped.append(str(p))).expand(document, {"documentLoader": _OB2_LOADER})
    return dropped


def published(client, auth, user, record):
    """What the agent's "Open Badge 2.0" link leads to: the hosted assertion's URL."""
    auth.login_as(user)
    response = client.get(f"/badges/records/{record.id}/assertion")
    assert response.status_code == 302
    auth.logout()
    return response.headers["Location"]


def test_issuer_profile(client):
    response, issuer = get_json(client, "/badges/v2/issuer")
    assert response.mimetype == "application/ld+json"
    assert schema_errors(issuer, "ob2-issuer.json") == [] and undefined_terms(issuer) == []
    assert undefined_terms({**issuer, "telefono": "+34"}) == ["telefono"]  # the check does find what the context lacks
    assert issuer["id"] == "http://127.0.0.1:5000/badges/v2/issuer"  # PUBLIC_URL, whatever host the request used
    assert issuer["name"] == "Academia de Atención" and issuer["email"] == "academia@localhost"
    # a client that asks only for JSON gets JSON (Open Badges 2.0, "Setting Content-Type")
    response, _ = get_json(client, "/badges/v2/issuer", Accept="application/json")
    assert response.mimetype == "application/json"


def test_badge_class_with_criteria_image_and_issuer_that_resolve(client, content):
    _, badge_class = get_json(client, "/badges/v2/classes/proceso")
    assert schema_errors(badge_class, "ob2-badgeclass.json") == [] and undefined_terms(badge_class) == []
    assert badge_class["name"] == "Certificación de proceso"
    narrative = badge_class["criteria"]["narrative"]
    for line in ("- Aprobar la evaluación «Evaluación de la semana A»\n", "- Completar los módulos: Semana A\n",
                 "- Un role-play calificado con al menos 75 % en uno de estos: «Un pedido retrasado»\n", "válida 12 meses",
                 "Se renueva con una recertificación que se abre 60 días antes"):
        assert line in narrative, narrative
    get_json(client, badge_class["issuer"])
    page = client.get(path_of(badge_class["criteria"]["id"]))
    assert page.status_code == 200 and "Certificación de proceso" in page.get_data(as_text=True)
    image = client.get(path_of(badge_class["image"]))
    assert image.status_code == 200 and image.mimetype == "image/svg+xml"
    svg = ET.fromstring(image.data)
    assert svg.tag == "{http://www.w3.org/2000/svg}svg" and svg.find("{http://www.w3.org/2000/svg}title").text == "Certificación de proceso"
    assert client.get("/badges/v2/classes/no-existe").status_code == 404
    assert client.get("/badges/images/no-existe.svg").status_code == 404


def test_hosted_assertion_for_the_right_recipient(client, auth, session, record, agent, make_user):
    url = published(client, auth, agent, record)
    response, assertion = get_json(client, url)
    assert response.mimetype == "application/ld+json"
    assert schema_errors(assertion, "ob2-assertion.json") == [] and undefined_terms(assertion) == []
    assert assertion["id"] == url and assertion["verification"] == {"type": "hosted"}
    assert assertion["issuedOn"] == record.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert assertion["expires"] == record.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    # the hashed recipient checks out for the agent's e-mail, and not for anyone else's
    recipient = assertion["recipient"]
    assert recipient["hashed"] is True and recipient["type"] == "email" and len(recipient["salt"]) >= 16
    expected = "sha256$" + hashlib.sha256((agent.email + recipient["salt"]).encode()).hexdigest()
    assert recipient["identity"] == expected
    other = make_user("agent")
    assert recipient["identity"] != "sha256$" + hashlib.sha256((other.email + recipient["salt"]).encode()).hexdigest()
    assert agent.email not in json.dumps(assertion)
    # the badge, its issuer and the evidence (the public verification page) all resolve
    _, badge_class = get_json(client, assertion["badge"])
    assert badge_class["issuer"].startswith("http://127.0.0.1:5000/")
    (evidence,) = assertion["evidence"]
    assert evidence["id"].endswith(f"/verify/{record.code}") and client.get(path_of(evidence["id"])).status_code == 200
    # published once: the same URL and salt ever after (and a different salt for another record)
    assert published(client, auth, agent, record) == url
    _, again = get_json(client, url)
    assert again["recipient"] == recipient
    second = certs.issue_manually(session, certs.get_definition(session, "proceso"), other, actor=make_user("admin"), reason="Prueba", now=now_utc())
    assert badges.publish(session, second, now=now_utc()).salt != recipient["salt"]


def test_unknown_assertion(client):
    response, body = get_json(client, "/badges/v2/assertions/no-existe", status=404)
    assert body == {"error": "no such assertion"}


def test_revoked_assertion_answers_410_and_is_listed(client, auth, session, record, agent, admin):
    url = published(client, auth, agent, record)
    _, before = get_json(client, "/badges/v2/revocations")
    assert schema_errors(before, "ob2-revocation-list.json") == [] and before["revokedAssertions"] == []
    certs.revoke(session, record, actor=admin, reason="Evidencia anulada", now=now_utc())
    session.commit()

    response, revoked = get_json(client, url, status=410)
    assert response.mimetype == "application/ld+json"
    assert revoked["revoked"] is True and revoked["revocationReason"] == "Evidencia anulada" and revoked["id"] == url
    assert schema_errors(revoked, "ob2-revoked-assertion.json") == [] and undefined_terms(revoked) == []
    assert record.code not in json.dumps(revoked)

    _, listed = get_json(client, "/badges/v2/revocations")
    assert schema_errors(listed, "ob2-revocation-list.json") == [] and undefined_terms(listed) == []
    assert listed["revokedAssertions"] == [{"id": url, "revocationReason": "Evidencia anulada"}]
    _, issuer = get_json(client, listed["issuer"])
    assert issuer["revocationList"] == listed["id"]
    # the public list names assertions by their opaque id, never by the verification code (which shows the name)
    assert record.code not in json.dumps(listed)

    certs.reinstate(session, record, actor=admin, reason="Error", now=now_utc())
    session.commit()
    get_json(client, url, status=200)
    assert get_json(client, "/badges/v2/revocations")[1]["revokedAssertions"] == []
