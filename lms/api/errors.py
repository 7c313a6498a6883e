"""One JSON shape for every API error: ``{"error": {"code", "message", "details"?}}``.

| status | code | when |
| --- | --- | --- |
| 400 | ``invalid_json`` | the body is not a JSON object |
| 400 | ``validation_failed`` | a parameter or field is wrong (``details`` maps each to its problem), or the request
  itself cannot be read (a NUL character, JSON nested too deeply or with a lone surrogate) |
| 401 | ``unauthorized`` / ``invalid_token`` | no bearer token / an unknown, revoked or expired one |
| 403 | ``insufficient_scope`` | the token lacks the scope (``details.required_scope``) |
| 404 | ``not_found`` | no such resource (or URL) |
| 405 | ``method_not_allowed`` | the URL exists, not with that method (``Allow`` lists the methods) |
| 409 | ``conflict`` | the change clashes with existing data (an e-mail or team name in use) |
| 413 | ``payload_too_large`` | the body is over ``MAX_CONTENT_LENGTH`` |
| 500 | ``internal_error`` | a fault of ours |
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import RoutingException

from lms.core.errors import Conflict, DomainError, Forbidden, NotFound

REALM = "lms-api"

_HTTP_CODES = {400: "validation_failed", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
               409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 500: "internal_error"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details, self.headers = status, code, message, details, headers or {}


def validation_error(details: dict[str, str]) -> ApiError:
    return ApiError(400, "validation_failed", _("Hay datos no válidos: revisa «details»."), details)


def error_response(status: int, code: str, message: str, details: dict | None = None, headers: dict | None = None):
    error = {"code": code, "message": message}
    if details:
        error["details"] = details
    response = jsonify({"error": error})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def not_found():
    return error_response(404, "not_found", _("No existe ningún recurso en esta dirección."))


#: the catch-all views of the API (a JSON 404/405 for anything the description does not have)
CATCH_ALL = ("api.unknown", "api.unknown_root")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods() -> list[str]:
    """The methods the request's URL answers (not counting the catch-all)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in METHODS:
        try:
            endpoint, _values = adapter.match(method=method)
        except (HTTPException, RoutingException):
            continue
        if endpoint not in CATCH_ALL:
            allowed.append(method)
    return allowed


def http_error_response(exc: HTTPException):
    """Any HTTP error under /api/ in the documented shape (also those raised before a view is chosen: an
    unknown method such as TRACE, a path no route matches such as one with an encoded newline)."""
    status = exc.code or 500
    if status == 405 or (status == 404 and request.method not in METHODS and request.method not in ("HEAD", "OPTIONS")):
        allowed = allowed_methods()
        if allowed:
            return error_response(405, "method_not_allowed", _("Este método no está permitido en esta dirección."),
                                  headers={"Allow": ", ".join(allowed)})
        if status == 405:
            return not_found()
    messages = {404: _("No existe ningún recurso en esta dirección."),
                405: _("Este método no está permitido en esta dirección."),
                413: _("El cuerpo de la petición es demasiado grande.")}
    message = messages.get(status)
    if message is None:
        ours = exc.description != type(exc).description  # a description we wrote, in the person's language
        message = exc.description if ours else _("La petición no es válida.")
    return error_response(status, _HTTP_CODES.get(status, "validation_failed" if status < 500 else "internal_error"), message)


def register_handlers(bp: Blueprint) -> None:
    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @bp.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        # a rule refused the action; the services' messages are written for people already
        if isinstance(exc, NotFound):
            return error_response(404, "not_found", str(exc))
        if isinstance(exc, Conflict):
            return error_response(409, "conflict", str(exc))
        if isinstance(exc, Forbidden):
            return error_response(403, "forbidden", str(exc))
        return error_response(400, "validation_failed", str(exc))

    def _http_error(exc: HTTPException):
        return http_error_response(exc)

    # by code as well as by class: the application's HTML handlers are registered by code, and Flask
    # prefers a handler for the code (even the application's) to a blueprint's handler for the class
    bp.register_error_handler(HTTPException, _http_error)
    for code in _HTTP_CODES:
        if code != 500:
            bp.register_error_handler(code, _http_error)

    @bp.errorhandler(InternalServerError)
    def _server_error(_exc):
        return error_response(500, "internal_error", _("Error interno. Se ha registrado; inténtalo de nuevo más tarde."))
