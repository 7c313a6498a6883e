"""Sessions: a fresh session at sign-in, idle and absolute limits on the server, no remember-me, cookie flags,
and the client address behind a reverse proxy."""
from datetime import datetime, timedelta, timezone

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import select

from lms import config
from lms.accounts.models import LoginAttempt
from lms.core import clock
from lms.core.db import get_db
from lms.core.security import AUTH_AT, EMBED_SESSION_KEY, SEEN_AT, session_expiry
from tests.conftest import PASSWORD, make_test_app

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
IDLE = "Tu sesión ha caducado por inactividad (120 min sin actividad). Vuelve a iniciar sesión."
ABSOLUTE = "Tu sesión ha caducado: dura como máximo 12 h desde que inicias sesión. Vuelve a iniciar sesión."


class FrozenClock:
    def __init__(self, now):
        self.now = now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def frozen(monkeypatch):
    """Freezes the clock the session limits read (lms.core.clock.now_utc)."""
    frozen = FrozenClock(T0)
    monkeypatch.setattr(clock, "now_utc", lambda: frozen.now)
    return frozen


def page(response) -> str:
    return response.get_data(as_text=True)


# -- a fresh session at sign-in (no fixation) ---------------------------------------------------

def test_sign_in_starts_a_fresh_session(app, client, auth, agent):
    client.get("/login")
    with client.session_transaction() as sess:  # what an attacker could have planted before the sign-in
        sess["planted"] = "by someone else"
        sess[EMBED_SESSION_KEY] = ["https://evil.example"]
    before = client.get_cookie("session").value
    auth.login_as(agent)
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as sess:
        assert "planted" not in sess and EMBED_SESSION_KEY not in sess
        assert sess["_user_id"] == f"{agent.id}:{agent.session_version}"  # the server-side session version
        assert isinstance(sess[AUTH_AT], int) and sess[SEEN_AT] == sess[AUTH_AT]
    # the cookie from before the sign-in is still anonymous
    other = app.test_client()
    other.set_cookie("session", before)
    response = other.get("/account")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# -- idle and absolute limits -------------------------------------------------------------------

def test_the_limits_rule():
    rule = dict(idle_minutes=120, absolute_hours=12)
    start = 1_000_000
    assert session_expiry(start, start, start + 120 * 60, **rule) is None  # exactly the limit: still valid
    assert session_expiry(start, start, start + 120 * 60 + 1, **rule) == "idle"
    assert session_expiry(start, start + 11 * 3600, start + 12 * 3600 + 1, **rule) == "absolute"
    assert session_expiry(None, start, start, **rule) == "unknown"
    assert session_expiry(start, "x", start, **rule) == "unknown"


def test_an_idle_session_ends_and_the_login_keeps_the_page(client, auth, agent, frozen):
    auth.login_as(agent)
    frozen.advance(minutes=119)
    assert client.get("/account").status_code == 200  # activity…
    frozen.advance(minutes=119)
    assert client.get("/account?tab=1").status_code == 200  # …restarts the idle count
    frozen.advance(minutes=121)
    response = client.get("/account?tab=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/account?tab%3D1"
    login_page = client.get(response.headers["Location"])
    assert IDLE in page(login_page)
    with client.session_transaction() as sess:
        assert "_user_id" not in sess
    # signing in again goes back to the page
    response = client.post(response.headers["Location"], data={"email": agent.email, "password": PASSWORD})
    assert response.headers["Location"] == "/account?tab=1"
    assert client.get("/account").status_code == 200


def test_a_cookie_replayed_after_the_idle_limit_is_refused(app, client, auth, agent, frozen):
    auth.login_as(agent)
    stolen = client.get_cookie("session").value
    frozen.advance(minutes=100)
    assert client.get("/account").status_code == 200  # the owner stays active; the stolen copy does not
    frozen.advance(minutes=30)
    assert client.get("/account").status_code == 200
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/account").status_code == 302


@pytest.fixture
def practice_attempt(session, content, agent, manager):
    """A quiz attempt in progress (started before the clock is frozen: the quiz's own timer runs on real time)."""
    from datetime import date

    from lms.tracks import services as tracks
    from lms.quizzes import services as quizzes

    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"),
                  start_date=date(2026, 1, 5), now=clock.now_utc())
    attempt = quizzes.start_attempt(session, agent, quizzes.get_quiz(session, "evaluacion-a"), now=clock.now_utc())
    session.commit()
    return attempt


def test_quiz_auto_saves_keep_the_session_alive(client, auth, agent, practice_attempt, frozen):
    auth.login_as(agent)
    save = f"/attempts/{practice_attempt.id}/save"
    headers = {"X-Requested-With": "fetch", "Accept": "application/json"}
    for _ in range(5):  # 5 × 100 min on the quiz page, only auto-saving: more than twice the idle limit
        frozen.advance(minutes=100)
        response = client.post(save, data={}, headers=headers)
        assert response.status_code == 200 and response.get_json()["ok"] is True
    frozen.advance(minutes=121)
    response = client.post(save, data={}, headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"ok": False, "expired": True, "message": IDLE}
    # the reload the page does next lands on the login page, which says why and comes back to the quiz
    response = client.get(f"/attempts/{practice_attempt.id}")
    assert response.headers["Location"] == f"/login?next=/attempts/{practice_attempt.id}"
    assert IDLE in page(client.get(response.headers["Location"]))


def test_activity_does_not_extend_the_absolute_limit(client, auth, agent, frozen):
    auth.login_as(agent)
    for _ in range(7):  # 11 h 40 min of activity
        frozen.advance(minutes=100)
        assert client.get("/account").status_code == 200
    frozen.advance(minutes=30)
    response = client.get("/account")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/account"
    assert ABSOLUTE in page(client.get(response.headers["Location"]))


def test_an_expired_session_on_a_form_post_returns_to_the_form(client, auth, agent, frozen):
    auth.login_as(agent)
    frozen.advance(hours=3)
    response = client.post("/account", data={"lang-locale": "en"}, headers={"Referer": "http://localhost/account"})
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/account"


def test_an_expired_session_on_a_public_page_says_so_there(client, auth, agent, frozen):
    auth.login_as(agent)
    frozen.advance(hours=3)
    response = client.get("/password-reset")
    assert response.status_code == 200 and IDLE in page(response)


def test_the_limits_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "480")
    monkeypatch.setenv("SESSION_ABSOLUTE_HOURS", "14")
    cfg = config.load(str(tmp_path), {"SECRET_KEY": "k" * 40})
    assert (cfg["SESSION_IDLE_MINUTES"], cfg["SESSION_ABSOLUTE_HOURS"]) == (480, 14)
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "0")
    with pytest.raises(config.ConfigError, match="SESSION_IDLE_MINUTES"):
        config.validate(config.load(str(tmp_path), {"SECRET_KEY": "k" * 40}))


# -- remember-me --------------------------------------------------------------------------------

def test_a_remember_cookie_signs_nobody_in_and_is_deleted(app, agent):
    with app.test_request_context():
        forged = encode_cookie(agent.get_id())  # a valid remember cookie (as if remember-me had been offered)
    client = app.test_client()
    client.set_cookie("remember_token", forged)
    response = client.get("/account")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert any(h.startswith("remember_token=;") for h in response.headers.getlist("Set-Cookie"))
    assert client.get_cookie("remember_token") is None


def test_the_login_form_offers_no_remember_me(client):
    assert "remember" not in page(client.get("/login")).lower()


# -- cookie flags -------------------------------------------------------------------------------

def test_production_cookies_are_secure_httponly_and_samesite(tmp_path):
    cfg = config.load(str(tmp_path), {"LMS_ENV": "production", "SECRET_KEY": "k" * 40})
    config.validate(cfg)
    for prefix in ("SESSION_COOKIE", "REMEMBER_COOKIE"):
        assert (cfg[f"{prefix}_SECURE"], cfg[f"{prefix}_HTTPONLY"], cfg[f"{prefix}_SAMESITE"]) == (True, True, "Lax")
    for key, value in (("SESSION_COOKIE_HTTPONLY", False), ("REMEMBER_COOKIE_HTTPONLY", False),
                       ("SESSION_COOKIE_SAMESITE", None), ("REMEMBER_COOKIE_SAMESITE", "None")):
        cfg = config.load(str(tmp_path), {"LMS_ENV": "production", "SECRET_KEY": "k" * 40, key: value})
        with pytest.raises(config.ConfigError, match=key.split("_COOKIE")[0]):
            config.validate(cfg)
    # Secure cannot be switched off in production
    cfg = config.load(str(tmp_path), {"LMS_ENV": "production", "SECRET_KEY": "k" * 40, "SESSION_COOKIE_SECURE": False})
    assert cfg["SESSION_COOKIE_SECURE"] is True


def test_the_session_cookie_carries_the_production_flags(app, agent, tmp_path, monkeypatch):
    production = config.load(str(tmp_path), {"LMS_ENV": "production", "SECRET_KEY": "k" * 40})
    for key in ("SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE"):
        monkeypatch.setitem(app.config, key, production[key])
    client = app.test_client()
    response = client.post("/login", data={"email": agent.email, "password": PASSWORD}, base_url="https://localhost")
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "; Secure" in cookie and "; HttpOnly" in cookie and "; SameSite=Lax" in cookie


# -- behind a reverse proxy ---------------------------------------------------------------------

@pytest.fixture
def app_with(database_url, tmp_path, _transaction):
    """A separate app with some settings, sharing the test's rolled-back connection."""
    apps = []

    def make(**overrides):
        new = make_test_app(database_url, tmp_path, **overrides)
        get_db(new).sessionmaker.configure(bind=_transaction, join_transaction_mode="create_savepoint")
        apps.append(new)
        return new

    yield make
    for made in apps:
        get_db(made).engine.dispose()


@pytest.mark.parametrize("proxies, seen", [(0, "10.0.0.1"), (1, "203.0.113.9")])
def test_the_client_address_behind_trusted_proxies(app_with, session, proxies, seen):
    proxied = app_with(TRUSTED_PROXIES=proxies)
    client = proxied.test_client()
    response = client.post("/login", data={"email": "nadie@example.com", "password": "mala contraseña"},
                           environ_overrides={"REMOTE_ADDR": "10.0.0.1"},
                           headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9", "X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    # the sign-in audit and throttling key on the address the proxies vouch for (only the last hop's)
    attempt = session.scalar(select(LoginAttempt).where(LoginAttempt.email == "nadie@example.com"))
    assert attempt.address == seen
