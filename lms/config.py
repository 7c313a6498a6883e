"""Every setting, its default and where it comes from.

Precedence (lowest first): the defaults below, environment variables, the
instance folder's ``secret_key`` file (development only), then the overrides
passed to :func:`lms.create_app` (tests).  :func:`validate` fails fast on a
configuration that cannot work.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, object] = {
    #: SQLAlchemy URL. SQLite in the instance folder by default; PostgreSQL as
    #: ``postgresql+psycopg://user@host:5432/dbname`` (``postgresql://`` is accepted too).
    "DATABASE_URL": None,
    #: Signs sessions and CSRF tokens. Required from the environment in production;
    #: in development a random one is generated once and kept in the instance folder.
    "SECRET_KEY": None,  # nosec B105  # no default secret: read from the environment or generated per instance
    #: "development" or "production". Production refuses weak secrets and sets secure cookies.
    "LMS_ENV": "development",
    #: Where the courseware files live (courses/, quizzes/, roleplays/).
    "CONTENT_ROOT": str(PROJECT_ROOT),
    #: Interface languages; the first is the default.
    "LANGUAGES": ["es", "en"],
    "BABEL_DEFAULT_LOCALE": "es",
    "BABEL_DEFAULT_TIMEZONE": "UTC",
    #: Largest accepted request body (CSV uploads included), in bytes.
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    #: Session and remember cookie settings; SECURE is forced on in production, where validate() also refuses
    #: HTTPONLY off or a SAMESITE other than Lax/Strict.
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SECURE": False,
    #: CSRF tokens stay valid for the whole session (a long lesson must not lose a form).
    "WTF_CSRF_TIME_LIMIT": None,
    #: Echo SQL statements (debugging).
    "SQL_ECHO": False,
    #: Outgoing mail (reminders, notifications). No SMTP_HOST: messages stay queued until one is set.
    "SMTP_HOST": None,
    "SMTP_PORT": 25,
    "SMTP_STARTTLS": False,
    "SMTP_USERNAME": None,
    "SMTP_PASSWORD": None,  # nosec B105  # no default: read from the environment
    "MAIL_FROM": "academia@localhost",
    #: Base URL used in e-mails (links back to the site)
    "PUBLIC_URL": "http://127.0.0.1:5000",
    #: xAPI: the LRS's base URL (…/xapi/, the statements resource is appended). Statements of learning events
    #: are recorded in the outbox when it is set (or XAPI_RECORD is on) and delivered to it by the worker.
    "XAPI_ENDPOINT": None,
    #: Basic auth for the LRS (key and secret), or a bearer XAPI_TOKEN instead
    "XAPI_USERNAME": None,
    "XAPI_PASSWORD": None,  # nosec B105  # no default: read from the environment
    "XAPI_TOKEN": None,  # nosec B105  # no default: read from the environment
    #: record statements even without an endpoint; they wait, pending, until XAPI_ENDPOINT is set
    "XAPI_RECORD": False,
    #: who the actor is: "account" (homePage PUBLIC_URL, name = the user's id; no e-mail leaves the site) or "mbox" (mailto:)
    "XAPI_ACTOR": "account",
    #: seconds to wait for the LRS
    "XAPI_TIMEOUT": 10,
}

#: Settings read from environment variables of the same name.
ENV_KEYS = ("DATABASE_URL", "SECRET_KEY", "LMS_ENV", "CONTENT_ROOT", "SQL_ECHO", "SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS",
            "SMTP_USERNAME", "SMTP_PASSWORD", "MAIL_FROM", "PUBLIC_URL")
ENV_KEYS += ("XAPI_ENDPOINT", "XAPI_USERNAME", "XAPI_PASSWORD", "XAPI_TOKEN", "XAPI_RECORD", "XAPI_ACTOR", "XAPI_TIMEOUT")

#: LTI 1.3 tool (lms/lti): retired signing keys stay in /lti/jwks.json this many days; platform keysets are
#: cached this many seconds, and refetched when a token names an unknown key unless fetched less than
#: LTI_KEYSET_MIN_REFETCH_SECONDS ago; platform administrators become admins here only when trusted.
DEFAULTS.update({
    "LTI_KEY_RETENTION_DAYS": 30,
    "LTI_KEYSET_CACHE_SECONDS": 3600,
    "LTI_KEYSET_MIN_REFETCH_SECONDS": 10,
    "LTI_TRUST_PLATFORM_ADMINS": False,
    #: seconds of clock difference tolerated on a platform's id_token (exp, iat, nbf)
    "LTI_CLOCK_SKEW_SECONDS": 60,
})
ENV_KEYS += ("LTI_KEY_RETENTION_DAYS", "LTI_KEYSET_CACHE_SECONDS", "LTI_KEYSET_MIN_REFETCH_SECONDS", "LTI_TRUST_PLATFORM_ADMINS",
             "LTI_CLOCK_SKEW_SECONDS")

#: CSV imports with more data rows than this run in the background (the worker), with progress and a result page.
DEFAULTS.update({"CSV_IMPORT_INLINE_ROWS": 200})
ENV_KEYS += ("CSV_IMPORT_INLINE_ROWS",)

#: Open Badges (lms/badges): the issuer named in badges and credentials (ids live under PUBLIC_URL).
#: Defaults: the site's name, PUBLIC_URL, MAIL_FROM.
DEFAULTS.update({
    "BADGES_ISSUER_NAME": "Academia de Atención",
    "BADGES_ISSUER_URL": None,
    "BADGES_ISSUER_EMAIL": None,
})
ENV_KEYS += ("BADGES_ISSUER_NAME", "BADGES_ISSUER_URL", "BADGES_ISSUER_EMAIL")

#: Sign-in throttling (lms/accounts/signin.py), shared by every worker through the database: after
#: LOGIN_MAX_FAILURES_PER_ACCOUNT failures for one e-mail, or LOGIN_MAX_FAILURES_PER_ADDRESS from one client
#: address, within LOGIN_FAILURE_WINDOW_SECONDS, sign-in is refused (HTTP 429) for LOGIN_BLOCK_SECONDS, doubled
#: on each further block up to LOGIN_BLOCK_MAX_SECONDS. The address is ``request.remote_addr``: behind a reverse
#: proxy set TRUSTED_PROXIES (below), or every user shares the proxy's address.
DEFAULTS.update({
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
    "LOGIN_FAILURE_WINDOW_SECONDS": 900,
    "LOGIN_BLOCK_SECONDS": 300,
    "LOGIN_BLOCK_MAX_SECONDS": 3600,
})
INT_KEYS = ("LOGIN_MAX_FAILURES_PER_ACCOUNT", "LOGIN_MAX_FAILURES_PER_ADDRESS", "LOGIN_FAILURE_WINDOW_SECONDS",
            "LOGIN_BLOCK_SECONDS", "LOGIN_BLOCK_MAX_SECONDS")
ENV_KEYS += INT_KEYS

#: Sessions (enforced on the server from timestamps kept in the signed session, lms/core/security.py): a signed-in
#: session ends after SESSION_IDLE_MINUTES without any request (a quiz's auto-save counts as activity, so a long
#: lesson or quiz does not end it) and SESSION_ABSOLUTE_HOURS after the sign-in whatever the activity. Remember-me
#: is not offered: a remember cookie is ignored and deleted, so nothing outlives these limits.
#: Password resets (lms/accounts/resets.py): the e-mailed link works once, for PASSWORD_RESET_MINUTES; at most
#: PASSWORD_RESET_MAX_PER_ACCOUNT links per account and PASSWORD_RESET_MAX_PER_ADDRESS per client address are sent
#: per hour (further requests get the same answer and no e-mail).
#: TRUSTED_PROXIES: how many reverse proxies stand in front of the site (0: none). When > 0 werkzeug's ProxyFix takes
#: the client address, scheme and host from that many X-Forwarded-For/-Proto/-Host entries (the sign-in throttling
#: and the audit use that address). Never set it higher than the real number: clients could then forge their address.
DEFAULTS.update({
    "SESSION_IDLE_MINUTES": 120,
    "SESSION_ABSOLUTE_HOURS": 12,
    "PASSWORD_RESET_MINUTES": 30,  # nosec B105  # a number of minutes / links, not a password
    "PASSWORD_RESET_MAX_PER_ACCOUNT": 3,  # nosec B105  # a number of minutes / links, not a password
    "PASSWORD_RESET_MAX_PER_ADDRESS": 10,  # nosec B105  # a number of minutes / links, not a password
    "TRUSTED_PROXIES": 0,
})
_SESSION_INT_KEYS = ("SESSION_IDLE_MINUTES", "SESSION_ABSOLUTE_HOURS", "PASSWORD_RESET_MINUTES",
                     "PASSWORD_RESET_MAX_PER_ACCOUNT", "PASSWORD_RESET_MAX_PER_ADDRESS", "TRUSTED_PROXIES")
INT_KEYS += _SESSION_INT_KEYS
ENV_KEYS += _SESSION_INT_KEYS

#: Organisation exports (progress and certifications CSV) whose scope has more agents than EXPORT_BACKGROUND_AGENTS
#: are prepared in the background by the worker and downloaded from their own page (lms/reporting/jobs.py):
#: streaming takes about 4 s per 10,000 agents on the benchmark machine, so up to 10,000 agents the download
#: starts at once and stays within "a few seconds". The prepared file is kept EXPORT_KEEP_HOURS in EXPORTS_FOLDER
#: (empty: the instance folder's exports/; the worker and the site must see the same folder).
DEFAULTS.update({"EXPORT_BACKGROUND_AGENTS": 10_000, "EXPORT_KEEP_HOURS": 24, "EXPORTS_FOLDER": None})
INT_KEYS += ("EXPORT_BACKGROUND_AGENTS", "EXPORT_KEEP_HOURS")
ENV_KEYS += ("EXPORT_BACKGROUND_AGENTS", "EXPORT_KEEP_HOURS", "EXPORTS_FOLDER")

#: LAZY_BLUEPRINTS: the integration, reporting and authoring pages' modules are imported on their first request
#: (lms/core/lazy.py: a worker that never serves them does not hold them); off, every blueprint is imported at start
DEFAULTS.update({"LAZY_BLUEPRINTS": True})

WEAK_SECRETS = {"", "dev", "secret", "changeme", "change-me", "development"}


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says what to set."""


def load(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the configuration mapping from defaults, environment and overrides."""
    cfg = dict(DEFAULTS)
    for key in ENV_KEYS:
        if key in os.environ:
            cfg[key] = os.environ[key]
    for flag in ("SQL_ECHO", "SMTP_STARTTLS", "XAPI_RECORD"):
        if isinstance(cfg.get(flag), str):
            cfg[flag] = cfg[flag].lower() in {"1", "true", "yes"}
    for key in INT_KEYS:
        try:
            cfg[key] = int(cfg[key])
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be a whole number, not {cfg[key]!r}") from None
    if overrides:
        cfg.update(overrides)
    if not cfg.get("DATABASE_URL"):
        cfg["DATABASE_URL"] = "sqlite:///" + str(Path(instance_path) / "lms.sqlite3")
    cfg["DATABASE_URL"] = normalise_database_url(str(cfg["DATABASE_URL"]))
    if not cfg.get("SECRET_KEY") and cfg["LMS_ENV"] != "production":
        cfg["SECRET_KEY"] = _instance_secret(instance_path)
    if cfg["LMS_ENV"] == "production":
        cfg["SESSION_COOKIE_SECURE"] = True
        cfg["REMEMBER_COOKIE_SECURE"] = True
    return cfg


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def validate(cfg: dict) -> None:
    """Refuse to start with a configuration that is unsafe or cannot work."""
    if cfg["LMS_ENV"] not in {"development", "production"}:
        raise ConfigError("LMS_ENV must be 'development' or 'production'")
    secret = cfg.get("SECRET_KEY") or ""
    if cfg["LMS_ENV"] == "production" and (len(str(secret)) < 32 or secret in WEAK_SECRETS):
        raise ConfigError(
            "SECRET_KEY must be set to a random value of at least 32 characters in production "
            "(python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    if not secret:
        raise ConfigError("SECRET_KEY is empty")
    for key in ("SESSION_IDLE_MINUTES", "SESSION_ABSOLUTE_HOURS", "PASSWORD_RESET_MINUTES"):
        if int(cfg[key]) < 1:
            raise ConfigError(f"{key} must be at least 1")
    if int(cfg["TRUSTED_PROXIES"]) < 0:
        raise ConfigError("TRUSTED_PROXIES must be 0 (no reverse proxy) or the number of proxies in front of the site")
    if cfg["LMS_ENV"] == "production":
        for prefix in ("SESSION_COOKIE", "REMEMBER_COOKIE"):
            if not (cfg.get(f"{prefix}_SECURE") and cfg.get(f"{prefix}_HTTPONLY")
                    and cfg.get(f"{prefix}_SAMESITE") in {"Lax", "Strict"}):
                raise ConfigError(f"{prefix}_SECURE and {prefix}_HTTPONLY must be on and {prefix}_SAMESITE "
                                  "'Lax' or 'Strict' in production")


def _instance_secret(instance_path: str) -> str:
    """A random development secret, generated once and kept in the instance folder."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
