"""Domain errors and their HTTP pages, and the 503 answer while the database is unavailable."""
from __future__ import annotations

import logging

from flask import Flask, g, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

log = logging.getLogger(__name__)

#: Seconds a client is told to wait before retrying while the database is unavailable.
RETRY_AFTER_SECONDS = 5

#: Messages (lower case) of driver errors that mean "the database is away, full, read-only or locked too long":
#: nothing the request did is wrong, a retry later will work, so the answer is 503, never 500.
UNAVAILABLE_MESSAGES = (
    # SQLite
    "database is locked", "disk i/o error", "database or disk is full", "attempt to write a readonly database",
    "database table is locked",
    # PostgreSQL (psycopg) and the network
    "connection refused", "could not connect", "connection failed", "server closed the connection",
    "terminating connection due to administrator command", "the database system is shutting down",
    "the database system is starting up", "the database system is in recovery mode", "no space left on device",
    "could not extend file", "read-only transaction", "connection is closed", "connection timeout",
    "timeout expired", "consuming input failed", "ssl connection has been closed", "connection reset",
    "the connection is closed", "connection to server",
)

#: PostgreSQL SQLSTATE classes/codes with the same meaning: connection exceptions (08), insufficient resources
#: (53: disk full, out of memory, too many connections), operator intervention (57P01-57P05: admin shutdown, crash
#: shutdown, cannot connect now), read-only transaction (25006), lock not available (55P03).
UNAVAILABLE_SQLSTATES = ("08", "53", "57P", "25006", "55P03")


def is_database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) says the database is unavailable rather than the request wrong."""
    seen = 0
    while exc is not None and seen < 5:
        seen += 1
        if isinstance(exc, PoolTimeout):
            return True
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return True
        orig = getattr(exc, "orig", None) if isinstance(exc, DBAPIError) else exc
        sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if sqlstate and str(sqlstate).startswith(UNAVAILABLE_SQLSTATES):
            return True
        module = type(orig).__module__ if orig is not None else ""
        if isinstance(exc, DBAPIError) or module.startswith(("sqlite3", "psycopg")):
            message = str(orig if orig is not None else exc).lower()
            if any(marker in message for marker in UNAVAILABLE_MESSAGES):
                return True
        exc = exc.__cause__ or exc.__context__
    return False


def _discard_session() -> None:
    """Roll back and drop the request's session (its connection may be dead: never let that raise again)."""
    session = g.pop("_db_session", None)
    if session is None:
        return
    try:
        session.rollback()
    except SQLAlchemyError:  # the connection is gone: closing below invalidates it
        pass
    finally:
        try:
            session.close()
        except SQLAlchemyError:
            pass


class _Unavailable(AnonymousUserMixin):
    """Who the 503 page is shown to: nobody the database would have to confirm."""

    locale = None


def unavailable_response():
    """The 503 answer (JSON for the API and fetch calls, a page that needs no database otherwise)."""
    # The page must not load the signed-in user from the unavailable database: Flask-Login caches the user in
    # g._login_user, and the rollback below detaches it. Keep only the language it already had (without a query).
    loaded = g.get("_login_user")
    locale = getattr(loaded, "__dict__", {}).get("locale")
    _discard_session()
    g._login_user = _Unavailable()
    g._login_user.locale = locale
    message = _("El servicio no está disponible en este momento; tus datos están a salvo, inténtalo de nuevo en unos segundos.")
    wants_json = (request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"
                  or request.headers.get("X-Requested-With") == "fetch")
    if wants_json:
        response = jsonify(error="service_unavailable", message=message, retry_after=RETRY_AFTER_SECONDS)
    else:
        response = make_response(render_template("errors/unavailable.html", message=message))
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


class DomainError(Exception):
    """A rule refused an action; the message is shown to the person."""

    status = 400


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class InvalidInput(DomainError):
    status = 400


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        return render_template("errors/error.html", code=exc.status, message=str(exc)), exc.status

    for code in (400, 403, 404, 405, 409, 413):

        @app.errorhandler(code)
        def _http_error(exc, code=code):
            return render_template("errors/error.html", code=code, message=None), code

    @app.errorhandler(SQLAlchemyError)
    def _database_error(exc: SQLAlchemyError):
        if not is_database_unavailable(exc):
            raise exc  # a real bug: the 500 handler (or the test) sees it as before
        log.warning("database unavailable, answering 503: %s", exc)
        return unavailable_response()

    @app.errorhandler(500)
    def _internal_error(exc):
        original = getattr(exc, "original_exception", None)
        if original is not None and is_database_unavailable(original):
            log.warning("database unavailable, answering 503: %s", original)
            return unavailable_response()
        return render_template("errors/error.html", code=500, message=None), 500
