"""Quizzes: question banks with versioned questions, the question-type registry,
and quiz definitions (which questions an attempt draws, time, attempts, pass mark,
review).  Public functions: :mod:`lms.quizzes.services`.
"""
from flask import Flask


def register(app: Flask) -> None:
    from lms.content import register_loader

    from lms.core import lazy
    from lms.quizzes import views

    register_loader("quizzes", "lms.quizzes.loader:QuizzesLoader")  # imported by the first check or sync
    app.register_blueprint(views.bp)
    lazy.register_blueprint(app, "lms.quizzes.manage_views:bp")  # trainers' pages: imported on first request

    from lms.quizzes.question_types import DRILL_DESTINATIONS, DRILL_PRIORITIES

    @app.context_processor
    def _drill_options():
        from lms.escalation import labels
        return {"destinations": DRILL_DESTINATIONS, "priorities": DRILL_PRIORITIES, "drill_labels": labels}
    app.cli.add_lazy_command("quizzes", "lms.quizzes.cli:quizzes_cli")
