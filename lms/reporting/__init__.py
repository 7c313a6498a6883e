"""Reporting: read-only dashboards and exports over every other domain; owns no tables."""
from flask import Flask


def register(app: Flask) -> None:
    from lms.reporting import views

    app.register_blueprint(views.bp)
