"""Tracks: the onboarding programmes, their modules (weeks, months) and lessons.

Owns enrollments with start dates, lesson completion, progress, due and
overdue dates, the agent's home page and calendar, and the managers' and
trainers' progress views.  Public functions: :mod:`lms.tracks.services`.
"""
from flask import Flask


def register(app: Flask) -> None:
    from lms.content import register_loader
    from lms.core import lazy
    from lms.tracks import views

    from lms.accounts import imports

    imports.register_writer("enrollments", services_import_writer)
    register_loader("tracks", "lms.tracks.loader:TracksLoader")  # imported by the first check or sync
    register_loader("progress", "lms.tracks.loader:ProgressLoader")
    app.register_blueprint(views.bp)
    app.add_url_rule("/", endpoint="home", view_func=views.home)

    from lms.reference.views import VISIBILITY_HOOKS
    from lms.tracks.services import visible_lesson_slugs

    VISIBILITY_HOOKS["lesson"] = visible_lesson_slugs

    from lms.accounts import services as accounts
    from lms.quizzes import services as quizzes
    from lms.tracks.services import may_take_quiz

    quizzes.ACCESS_POLICY["may_take"] = may_take_quiz
    quizzes.ACCESS_POLICY["may_supervise"] = lambda session, viewer, agent_id: accounts.can_supervise(
        session, viewer, accounts.get_user(session, agent_id))
    lazy.register_blueprint(app, "lms.tracks.manage_views:bp")  # trainers' pages: imported on first request
    app.cli.add_lazy_command("tracks", "lms.tracks.cli:tracks_cli")

    from lms.quizzes.signals import standing_changed
    from lms.tracks.services import (ACTIVITY_WITH_SUBMISSION, _on_standing_changed, activity_with_submission,
                                     activity_with_submission_params)

    standing_changed.connect(_on_standing_changed, weak=False)  # progress summaries follow quiz standings
    # (and their activity moves in PostgreSQL's statement that submits, when the grade does not)
    quizzes.write_with_submission(ACTIVITY_WITH_SUBMISSION, activity_with_submission, activity_with_submission_params)

    from lms.accounts.zones import CALENDAR_HOOKS
    from lms.core.clock import now_utc
    from lms.tracks.services import refresh_progress

    CALENDAR_HOOKS[:] = [lambda session, user_ids: refresh_progress(session, user_ids, now=now_utc())]

def services_import_writer(session, job, now):
    """The write step of a background enrollment import (lms.accounts.imports): as the person who uploaded it."""
    from flask_babel import gettext as _

    from lms.accounts import services as accounts
    from lms.tracks import services

    actor = accounts.get_user(session, job.created_by_id) if job.created_by_id else None
    if actor is None:
        result = accounts.CsvImportResult(errors=[(1, _("La persona que subió el archivo ya no existe."))], rolled_back=True)
        return result
    return services.import_enrollments_csv(session, job.text, actor=actor, now=now, skip_invalid=job.skip_invalid)
