"""Per-process caches on every signed-in request (issue #22) keep the checks they replace: a cookie verified once is
not verified again, but a changed cookie, another key or an expired cookie are refused as before, and each request
gets its own copy of the session; a CSRF token signed once a minute validates like a fresh one."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_wtf.csrf import validate_csrf

from lms.core import security


@pytest.fixture
def fake_time(monkeypatch):
    """The clock of the caches and of itsdangerous's signatures (both read time.time)."""
    import itsdangerous.timed
    now = {"t": 60 * 31_666_667}  # the start of a minute
    monkeypatch.setattr(security.time, "time", lambda: now["t"])
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: now["t"])
    return now


def _signed_cookie(app, data: dict) -> str:
    return app.session_interface.get_signing_serializer(app).dumps(data)


@pytest.fixture
def verifications(monkeypatch):
    """How many times a session cookie's signature was checked."""
    from itsdangerous import URLSafeTimedSerializer
    count = {"n": 0}
    real = URLSafeTimedSerializer.loads

    def counted(self, *args, **kwargs):
        count["n"] += 1
        return real(self, *args, **kwargs)
    monkeypatch.setattr(URLSafeTimedSerializer, "loads", counted)
    return count


def _open(app, cookie: str | None):
    """What a request with this session cookie opens (the interface alone: no request context pushed)."""
    from flask import Request
    from werkzeug.test import EnvironBuilder
    headers = {"Cookie": f"session={cookie}"} if cookie else {}
    return app.session_interface.open_session(app, Request(EnvironBuilder(path="/", headers=headers).get_environ()))


def test_a_verified_cookie_is_served_from_the_cache_and_only_as_it_was(app, verifications, monkeypatch):
    security._VERIFIED_COOKIES.clear()
    cookie = _signed_cookie(app, {"_user_id": "7:1", "_auth_at": 5})
    first = _open(app, cookie)
    assert dict(first) == {"_user_id": "7:1", "_auth_at": 5}
    first["_user_id"] = "changed in this request"  # a request's changes are its own
    second = _open(app, cookie)
    assert dict(second) == {"_user_id": "7:1", "_auth_at": 5} and verifications["n"] == 1
    # one character changed: verified again, and refused
    tampered = cookie[:-2] + ("A" if cookie[-2] != "A" else "B") + cookie[-1]
    assert dict(_open(app, tampered)) == {} and verifications["n"] == 2
    # the same cookie under another key is verified again, and refused
    monkeypatch.setattr(app, "secret_key", "another key " * 4)
    assert dict(_open(app, cookie)) == {} and verifications["n"] == 3


def test_a_cached_cookie_expires_as_itsdangerous_would_expire_it(app, fake_time, verifications, monkeypatch):
    security._VERIFIED_COOKIES.clear()
    monkeypatch.setattr(app, "permanent_session_lifetime", timedelta(seconds=100))
    cookie = _signed_cookie(app, {"_user_id": "7:1"})
    assert dict(_open(app, cookie)) == {"_user_id": "7:1"}
    fake_time["t"] += 100
    assert dict(_open(app, cookie)) == {"_user_id": "7:1"} and verifications["n"] == 1
    fake_time["t"] += 1
    assert dict(_open(app, cookie)) == {}  # past the lifetime: refused though it is cached


def test_a_session_with_a_list_is_not_cached(app):
    security._VERIFIED_COOKIES.clear()
    cookie = _signed_cookie(app, {"_flashes": [["info", "hola"]]})
    opened = _open(app, cookie)
    opened["_flashes"].append(["info", "otra"])
    assert _open(app, cookie)["_flashes"] == [["info", "hola"]] and len(security._VERIFIED_COOKIES._entries) == 0


def test_a_csrf_token_is_signed_once_a_minute_and_validates(app, fake_time):
    security._SIGNED_CSRF.clear()
    tokens = []
    for step in (0, 30, 61):
        fake_time["t"] += step
        with app.test_request_context("/"):
            from flask import g, session
            g.pop("csrf_token", None)  # (under pytest-flask ``g`` outlives a request)
            session["csrf_token"] = "raw-token-of-this-session"
            tokens.append(security.csrf_token())
            assert security.csrf_token() == tokens[-1]  # the same within the request
            validate_csrf(tokens[-1])  # raises when invalid
    assert tokens[0] == tokens[1] != tokens[2]
    with app.test_request_context("/"):
        from flask import g, session
        g.pop("csrf_token", None)
        session["csrf_token"] = "another session's raw token"
        other = security.csrf_token()
        assert other not in tokens
        with pytest.raises(Exception):
            session["csrf_token"] = "raw-token-of-this-session"
            validate_csrf(other)


def test_pages_carry_the_cached_token_and_forms_accept_it(app, client, auth, agent, fake_time, monkeypatch):
    """The token in a page's forms comes from csrf_token() above: two pages within a minute carry the same token, and
    a form sent with it is accepted (CSRF on, as in production). (A page with a form object gets the token Flask-WTF
    signs for it: csrf_token() then finds it on ``g``.)"""
    import re

    from flask import g

    from tests.conftest import PASSWORD

    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # (the app is the whole test session's)
    token_of = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
    login_page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"email": agent.email, "password": PASSWORD,
                                           "csrf_token": token_of.search(login_page).group(1)})
    assert response.status_code == 302
    g.pop("csrf_token", None)
    client.get("/")  # the session's raw token is made on its first page after sign-in
    g.pop("csrf_token", None)
    first = token_of.search(client.get("/tracks").get_data(as_text=True)).group(1)
    fake_time["t"] += 30
    g.pop("csrf_token", None)
    second = token_of.search(client.get("/tracks").get_data(as_text=True)).group(1)
    pass
    assert first == second
    fake_time["t"] += 60
    g.pop("csrf_token", None)  # (under pytest-flask the app context, and ``g``, outlive requests)
    third = token_of.search(client.get("/").get_data(as_text=True)).group(1)
    assert third != first
    assert client.post("/logout", data={"csrf_token": first}).status_code == 302  # an earlier minute's token still works
    assert client.get("/account").status_code == 302  # signed out
