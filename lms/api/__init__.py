"""The REST API for HR and reporting systems: token-authenticated JSON under /api/v1, described by OpenAPI 3.1.

Owns API tokens (``/manage/api-tokens`` for admins and ``flask --app lms api …``), the JSON views
(:mod:`lms.api.views`) and their description (``data/openapi.yaml``, served at /api/v1/openapi.json).
Token functions: :mod:`lms.api.services`.
"""
from flask import Flask


def register(app: Flask) -> None:
    from lms.api import errors, manage_views, views
    from lms.core.errors import register_error_renderer
    from lms.core.security import csrf

    register_error_renderer("/api/", errors.http_error_response)
    app.register_blueprint(views.bp)
    csrf.exempt(views.bp)  # bearer tokens, never cookies: nothing for a forged form to ride on
    app.register_blueprint(manage_views.bp)
    app.cli.add_lazy_command("api", "lms.api.cli:api_cli")
