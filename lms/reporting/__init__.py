"""Reporting: read-only dashboards and exports over every other domain; owns no tables (the progress summaries it
reads are lms.tracks' enrollment_progress, kept on write; see lms.reporting.services)."""
from flask import Flask


def register(app: Flask) -> None:
    from lms.reporting import views

    app.register_blueprint(views.bp)
