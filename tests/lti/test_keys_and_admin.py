"""The tool's keys (JWKS, rotation), platform registration (service, CLI, admin page) and the headers
LTI pages need inside a platform's iframe."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from jwcrypto.jwk import JWK

from lms.core.clock import now_utc
from lms.core.errors import Conflict, InvalidInput
from lms.lti import services
from lms.lti.models import LtiPlatform
from lms.lti.tool import DatabaseCache

PLATFORM = dict(name="Moodle", issuer="https://moodle.example.com", client_id="abc123",
                auth_login_url="https://moodle.example.com/mod/lti/auth.php",
                auth_token_url="https://moodle.example.com/mod/lti/token.php",
                key_set_url="https://moodle.example.com/mod/lti/certs.php", deployment_ids="1, 2")


def test_jwks_publishes_the_active_key_and_recently_retired_ones(session, client):
    now = now_utc()
    first = services.active_key(session, now=now)
    session.commit()
    body = client.get("/lti/jwks.json").get_json()
    assert [k["kid"] for k in body["keys"]] == [first.kid]
    key = body["keys"][0]
    assert key["alg"] == "RS256" and key["use"] == "sig" and "d" not in key  # public only
    assert JWK(**key).thumbprint() == first.kid

    second = services.rotate_key(session, now=now)
    session.commit()
    assert services.active_key(session, now=now).id == second.id
    kids = [k["kid"] for k in client.get("/lti/jwks.json").get_json()["keys"]]
    assert kids == [second.kid, first.kid]
    later = services.jwks(session, now=now + timedelta(days=31), retention_days=30)
    assert [k["kid"] for k in later["keys"]] == [second.kid]


def test_cli_rotate_and_show_config(app, session):
    runner = app.test_cli_runner()
    before = services.active_key(session, now=now_utc()).kid
    session.commit()
    result = runner.invoke(args=["lti", "rotate-key"])
    assert result.exit_code == 0, result.output
    shown = runner.invoke(args=["lti", "show-config", "--json"])
    data = json.loads(shown.output)
    assert data["kid"] != before and data["kid"] in result.output
    assert data["login_initiation_url"].endswith("/lti/login") and data["jwks_url"].endswith("/lti/jwks.json")
    assert data["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert data["public_jwk"]["kid"] == data["kid"]


def test_cli_register_platform_creates_then_updates(app, session, tmp_path):
    runner = app.test_cli_runner()
    args = ["lti", "register-platform", "--issuer", "https://canvas.example.com", "--client-id", "10000000000001",
            "--deployment-id", "d1", "--login-url", "https://sso.canvaslms.example.com/api/lti/authorize_redirect",
            "--token-url", "https://sso.canvaslms.example.com/login/oauth2/token",
            "--jwks-url", "https://sso.canvaslms.example.com/api/lti/security/jwks"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0 and "registered platform" in result.output, result.output
    result = runner.invoke(args=args + ["--deployment-id", "d2", "--name", "Canvas"])
    assert result.exit_code == 0 and "updated platform" in result.output and "d1, d2" in result.output
    bad = runner.invoke(args=["lti", "register-platform", "--issuer", "x", "--client-id", "y", "--deployment-id", "1",
                              "--login-url", "ftp://nope", "--token-url", "https://t.example.com"])
    assert bad.exit_code != 0 and "URL http(s)" in bad.output


def test_platform_validation(session):
    now = now_utc()
    with pytest.raises(InvalidInput, match="JWKS"):
        services.save_platform(session, None, **dict(PLATFORM, key_set_url=""), now=now)
    with pytest.raises(InvalidInput, match="deployment_id"):
        services.save_platform(session, None, **dict(PLATFORM, deployment_ids=" , "), now=now)
    with pytest.raises(InvalidInput, match="PEM"):
        services.save_platform(session, None, **dict(PLATFORM, key_set_url="", public_key_pem="no es una clave"), now=now)
    private = JWK.generate(kty="RSA", size=2048).export_to_pem(private_key=True, password=None).decode()
    with pytest.raises(InvalidInput, match="privada"):
        services.save_platform(session, None, **dict(PLATFORM, key_set_url="", public_key_pem=private), now=now)
    platform = services.save_platform(session, None, **PLATFORM, now=now)
    assert [d.deployment_id for d in platform.deployments] == ["1", "2"]
    assert services.frame_origins(platform) == ["https://moodle.example.com"]
    with pytest.raises(Conflict):
        services.save_platform(session, None, **PLATFORM, now=now)


def test_admin_page_shows_the_values_to_enter_and_registers_platforms(client, auth, admin, session):
    auth.login_as(admin)
    page = client.get("/manage/lti")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    for needle in ("/lti/login", "/lti/launch", "/lti/jwks.json", "-----BEGIN PUBLIC KEY-----", "&#34;kty&#34;: &#34;RSA&#34;"):
        assert needle in text, needle
    form = dict(PLATFORM, frame_origins="https://moodle.example.com https://cdn.moodle.example.com/x")
    response = client.post("/manage/lti", data=form)
    assert response.status_code == 302
    platform = session.query(LtiPlatform).filter_by(issuer=PLATFORM["issuer"]).one()
    assert platform.frame_origins == "https://moodle.example.com https://cdn.moodle.example.com"
    edit = client.get(f"/manage/lti?edit={platform.id}").get_data(as_text=True)
    assert 'value="abc123"' in edit and 'value="1, 2"' in edit
    response = client.post(f"/manage/lti?edit={platform.id}", data=dict(form, deployment_ids="3", name="Moodle 2"))
    assert response.status_code == 302
    session.expire_all()
    assert platform.name == "Moodle 2" and [d.deployment_id for d in platform.deployments] == ["3"]
    bad = client.post("/manage/lti", data=dict(form, client_id="otro", auth_login_url="no-url"))
    assert bad.status_code == 200 and "URL http(s) completa" in bad.get_data(as_text=True)


def test_pages_outside_lti_keep_the_strict_framing_headers(client):
    response = client.get("/login")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_embedded_session_cookie_is_samesite_none_over_https(app):
    from flask import request

    from lms.core.security import EMBED_SESSION_KEY

    def cookie(base_url: str, embedded: bool) -> str:
        with app.test_request_context("/", base_url=base_url):
            interface = app.session_interface
            sess = interface.open_session(app, request)
            sess["x"] = 1
            if embedded:
                sess[EMBED_SESSION_KEY] = ["https://moodle.example.com"]
            response = app.response_class("ok")
            interface.save_session(app, sess, response)
            return response.headers["Set-Cookie"]

    embedded = cookie("https://academia.example.com", True)
    assert "SameSite=None" in embedded and "Secure" in embedded and "Partitioned" in embedded
    assert "SameSite=Lax" in cookie("https://academia.example.com", False)
    plain = cookie("http://academia.example.com", True)  # browsers refuse SameSite=None without Secure
    assert "SameSite=Lax" in plain and "Partitioned" not in plain


def test_nonces_are_single_use_and_expire(session):
    now = now_utc()
    cache = DatabaseCache(session, now)
    cache.set("lti1p3-nonce-abc", True, 60)
    assert cache.get("lti1p3-nonce-abc") is True
    assert cache.consume("lti1p3-nonce-abc") is True
    assert cache.consume("lti1p3-nonce-abc") is False
    cache.set("lti1p3-nonce-old", True, 60)
    later = DatabaseCache(session, now + timedelta(seconds=61))
    assert later.get("lti1p3-nonce-old") is None and later.consume("lti1p3-nonce-old") is False
    assert later.purge_expired() >= 1


def test_admin_page_shows_the_grade_sync_status(client, auth, admin, agent, session):
    from lms.core import outbox

    outbox.enqueue(session, kind="lti-score", dedupe_key="lti-score:test:1", now=now_utc(), payload={
        "user_id": agent.id, "label": "Evaluación A", "score_given": 80.0, "score_maximum": 100})
    message = session.query(outbox.OutboxMessage).filter_by(dedupe_key="lti-score:test:1").one()
    message.attempts, message.last_error = 2, "RuntimeError: the platform refused the score: 503"
    from lms.lti.models import LtiContext

    platform = services.save_platform(session, None, **PLATFORM, now=now_utc())
    session.add(LtiContext(platform_id=platform.id, context_id="c-1", title="Curso con roster",
                           memberships_url="https://moodle.example.com/nrps/1"))
    session.commit()
    auth.login_as(admin)
    text = client.get("/manage/lti").get_data(as_text=True)
    assert "Curso con roster" in text and "Importar participantes como equipo" in text
    assert "Envío de notas" in text and "Lucía Agente" in text and "Evaluación A" in text and "80 / 100" in text
    assert "Pendiente" in text and "refused the score: 503" in text
    refused = client.post("/manage/lti/roster", data={"context_id": "x"})
    assert refused.status_code == 400
    missing = client.post("/manage/lti/roster", data={"context_id": "999999"}, follow_redirects=True)
    assert "Ese curso LTI no existe" in missing.get_data(as_text=True)


def test_role_mapping():
    lis = "http://purl.imsglobal.org/vocab/lis/v2/"

    def role(*roles, trust=False):
        return services.map_role({services.CLAIM + "roles": list(roles)}, trust_platform_admins=trust)

    assert role(lis + "membership#Learner") == "agent"
    assert role(lis + "membership/Instructor#TeachingAssistant") == "trainer"
    assert role(lis + "membership#ContentDeveloper", lis + "membership#Learner") == "trainer"  # the highest wins
    assert role(lis + "membership#Mentor") == "manager"
    assert role("Instructor") == "trainer"  # the short context form
    # Canvas sends institution roles that do not apply in the course: context roles win
    assert role(lis + "institution/person#Administrator", lis + "membership#Learner", trust=True) == "agent"
    assert role(lis + "institution/person#Administrator") == "trainer"
    assert role(lis + "institution/person#Administrator", trust=True) == "admin"
    assert role(lis + "system/person#SysAdmin", trust=True) == "admin"
    assert role() == "agent" and role("urn:unknown") == "agent"
