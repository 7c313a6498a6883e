"""Password hashing, login wiring, access decorators and response headers."""
from __future__ import annotations

import gzip
import unicodedata
from functools import lru_cache, wraps
from pathlib import Path

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

#: OWASP ASVS 5.0 (V6.2) / NIST SP 800-63B: at least 8 characters, long passphrases welcome (argon2 does
#: not truncate), no composition rules, common and context-specific passwords refused.
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


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


def password_problem(password: str, *, email: str | None = None, name: str | None = None) -> str | None:
    """Why a new password is refused, or None. No composition rules, no truncation.

    Refused: shorter than 8 or longer than 256 characters, one of the 20,000 most common passwords
    (the list bundled in ``lms/core/data``), or the user's own e-mail address or name.
    """
    from flask_babel import gettext as _

    if len(password) < MIN_PASSWORD_LENGTH:
        return _("La contraseña debe tener al menos %(n)d caracteres.", n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("La contraseña es demasiado larga (máximo %(n)d caracteres).", n=MAX_PASSWORD_LENGTH)
    folded = password.strip().casefold()
    if folded in common_passwords():
        return _("Esa contraseña es demasiado común; elige otra más difícil de adivinar.")
    if _is_personal(folded, email, name):
        return _("La contraseña no puede ser tu correo ni tu nombre; elige una frase que no te identifique.")
    return None


def _compact(text: str) -> str:
    """Letters only, case-folded, without accents: ``"Ana.Pérez-1"`` → ``"anaperez"``."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text.casefold()) if ch.isalpha())


def _is_personal(folded: str, email: str | None, name: str | None) -> bool:
    """The password is the e-mail (or contains it), its local part, or the name, give or take digits and symbols."""
    email = (email or "").strip().casefold()
    if email and email in folded:
        return True
    compact = _compact(folded)
    candidates = {_compact(email.split("@", 1)[0]), _compact(name or "")}
    return any(len(c) >= 3 and compact == c for c in candidates)


#: The 20,000 most used passwords (Royce Williams' list, as shipped by Django, BSD licence), plus Spanish ones.
_COMMON_PASSWORDS_FILE = Path(__file__).with_name("data") / "common-passwords.txt.gz"
_EXTRA_COMMON = """contraseña contrasena contraseña1 contrasena1 bienvenido bienvenido1 cambiame cambiame1
    administrador academia academia1 123456789a""".split()


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with gzip.open(_COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip().casefold() for line in fh if line.strip()) | frozenset(_EXTRA_COMMON)


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
