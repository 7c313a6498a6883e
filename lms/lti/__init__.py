"""LTI 1.3 / LTI Advantage tool: launches, deep linking, grade passback and roster import.
Public functions: :mod:`lms.lti.services`; pylti1p3 wiring: :mod:`lms.lti.tool`; scores: :mod:`lms.lti.grades`."""
from flask import Flask

_SUBSCRIBED: list = []


def register(app: Flask) -> None:
    from lms.core import lazy, outbox

    # the launch and management pages, and the scores' module, are imported when first needed (lms/core/lazy.py)
    lazy.register_blueprint(app, "lms.lti.views:bp")
    lazy.register_blueprint(app, "lms.lti.views:manage_bp")
    app.cli.add_lazy_command("lti", "lms.lti.cli:lti_cli")
    outbox.register_sender("lti-score", "lms.lti.grades:sender_factory")
    if not _SUBSCRIBED:
        _subscribe()
        _SUBSCRIBED.append(True)


def _subscribe() -> None:
    """Graded quizzes and role-plays → scores queued for the platforms' gradebooks (lms.lti.grades, imported by the
    first event)."""
    from lms.quizzes import services as quizzes
    from lms.quizzes.signals import attempt_awaiting_grading, attempt_graded
    from lms.roleplays.signals import grade_released, submitted

    def graded(session, attempt, now, read_with_submission=None, **_):
        from lms.lti import grades

        grades.on_attempt_graded(session, attempt, now, read_with_submission)

    def awaiting(session, attempt, now, read_with_submission=None, **_):
        from lms.lti import grades

        grades.on_attempt_submitted(session, attempt, now, read_with_submission)

    def roleplay_submitted(session, submission, now, **_):
        from lms.lti import grades

        grades.on_roleplay_submitted(session, submission, now)

    def released(session, submission, now, **_):
        from lms.lti import grades

        grades.on_grade_released(session, submission, now)

    def any_scored_link():
        from lms.lti import grades

        return grades.ANY_SCORED_LINK

    for signal, receiver in ((attempt_graded, graded), (attempt_awaiting_grading, awaiting),
                             (submitted, roleplay_submitted), (grade_released, released)):
        signal.connect(receiver, weak=False)
    # whether the agent launched from a scored link of the quiz: read by the statement that submits
    quizzes.read_with_submission(SCORED_LINKS_KEY, any_scored_link,
                                 lambda attempt: {"b_target": f"quiz:{attempt.quiz.slug}"})


#: the name of what a quiz's submission reads for LTI (lms.lti.grades.ANY_SCORED_LINK)
SCORED_LINKS_KEY = "lti_scored_links"
