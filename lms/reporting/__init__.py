"""Reporting: read-only dashboards and exports over every other domain; its one table is export_jobs (large exports
prepared by the worker, lms.reporting.jobs). The progress summaries it reads are lms.tracks' enrollment_progress,
kept on write; see lms.reporting.services."""
from flask import Flask


def register(app: Flask) -> None:
    from lms.core import outbox
    from lms.reporting import jobs, views

    app.register_blueprint(views.bp)
    outbox.register_sender(jobs.KIND, jobs.sender_factory)
