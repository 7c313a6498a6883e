"""Domain errors and their HTTP pages, and the 503 answer while the database is unavailable.

Bad input never reaches a 500: ids past 64 bits in URLs do not match (404), a JSON body nested deeper than
:data:`MAX_JSON_DEPTH` or holding a lone surrogate (``"\\ud800"``) is a 400, a body over MAX_CONTENT_LENGTH a 413
whose page never reads the body again; URL prefixes with their own error format (the API's JSON) register a
renderer with :func:`register_error_renderer`."""
from __future__ import annotations

import json
import logging
from typing import Callable

from flask import Flask, g, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.routing import IntegerConverter

log = logging.getLogger(__name__)

#: the largest id an id column holds on every database (PostgreSQL ``integer``; SQLite's holds more): a bigger
#: number in a URL is no id of ours
MAX_ID = 2 ** 31 - 1

#: how deeply a JSON body may nest objects and arrays (nothing we accept nests more than a few levels)
MAX_JSON_DEPTH = 64


class IdConverter(IntegerConverter):
    """``<int:…>`` in every URL: at most :data:`MAX_ID` (a bigger number does not match the route: 404, not a 500 from the
    database driver)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


#: (path prefix, renderer) pairs: an HTTP error under the prefix is rendered by it (see register_error_renderer)
_RENDERERS: list[tuple[str, Callable[[HTTPException], object]]] = []


def register_error_renderer(prefix: str, renderer: Callable[[HTTPException], object]) -> None:
    """HTTP errors (404, 405, 400, 413…) of URLs under ``prefix`` are answered by ``renderer`` — also those raised
    before any of the prefix's views is chosen (an unknown method, a path no route matches)."""
    _RENDERERS[:] = [(p, r) for p, r in _RENDERERS if p != prefix] + [(prefix, renderer)]


def _renderer():
    path = request.path
    return next((r for p, r in _RENDERERS if path.startswith(p)), None)


def forget_body() -> None:
    """The request body is not read again while the error is answered (forms on the page bind to the request:
    re-reading an oversized or unreadable body would raise again, inside the error handler)."""
    from werkzeug.datastructures import ImmutableMultiDict

    request.__dict__["form"] = ImmutableMultiDict()
    request.__dict__["files"] = ImmutableMultiDict()
    request._cached_data = b""
    request._cached_json = (None, None)


def allowed_methods(exc: HTTPException) -> list[str]:
    return [m for m in (getattr(exc, "valid_methods", None) or []) if m not in ("HEAD", "OPTIONS")]


def json_problem(raw: bytes) -> str | None:
    """Why a JSON body cannot be taken (too deeply nested, a lone surrogate escape), or None."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return _("El JSON está anidado a más de %(n)d niveles.", n=MAX_JSON_DEPTH)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    if b"\\u" in raw or b"\\U" in raw:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            return None  # malformed JSON: the view says so in its own words
        if _has_surrogate(data):
            return _("El JSON contiene un carácter no válido (un sustituto UTF-16 suelto, como \\ud800).")
    return None


def _has_surrogate(value) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return False

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
    app.url_map.converters["int"] = IdConverter  # before any route is added

    def _refuse_unreadable_json():
        # before everything else that reads the body (the NUL check parses JSON too): a deeply nested body would
        # overflow the parser's recursion, a lone surrogate would fail in the database driver
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.is_json:
            problem = json_problem(request.get_data(cache=True))
            if problem:
                raise BadRequest(description=problem)

    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_unreadable_json)

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        return render_template("errors/error.html", code=exc.status, message=str(exc)), exc.status

    for code in (400, 403, 404, 405, 409, 413):

        @app.errorhandler(code)
        def _http_error(exc, code=code):
            if code in (400, 413):
                forget_body()
            renderer = _renderer()
            if renderer is not None:
                return renderer(exc)
            message = None
            if code == 400 and isinstance(exc, HTTPException) and exc.description != type(exc).description:
                message = exc.description  # ours, in the person's language
            response = make_response(render_template("errors/error.html", code=code, message=message), code)
            if code == 405:
                response.headers["Allow"] = ", ".join(allowed_methods(exc))
            return response

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
