"""LTI 1.3 / LTI Advantage tool: launches, deep linking, grade passback and roster import.
Public functions: :mod:`lms.lti.services`; pylti1p3 wiring: :mod:`lms.lti.tool`; scores: :mod:`lms.lti.grades`."""
from flask import Flask

_SUBSCRIBED: list = []


def register(app: Flask) -> None:
    from lms.core import outbox
    from lms.lti import grades, views

    app.register_blueprint(views.bp)
    app.register_blueprint(views.manage_bp)
    app.cli.add_lazy_command("lti", "lms.lti.cli:lti_cli")
    outbox.register_sender(grades.KIND, grades.sender_factory)
    if not _SUBSCRIBED:
        _subscribe()
        _SUBSCRIBED.append(True)


def _subscribe() -> None:
    """Graded quizzes and role-plays → scores queued for the platforms' gradebooks."""
    from lms.lti import grades
    from lms.quizzes.signals import attempt_awaiting_grading, attempt_graded
    from lms.roleplays.signals import grade_released, submitted

    attempt_graded.connect(lambda session, attempt, now, read_with_submission=None, **_:
                           grades.on_attempt_graded(session, attempt, now, read_with_submission), weak=False)
    attempt_awaiting_grading.connect(lambda session, attempt, now, read_with_submission=None, **_:
                                     grades.on_attempt_submitted(session, attempt, now, read_with_submission), weak=False)
    grades.register_with_submissions()
    submitted.connect(lambda session, submission, now, **_: grades.on_roleplay_submitted(session, submission, now), weak=False)
    grade_released.connect(lambda session, submission, now, **_: grades.on_grade_released(session, submission, now), weak=False)
