"""The REST API for HR and reporting systems: token-authenticated JSON under /api/v1, described by OpenAPI 3.1.

Owns API tokens (``/manage/api-tokens`` for admins and ``flask --app lms api …``), the JSON views
(:mod:`lms.api.views`) and their description (``data/openapi.yaml``, served at /api/v1/openapi.json).
Token functions: :mod:`lms.api.services`.
"""
from flask import Flask


def register(app: Flask) -> None:
    from lms.api import errors
    from lms.core import lazy
    from lms.core.errors import register_error_renderer
    from lms.core.security import csrf

    register_error_renderer("/api/", errors.http_error_response)
    # the JSON views and the tokens' page are imported on their first request (lms/core/lazy.py)
    api = lazy.register_blueprint(app, "lms.api.views:bp")
    csrf.exempt(api)  # bearer tokens, never cookies: nothing for a forged form to ride on
    lazy.register_blueprint(app, "lms.api.manage_views:bp")
    app.cli.add_lazy_command("api", "lms.api.cli:api_cli")
