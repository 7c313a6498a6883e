"""Reporting: read-only dashboards and exports over every other domain; its one table is export_jobs (large exports
prepared by the worker, lms.reporting.jobs). The progress summaries it reads are lms.tracks' enrollment_progress,
kept on write; see lms.reporting.services."""
from flask import Flask


def register(app: Flask) -> None:
    from lms.core import lazy, outbox

    # the managers' dashboard and exports are imported on their first request (lms/core/lazy.py)
    lazy.register_blueprint(app, "lms.reporting.views:bp")
    outbox.register_sender("export", "lms.reporting.jobs:sender_factory")  # lms.reporting.jobs.KIND
