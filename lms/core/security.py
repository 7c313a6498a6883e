"""Password hashing, login wiring, access decorators and response headers."""
from __future__ import annotations

import gzip
import time
import unicodedata
from functools import lru_cache, wraps
from itertools import chain
from pathlib import Path

from urllib.parse import urlsplit

from flask import Flask, abort, current_app, flash, g, jsonify, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature
from flask_babel import gettext
from flask_login import LoginManager, current_user, user_logged_in
from flask_wtf.csrf import CSRFProtect, generate_csrf

from lms.core import clock
from lms.core.caches import BoundedCache

#: argon2id with the OWASP Password Storage Cheat Sheet's first profile: 19 MiB of memory, 2 passes, 1 lane
#: (about 35 ms a check on these 2-core machines, against 250 ms for the library's default 64 MiB / 3 passes /
#: 4 lanes: a cohort's 9:00 sign-in must not queue behind the hashes). Older hashes keep verifying (the parameters
#: are in each hash) and are rewritten with these at the next successful sign-in.
#: Built at the first sign-in or password change: argon2 (and its cffi bindings) stay out of a worker that
#: serves signed-in pages only.
@lru_cache(maxsize=1)
def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


login_manager = LoginManager()
csrf = CSRFProtect()

#: OWASP ASVS 5.0 (V6.2) / NIST SP 800-63B: at least 8 characters, long passphrases welcome (argon2 does
#: not truncate), no composition rules, common and context-specific passwords refused.
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    if not password_hash:
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's (rewritten at the next sign-in)."""
    from argon2.exceptions import InvalidHashError

    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


#: Verified against when the user is unknown, so both paths cost the same time: a hash of a throw-away password
#: made once with the parameters of _hasher (written here, not hashed at import: that cost every worker 35 ms and
#: a 19 MiB allocation at start). tests/accounts/test_passwords.py checks it matches them.
_DUMMY_HASH = "$argon2id$v=19$m=19456,t=2,p=1$3woQ7ZTR3knx8/FCUFFv4w$NHApAZh0c7F48dAJQHTQyo9EXpDqC+pDa08qBOuvS0k"


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


def read_with_user() -> dict:
    """This request's rows read in the signed-in user's statement, by endpoint (filled by the user loader, see
    ``lms.accounts.services.read_with_session_user``; taken by the view with ``.pop(request.endpoint, None)``)."""
    return request.environ.setdefault("lms.read_with_user", {})


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


#: session cookies whose signature was verified: (keys, cookie) → (data, when it was signed). A signed-in page
#: sends the same cookie again and again (it changes at most once a minute, see SEEN_GRANULARITY_SECONDS), and
#: checking its signature and decoding it was about a twentieth of a page's work. Only cookies whose values are
#: all immutable (no flashed messages waiting) are kept: each request gets its own copy of the dict.
_VERIFIED_COOKIES: BoundedCache = BoundedCache(512)
_IMMUTABLE = (str, int, float, bool, type(None))
#: the session cookies' serializers by (key, fallback keys)
_SERIALIZERS: BoundedCache = BoundedCache(16)


class EmbeddableSessionInterface(SecureCookieSessionInterface):
    """A session started by an LTI launch lives in the platform's iframe: over HTTPS its cookie is
    ``SameSite=None; Secure; Partitioned`` (CHIPS), or browsers would not send it inside the frame.
    Every other session keeps the configured (Lax) cookie.

    A cookie already verified by this process is not verified again (:data:`_VERIFIED_COOKIES`): the same bytes
    under the same keys verify the same way; only its age is checked again, as itsdangerous checks it."""

    def open_session(self, app, request):
        value = request.cookies.get(self.get_cookie_name(app))
        if not value or not app.secret_key:
            return super().open_session(app, request)
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()), value)
        max_age = int(app.permanent_session_lifetime.total_seconds())
        known = _VERIFIED_COOKIES.get(key)
        if known is not None and 0 <= int(time.time()) - known[1] <= max_age:
            return self.session_class(known[0])
        try:
            data, signed_at = self.get_signing_serializer(app).loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if isinstance(data, dict) and all(isinstance(v, _IMMUTABLE) for v in data.values()):
            _VERIFIED_COOKIES.put(key, (dict(data), int(signed_at.timestamp())))
        return self.session_class(data)

    def get_signing_serializer(self, app):
        """Flask's serializer for the app's keys, made once per keys (it holds nothing else): a session that changed
        (its last-seen time, once a minute) is signed without building it again."""
        if not app.secret_key:
            return None
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        return _SERIALIZERS.get(key) or _SERIALIZERS.put(key, super().get_signing_serializer(app))

    def save_session(self, app, sess, response):
        g.embedded_cookie = bool(sess.get(EMBED_SESSION_KEY)) and request.is_secure
        return super().save_session(app, sess, response)

    def get_cookie_samesite(self, app):
        return "None" if g.get("embedded_cookie") else super().get_cookie_samesite(app)

    def get_cookie_secure(self, app):
        return True if g.get("embedded_cookie") else super().get_cookie_secure(app)

    def get_cookie_partitioned(self, app):
        return True if g.get("embedded_cookie") else super().get_cookie_partitioned(app)


# Session limits ------------------------------------------------------------------------------------
# Flask's session is a signed cookie: there is no server-side session id to fixate. Sign-in clears it
# (nothing from before survives), and the user id it carries includes the user's session version, which
# logout, a password change or reset and deactivation bump (every older cookie stops working). The times
# below live in the same signed cookie, so the client cannot change them, and are checked on every request.

#: Session keys: when the user signed in and when the session last made a request (epoch seconds).
AUTH_AT, SEEN_AT = "_auth_at", "_seen_at"
#: ``SEEN_AT`` is rewritten at most once a minute (fewer Set-Cookie headers; the idle limit is in minutes).
SEEN_GRANULARITY_SECONDS = 60
IDLE, ABSOLUTE, UNKNOWN = "idle", "absolute", "unknown"


def session_expiry(auth_at, seen_at, now: int, *, idle_minutes: int, absolute_hours: int) -> str | None:
    """Why a signed-in session has ended — ``"idle"``, ``"absolute"``, or ``"unknown"`` for a session without
    its times (signed in before they were recorded) — or None while it is still valid (epoch seconds)."""
    if not isinstance(auth_at, int) or not isinstance(seen_at, int):
        return UNKNOWN
    if now - auth_at > absolute_hours * 3600:
        return ABSOLUTE
    if now - seen_at > idle_minutes * 60:
        return IDLE
    return None


def _expiry_message(reason: str, cfg) -> str:
    if reason == IDLE:
        return gettext("Tu sesión ha caducado por inactividad (%(minutes)d min sin actividad). Vuelve a iniciar sesión.",
                       minutes=cfg["SESSION_IDLE_MINUTES"])
    if reason == ABSOLUTE:
        return gettext("Tu sesión ha caducado: dura como máximo %(hours)d h desde que inicias sesión. Vuelve a iniciar sesión.",
                       hours=cfg["SESSION_ABSOLUTE_HOURS"])
    return gettext("Tu sesión ha caducado. Vuelve a iniciar sesión.")


def _stamp_sign_in(_app, **_extra) -> None:
    """On every sign-in (login form, LTI launch, password change): the session's clocks start now."""
    now = int(clock.now_utc().timestamp())
    session[AUTH_AT] = now
    session[SEEN_AT] = now


def _enforce_session_limits():
    """Before each request: end a signed-in session past its idle or absolute limit; ignore remember cookies."""
    g.pop("session_expired", None)  # (under the test client ``g`` can outlive a request)
    if request.path.startswith("/static/") or not request.cookies:
        return None
    cfg = current_app.config
    if cfg.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies:
        # Remember-me is not offered: such a cookie would sign the user in again past the session limits.
        # "clear" makes flask-login ignore it and delete it from the browser.
        session["_remember"] = "clear"
    if "_user_id" not in session:
        return None
    now = int(clock.now_utc().timestamp())
    reason = session_expiry(session.get(AUTH_AT), session.get(SEEN_AT), now,
                            idle_minutes=cfg["SESSION_IDLE_MINUTES"], absolute_hours=cfg["SESSION_ABSOLUTE_HOURS"])
    if reason is None:
        if now - session[SEEN_AT] >= SEEN_GRANULARITY_SECONDS:
            session[SEEN_AT] = now  # any request is activity: a quiz's auto-save keeps the session alive
        return None
    remember = session.get("_remember")
    session.clear()  # the request goes on as anonymous: protected views send the browser to the login page
    if remember:
        session["_remember"] = remember
    g.pop("_login_user", None)
    g.session_expired = reason
    flash(_expiry_message(reason, cfg), "error")  # on this page if it is public, else on the login page
    return None


def wants_json() -> bool:
    """The request comes from a script (fetch) expecting JSON rather than a page."""
    return request.accept_mimetypes.best == "application/json" or request.headers.get("X-Requested-With") == "fetch"


def _return_to() -> str | None:
    """Where to go back after signing in: this page, or for a form post the page that sent it (same site)."""
    if request.method in ("GET", "HEAD"):
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return None


def _unauthorized():
    """A page needs a signed-in user: to the login page (keeping where to return), with why; 401 for scripts."""
    reason = g.get("session_expired")  # its message is already flashed
    message = _expiry_message(reason, current_app.config) if reason else gettext("Inicia sesión para continuar.")
    if wants_json():
        return jsonify(ok=False, expired=bool(reason), message=message), 401
    if not session.get("_flashes"):
        flash(message, "info")
    return redirect(url_for(login_manager.login_view, next=_return_to()))


def _nul_in(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_nul_in(k) or _nul_in(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_nul_in(v) for v in value)
    return False


def _nul_in_fields(fields) -> bool:
    """A NUL in the names or values of a MultiDict of fields (the query's, the form's): their text joined and searched
    at once (a submitted quiz has some forty fields; checked one by one they were about a fortieth of its work)."""
    try:
        return "\x00" in "".join(fields.keys()) or "\x00" in "".join(chain.from_iterable(fields.listvalues()))
    except TypeError:  # a name or value that is not text: one by one
        return any(_nul_in(k) or _nul_in(v) for k, v in fields.items(multi=True))


def _has_nul(req) -> bool:
    """A NUL character in the path, the query, the form fields (not uploaded files) or a JSON body."""
    if "\x00" in req.path:
        return True
    if _nul_in_fields(req.args):
        return True
    if req.method in ("POST", "PUT", "PATCH", "DELETE"):
        if req.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return _nul_in_fields(req.form)
        if req.is_json:
            return _nul_in(req.get_json(silent=True))
    return False


#: signed CSRF tokens by (key, the session's raw token, minute): signing one was about a twentieth of a page's work,
#: and pages and forms of the same session within a minute get the same token (a new one each minute).
_SIGNED_CSRF: BoundedCache = BoundedCache(512)
CSRF_TOKEN_REUSE_SECONDS = 60


def csrf_token() -> str:
    """The page's CSRF token (templates' ``csrf_token()``): Flask-WTF's :func:`generate_csrf`, signed once a minute
    per session. Tokens are checked by Flask-WTF as before; a token signed up to a minute earlier is as valid as a new
    one (``WTF_CSRF_TIME_LIMIT`` counts from its signature: it may end up to a minute sooner)."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if field in g:
        return g.get(field)
    raw = session.get(field)
    secret = current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    if not isinstance(raw, str) or not secret:
        return generate_csrf()  # the session's first token: Flask-WTF makes it
    key = (secret, raw, int(time.time()) // CSRF_TOKEN_REUSE_SECONDS)
    token = _SIGNED_CSRF.get(key)
    if token is None:
        return _SIGNED_CSRF.put(key, generate_csrf())
    setattr(g, field, token)  # what generate_csrf() would keep for the rest of the request (the forms' tokens)
    return token


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    # templates' csrf_token() is ours; Flask-WTF's context processor would hand them its own (both names stay globals)
    app.jinja_env.globals["csrf_token"] = csrf_token
    processors = app.template_context_processors[None]
    processors[:] = [p for p in processors if getattr(p, "__module__", None) != "flask_wtf.csrf"]
    app.session_interface = EmbeddableSessionInterface()
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "strong"
    login_manager.unauthorized_handler(_unauthorized)
    user_logged_in.connect(_stamp_sign_in, app)

    @app.before_request
    def _refuse_nul_bytes():
        # No text a person types holds NUL, and PostgreSQL refuses it in text columns and parameters
        # (a query with one would fail with a server error): refuse the request instead.
        if _has_nul(request):
            abort(400, description=gettext("La petición contiene un carácter nulo (NUL), que no se admite."))

    @app.before_request
    def _fresh_user():
        # flask-login caches the user on ``g``; never reuse one loaded by another request.
        g.pop("_login_user", None)

    app.before_request(_enforce_session_limits)

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
