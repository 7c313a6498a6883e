"""Escalation: the handbook's 4-level escalation model as a rules engine.

One engine serves agents on the job (the advisor page), trainers and integrations
(``flask --app lms escalation advise FILE``) and the quiz engine's escalation
drills.  Every decision quotes the handbook passage it applies, and says so when
the handbook leaves a gap and a house reading was used.
"""
from flask import Flask


def register(app: Flask) -> None:
    from lms.core import lazy

    lazy.register_blueprint(app, "lms.escalation.views:bp")  # the advisor's pages: imported on first request
    app.cli.add_lazy_command("escalation", "lms.escalation.cli:escalation_cli")
