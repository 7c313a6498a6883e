"""LTI Dynamic Registration against the platform harness's Moodle-like /.well-known/openid-configuration and
/register endpoints, over real HTTP; then a launch with the registration the platform handed out."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import select

from lms.core.clock import now_utc
from lms.core.db import write_intent
from lms.lti import registration
from lms.lti.models import LtiPlatform, LtiRegistrationInvitation
from tests.lti.conftest import error_text

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def _invitation(db_session, now=None) -> str:
    token, _inv = registration.create_invitation(db_session, created_by_id=None, now=now or now_utc())
    db_session.commit()
    return token


def _open(browser, platform_server, path: str, **dynreg):
    """What the platform does with the URL its admin pasted: open it with its configuration URL and a token."""
    token = "reg-" + uuid.uuid4().hex
    config_url = platform_server.control("dynreg", token=token, **dynreg)["openid_configuration"]
    query = urlencode({"openid_configuration": config_url, "registration_token": token})
    return browser.http.get(f"{browser.tool_url}{path}?{query}", timeout=30)


def test_registration_by_invitation_registers_the_platform_and_launches_work(platform_server, browser, db_session):
    token = _invitation(db_session)
    page = _open(browser, platform_server, f"/lti/register/{token}")
    assert page.status_code == 200, error_text(page)
    assert "Registro LTI completado" in page.text and "/static/js/lti-register.js" in page.text
    assert "<script>" not in page.text  # no inline script: the CSP forbids it
    assert f"frame-ancestors 'self' {platform_server.url}" in page.headers["Content-Security-Policy"]
    script = browser.http.get(browser.tool_url + "/static/js/lti-register.js", timeout=10).text
    assert 'postMessage({subject: "org.imsglobal.lti.close"}' in script

    state = platform_server.state()
    sent = state["registrations"][-1]
    tool = sent["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    assert sent["initiate_login_uri"] == browser.tool_url + "/lti/login"
    assert sent["redirect_uris"] == [browser.tool_url + "/lti/launch"]
    assert sent["jwks_uri"] == browser.tool_url + "/lti/jwks.json"
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in sent["scope"].split()
    assert "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly" in sent["scope"].split()
    assert tool["domain"] == browser.tool_url.split("://", 1)[1] and tool["target_link_uri"] == browser.tool_url + "/lti/launch"
    assert {"type": "LtiDeepLinkingRequest", "target_link_uri": browser.tool_url + "/lti/launch"}.items() <= tool["messages"][0].items()
    assert "email" in tool["claims"] and "custom_parameters" in tool

    db_session.rollback()  # a fresh snapshot: the site wrote in its own transactions
    row = db_session.scalar(select(LtiPlatform).where(LtiPlatform.client_id == state["client_id"]))
    assert row is not None and row.issuer == platform_server.url and row.name.startswith("Moodle")
    assert [d.deployment_id for d in row.deployments] == [state["deployment_id"]]
    assert (row.auth_login_url, row.auth_token_url, row.key_set_url) == (
        f"{platform_server.url}/auth", f"{platform_server.url}/token", f"{platform_server.url}/jwks")
    assert row.auto_enroll is True
    invitation = db_session.scalar(select(LtiRegistrationInvitation).where(LtiRegistrationInvitation.platform_id == row.id))
    assert invitation is not None and invitation.used_at is not None
    assert token not in (invitation.token_hash or "")  # only the hash is kept

    # the platform now launches with the client_id and deployment it handed out
    landed = browser.launch(platform_server, user_id="dyn-" + uuid.uuid4().hex[:6], roles=[LEARNER], name="Dina",
                            resource_link_id="rl-dyn-" + uuid.uuid4().hex[:6], custom={"target": "roleplay:chat-retraso"})
    assert landed.status_code == 200 and "Dina" in landed.text, error_text(landed)

    again = _open(browser, platform_server, f"/lti/register/{token}")  # single use
    assert again.status_code == 400 and "ya se ha usado" in error_text(again)


def test_expired_and_unknown_invitations_are_refused(platform_server, browser, db_session):
    expired = _invitation(db_session, now=now_utc() - registration.INVITATION_LIFETIME - timedelta(minutes=1))
    before = len(platform_server.state()["registrations"])
    response = _open(browser, platform_server, f"/lti/register/{expired}")
    assert response.status_code == 400 and "ha caducado" in error_text(response)
    unknown = _open(browser, platform_server, "/lti/register/" + "x" * 43)
    assert unknown.status_code == 400 and "no es válido" in error_text(unknown)
    assert len(platform_server.state()["registrations"]) == before  # nothing was sent to the platform


def test_without_invitation_or_admin_session_nothing_happens(platform_server, browser):
    response = _open(browser, platform_server, "/lti/register")
    assert response.status_code == 200 and "/login" in response.url  # sent to sign in as an admin


def test_issuer_on_another_origin_is_refused_and_the_invitation_stays_usable(platform_server, browser, db_session):
    token = _invitation(db_session)
    before = len(platform_server.state()["registrations"])
    refused = _open(browser, platform_server, f"/lti/register/{token}", issuer="https://moodle.example.com")
    assert refused.status_code == 502
    assert "no está en el mismo origen" in error_text(refused) and "https://moodle.example.com" in error_text(refused)
    assert len(platform_server.state()["registrations"]) == before
    db_session.rollback()  # a fresh snapshot: the site wrote in its own transactions
    assert db_session.scalar(select(LtiPlatform).where(LtiPlatform.issuer == "https://moodle.example.com")) is None

    ok = _open(browser, platform_server, f"/lti/register/{token}")  # a failed attempt did not use it up
    assert ok.status_code == 200, error_text(ok)


def test_platform_errors_are_reported(platform_server, browser, db_session):
    token = _invitation(db_session)
    failed = _open(browser, platform_server, f"/lti/register/{token}", fail="redirect_uris not allowed")
    assert failed.status_code == 502
    text = error_text(failed)
    assert "ha rechazado el registro" in text and "HTTP 400" in text and "redirect_uris not allowed" in text

    no_config = browser.http.get(f"{browser.tool_url}/lti/register/{token}", timeout=30)
    assert no_config.status_code == 400 and "openid_configuration" in error_text(no_config)

    # Canvas creates the deployment when the app is installed: registered without one, the admin is told to add it
    without = _open(browser, platform_server, f"/lti/register/{token}", no_deployment=True)
    assert without.status_code == 200 and "no ha indicado el ID de despliegue" in without.text
    db_session.rollback()
    row = db_session.scalar(select(LtiPlatform).where(LtiPlatform.client_id == platform_server.state()["client_id"]))
    assert row is not None and row.deployments == []


def test_admin_signed_in_registers_and_the_page_offers_invitations(platform_server, client, auth, admin, session):
    auth.login_as(admin)
    page = client.get("/manage/lti").get_data(as_text=True)
    assert "/lti/register</code>" in page and "Crear un enlace de registro" in page
    created = client.post("/manage/lti/invitations").get_data(as_text=True)
    url = re.search(r'<pre id="lti-invitation-url">([^<]+)</pre>', created).group(1)
    token = url.rsplit("/", 1)[1]
    stored = session.scalars(select(LtiRegistrationInvitation)).all()
    assert [i.token_hash for i in stored] == [registration._hash(token)]  # noqa: SLF001
    assert stored[0].expires_at - stored[0].created_at == timedelta(hours=1)

    reg_token = "reg-" + uuid.uuid4().hex
    config_url = platform_server.control("dynreg", token=reg_token)["openid_configuration"]
    before = len(platform_server.state()["registrations"])
    query = {"openid_configuration": config_url, "registration_token": reg_token}
    confirm = client.get("/lti/register", query_string=query)  # a GET (a planted link) registers nothing
    assert confirm.status_code == 200 and config_url in confirm.get_data(as_text=True)
    assert len(platform_server.state()["registrations"]) == before
    try:
        response = client.post("/lti/register", data=query)
    finally:  # the view (run in this thread by the test client) asks for SQLite's write lock; later tests must not inherit that
        write_intent.set(False)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert "Registro LTI completado" in response.get_data(as_text=True)
    client_id = platform_server.state()["client_id"]
    assert session.scalar(select(LtiPlatform).where(LtiPlatform.client_id == client_id)) is not None


def test_cli_invite_and_the_auto_enroll_flag(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["lti", "invite"])
    assert result.exit_code == 0, result.output
    url = result.stdout.strip()
    assert re.fullmatch(r"https?://[^ ]+/lti/register/[\w-]{40,}", url), url
    assert session.scalar(select(LtiRegistrationInvitation).where(
        LtiRegistrationInvitation.token_hash == registration._hash(url.rsplit("/", 1)[1]))) is not None  # noqa: SLF001

    args = ["lti", "register-platform", "--issuer", "https://moodle.cli.example.com", "--client-id", "cli-1",
            "--deployment-id", "1", "--login-url", "https://moodle.cli.example.com/auth",
            "--token-url", "https://moodle.cli.example.com/token", "--jwks-url", "https://moodle.cli.example.com/jwks"]
    assert runner.invoke(args=args + ["--no-auto-enroll"]).exit_code == 0
    row = session.scalar(select(LtiPlatform).where(LtiPlatform.client_id == "cli-1"))
    assert row.auto_enroll is False
    assert runner.invoke(args=args).exit_code == 0  # an update without the flag keeps the setting
    session.expire_all()
    assert session.get(LtiPlatform, row.id).auto_enroll is False
    assert runner.invoke(args=args + ["--auto-enroll"]).exit_code == 0
    session.expire_all()
    assert session.get(LtiPlatform, row.id).auto_enroll is True
