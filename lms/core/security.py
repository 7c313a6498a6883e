"""Password hashing, login wiring, access decorators and response headers."""
from __future__ import annotations

from functools import wraps

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, abort, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

#: argon2id with the library's RFC 9106 "low memory" profile defaults.
_hasher = PasswordHasher()

login_manager = LoginManager()
csrf = CSRFProtect()

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


#: Verified against when the user is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0")


def burn_password_check(password: str) -> None:
    verify_password(_DUMMY_HASH, password)


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None. No composition rules, no truncation."""
    from flask_babel import gettext as _

    if len(password) < MIN_PASSWORD_LENGTH:
        return _("La contraseña debe tener al menos %(n)d caracteres.", n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("La contraseña es demasiado larga (máximo %(n)d caracteres).", n=MAX_PASSWORD_LENGTH)
    if password.strip().lower() in COMMON_PASSWORDS:
        return _("Esa contraseña es demasiado común; elige otra más difícil de adivinar.")
    return None


COMMON_PASSWORDS = frozenset(
    """123456 12345678 123456789 1234567890 password password1 password123 qwerty qwerty123
    abc12345 11111111 00000000 iloveyou admin1234 administrator contraseña contrasena
    contraseña1 12341234 87654321 letmein1 welcome1 bienvenido passw0rd superman
    qwertyuiop asdfghjk zxcvbnm1 trustno1 sunshine princess football baseball
    1q2w3e4r 1qaz2wsx q1w2e3r4 aa123456 dragon12 monkey12 changeme cambiame
    """.split()
)


def roles_required(*roles: str):
    """The view needs a logged-in user with one of ``roles`` (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles  # read by the access-policy test
        return wrapped

    return decorator


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)

#: Session key set by an LTI launch: the platform origins that may frame the site for this session.
EMBED_SESSION_KEY = "embedded_in"


def csp(frame_ancestors=(), form_action=()) -> str:
    """The policy, with extra origins allowed to frame the page / to receive its forms (LTI)."""
    policy = CSP
    if frame_ancestors:
        policy = policy.replace("frame-ancestors 'none'", "frame-ancestors 'self' " + " ".join(frame_ancestors))
    if form_action:
        policy = policy.replace("form-action 'self'", "form-action 'self' " + " ".join(form_action))
    return policy


def allow_framing(origins) -> None:
    """This response may be framed by ``origins`` (an LTI platform before its launch sets the session)."""
    g.frame_ancestors = list(origins)


def _frame_ancestors() -> list[str]:
    if g.get("frame_ancestors"):
        return list(g.frame_ancestors)
    if request.path.startswith("/static/") or not request.cookies:
        return []  # no session to read (and no "Vary: Cookie" added for nothing)
    return list(session.get(EMBED_SESSION_KEY) or ())


class EmbeddableSessionInterface(SecureCookieSessionInterface):
    """A session started by an LTI launch lives in the platform's iframe: over HTTPS its cookie is
    ``SameSite=None; Secure; Partitioned`` (CHIPS), or browsers would not send it inside the frame.
    Every other session keeps the configured (Lax) cookie."""

    def save_session(self, app, sess, response):
        g.embedded_cookie = bool(sess.get(EMBED_SESSION_KEY)) and request.is_secure
        return super().save_session(app, sess, response)

    def get_cookie_samesite(self, app):
        return "None" if g.get("embedded_cookie") else super().get_cookie_samesite(app)

    def get_cookie_secure(self, app):
        return True if g.get("embedded_cookie") else super().get_cookie_secure(app)

    def get_cookie_partitioned(self, app):
        return True if g.get("embedded_cookie") else super().get_cookie_partitioned(app)


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.session_interface = EmbeddableSessionInterface()
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "strong"

    @app.before_request
    def _fresh_user():
        # flask-login caches the user on ``g``; never reuse one loaded by another request.
        g.pop("_login_user", None)

    @app.after_request
    def _headers(response):
        framers = _frame_ancestors()
        response.headers.setdefault("Content-Security-Policy", csp(framers))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not framers:  # X-Frame-Options cannot name origins; CSP frame-ancestors rules where it is set
            response.headers.setdefault("X-Frame-Options", "DENY")
        if current_user and current_user.is_authenticated and not request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response
