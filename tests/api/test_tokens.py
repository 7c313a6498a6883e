"""Token lifecycle: hashed at rest, scoped, revocable, expiring, last use recorded; the admin page and the commands."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from lms.api import services as tokens
from lms.api.models import ApiToken
from lms.core.clock import now_utc
from lms.core.db import get_db
from tests.conftest import make_test_app


def test_the_plain_token_is_not_in_the_database(session, make_token, _transaction):
    secret = make_token(scopes=["users:read"])
    assert secret.startswith("lms_") and len(secret) >= 40
    rows = _transaction.execute(text("SELECT * FROM api_tokens")).mappings().all()
    (row,) = rows
    assert all(secret not in str(value) for value in row.values())
    assert row["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(row["prefix"]) and len(row["prefix"]) < 16


def test_a_token_authenticates_and_its_last_use_is_recorded(api_client, make_token, session, agent):
    secret = make_token(scopes=["users:read"])
    token = session.query(ApiToken).one()
    assert token.last_used_at is None
    response = api_client(secret).get(f"/api/v1/users/{agent.id}")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    session.refresh(token)
    first = token.last_used_at
    assert first is not None and now_utc() - first < timedelta(seconds=30)
    # within a minute the timestamp is not written again
    api_client(secret).get(f"/api/v1/users/{agent.id}")
    session.refresh(token)
    assert token.last_used_at == first
    # a failed request is a use too
    token.last_used_at = first - timedelta(minutes=5)
    session.commit()
    assert api_client(secret).get("/api/v1/users/999999").status_code == 404
    session.refresh(token)
    assert token.last_used_at > first


def _error(response):
    return response.status_code, response.get_json()["error"]["code"]


def test_missing_malformed_and_unknown_tokens_get_401(api_client, make_token, agent):
    make_token()
    anonymous = api_client(None)
    response = anonymous.get("/api/v1/users", valid_request=False)
    assert _error(response) == (401, "unauthorized") and response.headers["WWW-Authenticate"] == 'Bearer realm="lms-api"'
    for header in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer    "):
        response = anonymous.get("/api/v1/users", headers={"Authorization": header}, valid_request=False)
        assert _error(response) == (401, "unauthorized"), header
    for wrong in ("lms_" + "x" * 43, "no-es-un-token"):
        response = api_client(wrong).get("/api/v1/users")
        assert _error(response) == (401, "invalid_token")
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="lms-api", error="invalid_token"'


def test_a_revoked_token_stops_working_at_once(api_client, make_token, session, admin):
    secret = make_token()
    client = api_client(secret)
    assert client.get("/api/v1/teams").status_code == 200
    token = session.query(ApiToken).one()
    assert tokens.revoke_token(session, token, actor=admin, now=now_utc()) is True
    assert tokens.revoke_token(session, token, actor=admin, now=now_utc()) is False
    session.commit()
    response = client.get("/api/v1/teams")
    assert _error(response) == (401, "invalid_token") and "revocó" in response.get_json()["error"]["message"]


def test_an_expired_token_gets_401(api_client, make_token, session):
    secret = make_token(expires_at=now_utc() + timedelta(hours=1))
    assert api_client(secret).get("/api/v1/teams").status_code == 200
    token = session.query(ApiToken).one()
    token.expires_at = now_utc() - timedelta(seconds=1)
    session.commit()
    response = api_client(secret).get("/api/v1/teams")
    assert _error(response) == (401, "invalid_token") and "caducó" in response.get_json()["error"]["message"]
    with pytest.raises(Exception, match="futura"):
        tokens.create_token(session, name="Vieja", scopes=["users:read"], expires_at=now_utc(), created_by=None, now=now_utc())


def test_a_token_without_the_scope_gets_403(api_client, make_token, agent):
    client = api_client(make_token(scopes=["users:read"]))
    assert client.get("/api/v1/users").status_code == 200
    response = client.post("/api/v1/users", json={"email": "x@example.com", "name": "X", "role": "agent"})
    assert _error(response) == (403, "insufficient_scope")
    assert response.get_json()["error"]["details"] == {"required_scope": "users:write"}
    assert 'error="insufficient_scope", scope="users:write"' in response.headers["WWW-Authenticate"]
    assert _error(client.get("/api/v1/certifications")) == (403, "insufficient_scope")


def test_a_browser_session_does_not_authenticate_the_api(client, auth, admin):
    auth.login_as(admin)
    assert client.get("/manage/api-tokens/").status_code == 200  # signed in…
    response = client.get("/api/v1/users")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"  # …but not for the API
    assert client.post("/api/v1/teams", json={"name": "Por cookie"}).status_code == 401


def test_scopes_are_checked_when_created(session):
    with pytest.raises(Exception, match="Permisos desconocidos: users:delete"):
        tokens.create_token(session, name="X", scopes="users:read,users:delete", expires_at=None, created_by=None, now=now_utc())
    with pytest.raises(Exception, match="al menos un permiso"):
        tokens.create_token(session, name="X", scopes=" , ", expires_at=None, created_by=None, now=now_utc())
    new = tokens.create_token(session, name="X", scopes="progress:read, users:read,users:read", expires_at=None, created_by=None,
                              now=now_utc())
    assert new.token.scopes == ["users:read", "progress:read"]


# The admin page ------------------------------------------------------------------------------------

def test_admin_creates_sees_once_and_revokes_a_token(client, auth, admin, api_client):
    auth.login_as(admin)
    page = client.get("/manage/api-tokens/")
    assert page.status_code == 200 and "Todavía no hay tokens" in page.get_data(as_text=True)
    response = client.post("/manage/api-tokens/", data={"name": "BI semanal", "scopes": ["progress:read", "results:read"],
                                                        "expires_on": (now_utc() + timedelta(days=30)).date().isoformat()})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "no se volverá a mostrar" in html
    secret = re.search(r'value="(lms_[A-Za-z0-9_-]+)"', html).group(1)
    assert api_client(secret).get("/api/v1/progress").status_code == 200
    assert api_client(secret).get("/api/v1/users").status_code == 403
    listing = client.get("/manage/api-tokens/").get_data(as_text=True)
    assert "BI semanal" in listing and secret[:10] in listing and secret not in listing
    token_id = int(re.search(r"/manage/api-tokens/(\d+)/revoke", listing).group(1))
    assert client.post(f"/manage/api-tokens/{token_id}/revoke", follow_redirects=True).status_code == 200
    assert api_client(secret).get("/api/v1/progress").status_code == 401
    assert "Revocado" in client.get("/manage/api-tokens/").get_data(as_text=True)


def test_admin_page_reports_bad_input(client, auth, admin):
    auth.login_as(admin)
    html = client.post("/manage/api-tokens/", data={"name": "", "expires_on": "2020-01-01"}).get_data(as_text=True)
    assert "Elige al menos un permiso" in html and "lms_" not in html
    html = client.post("/manage/api-tokens/", data={"name": "Pasado", "scopes": ["users:read"], "expires_on": "2020-01-01"},
                       follow_redirects=True).get_data(as_text=True)
    assert "debe ser futura" in html and "value=\"lms_" not in html


# The commands ---------------------------------------------------------------------------------------

def test_token_commands(app, session, api_client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["api", "create-token", "--name", "Nóminas", "--scopes", "users:read,teams:read",
                                 "--expires-in-days", "30"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("lms_") and "\n" not in secret and "users:read,teams:read" in result.stderr
    assert api_client(secret).get("/api/v1/teams").status_code == 200
    listing = runner.invoke(args=["api", "list-tokens"])
    token_id = listing.output.split("\t", 1)[0]
    assert "active" in listing.output and "Nóminas" in listing.output and secret not in listing.output
    assert "used 20" in listing.output  # the call above was recorded
    revoked = runner.invoke(args=["api", "revoke-token", token_id])
    assert revoked.exit_code == 0 and "revoked token" in revoked.output
    assert api_client(secret).get("/api/v1/teams").status_code == 401
    assert "revoked" in runner.invoke(args=["api", "list-tokens"]).output
    assert "already revoked" in runner.invoke(args=["api", "revoke-token", token_id]).output
    assert runner.invoke(args=["api", "revoke-token", "999999"]).exit_code != 0
    bad = runner.invoke(args=["api", "create-token", "--name", "X", "--scopes", "todo"])
    assert bad.exit_code != 0 and "Permisos desconocidos: todo" in bad.output
    dated = runner.invoke(args=["api", "create-token", "--name", "Fecha", "--scopes", "users:read", "--expires-on", "2099-12-31"])
    assert dated.exit_code == 0 and "expires 2100-01-01 00:00 UTC" in dated.stderr


# CSRF ------------------------------------------------------------------------------------------------

def test_api_writes_need_no_csrf_token_but_the_admin_page_does(databases, tmp_path):
    """With CSRF protection on (as in production): the token-authenticated API is exempt, the admin form is not."""
    from lms.accounts import services as accounts

    app = make_test_app(databases.create("apicsrf"), tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context(), get_db(app).sessionmaker() as session:
        admin = accounts.create_user(session, email="csrf-admin@example.com", name="Admin", role="admin", password="frase muy larga 1")
        secret = tokens.create_token(session, name="HR", scopes=["teams:write"], expires_at=None, created_by=admin, now=now_utc()).secret
        session.commit()
    client = app.test_client()
    response = client.post("/api/v1/teams", json={"name": "Sin CSRF"}, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 201, response.get_data(as_text=True)
    login = client.get("/login").get_data(as_text=True)
    csrf_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    assert client.post("/login", data={"email": "csrf-admin@example.com", "password": "frase muy larga 1", "csrf_token": csrf_token}).status_code == 302
    forged = client.post("/manage/api-tokens/", data={"name": "Forjado", "scopes": ["users:read"]})
    assert forged.status_code == 400 and "Forjado" not in client.get("/manage/api-tokens/").get_data(as_text=True)
