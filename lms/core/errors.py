"""Domain errors and their HTTP pages."""
from __future__ import annotations

from flask import Flask, render_template


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

    for code in (400, 403, 404, 405, 409, 413, 500):

        @app.errorhandler(code)
        def _http_error(exc, code=code):
            return render_template("errors/error.html", code=code, message=None), code
