import pytest
from itsdangerous import BadSignature

from lms.core.security import hash_password, password_problem, verify_password


def test_passwords_are_hashed_with_argon2id_and_verified():
    hashed = hash_password("una frase bastante larga")
    assert hashed.startswith("$argon2id$")
    assert "una frase" not in hashed
    assert verify_password(hashed, "una frase bastante larga")
    assert not verify_password(hashed, "una frase bastante larg")
    assert not verify_password("not-a-hash", "x")
    assert not verify_password(None, "x")


def test_password_policy(app):
    assert password_problem("corta") is not None
    assert password_problem("password123") is not None  # common
    assert password_problem("ocho car") is None
    assert password_problem("x" * 200) is None  # long passphrases accepted
    assert password_problem("x" * 2000) is not None


def test_long_passwords_are_not_truncated():
    base = "a" * 100
    hashed = hash_password(base + "1")
    assert not verify_password(hashed, base + "2")


def test_security_headers_on_every_response(client):
    for path in ("/login", "/no-such-page"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_the_session_serializer_follows_a_key_rotation(app):
    """The session cookies' serializer is kept per keys: after a rotation (the old key a fallback) a cookie signed
    with the old key is still read, and new cookies are signed with the new key only."""
    interface = app.session_interface
    old_key, old_fallbacks = app.secret_key, app.config["SECRET_KEY_FALLBACKS"]
    signed_before = interface.get_signing_serializer(app).dumps({"a": 1})
    try:
        app.secret_key, app.config["SECRET_KEY_FALLBACKS"] = "rotated-" + "r" * 40, [old_key]
        rotated = interface.get_signing_serializer(app)
        assert rotated.loads(signed_before) == {"a": 1}
        signed_after = rotated.dumps({"a": 2})
        app.config["SECRET_KEY_FALLBACKS"] = []
        assert interface.get_signing_serializer(app).loads(signed_after) == {"a": 2}
        with pytest.raises(BadSignature):
            interface.get_signing_serializer(app).loads(signed_before)
    finally:
        app.secret_key, app.config["SECRET_KEY_FALLBACKS"] = old_key, old_fallbacks
