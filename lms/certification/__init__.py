"""Certification: definitions (what each certification requires, how long it is
valid) read from ``courses/certifications``; records, issuing and verification
join them in the certification issue.  Public functions: :mod:`lms.certification.services`.
"""
from flask import Flask


_SUBSCRIBED: list = []


def register(app: Flask) -> None:
    from lms.content import register_loader

    from lms.core import lazy
    from lms.certification.services import home_notices as services_notices

    register_loader("certification", "lms.certification.loader:CertificationsLoader")  # imported when first needed
    # the certificates' pages are imported on their first request (lms/core/lazy.py)
    lazy.register_blueprint(app, "lms.certification.views:bp")
    lazy.register_blueprint(app, "lms.certification.manage_views:bp")
    app.cli.add_lazy_command("certification", "lms.certification.cli:certification_cli")
    from lms.tracks.services import HOME_NOTICES

    if services_notices not in HOME_NOTICES:
        HOME_NOTICES.append(services_notices)

    # refresher quizzes are open to agents whose recertification path asks for them
    from lms.certification.services import may_take_for_recertification
    from lms.quizzes import services as quizzes

    by_tracks = quizzes.ACCESS_POLICY["may_take"]
    if not getattr(by_tracks, "with_recertification", False):
        def may_take(session, user, quiz):
            return by_tracks(session, user, quiz) or may_take_for_recertification(session, user, quiz)

        may_take.with_recertification = True
        quizzes.ACCESS_POLICY["may_take"] = may_take
    if not _SUBSCRIBED:
        _subscribe()
        _SUBSCRIBED.append(True)


def _subscribe() -> None:
    """New evidence (a lesson, a graded quiz, a released role-play) → issue what the agent now meets."""
    from lms.certification import evidence as evidence_module, services
    from lms.quizzes.signals import attempt_graded
    from lms.roleplays.signals import grade_released
    from lms.tracks.signals import lesson_completed

    def on_evidence(session, user_id, now, evidence, completions=None):
        issued = services.on_evidence(session, user_id, now, evidence, completions)
        _tell_the_agent(user_id, issued)

    lesson_completed.connect(lambda session, user_id, now, **_: on_evidence(session, user_id, now, ("lesson", None)), weak=False)
    def on_attempt_graded(session, attempt, now, read_with_submission=None, **_):
        evidence = services.attempt_evidence(attempt)
        if evidence is not None:  # None: a failed attempt, which can make no requirement met
            on_evidence(session, attempt.user_id, now, evidence, evidence_module.known_completions(read_with_submission))

    attempt_graded.connect(on_attempt_graded, weak=False)
    evidence_module.register_with_submissions()
    grade_released.connect(lambda session, submission, now, **_: on_evidence(session, submission.user_id, now, ("roleplay", None))
                           if submission.user_id else None, weak=False)


def _tell_the_agent(user_id: int, issued: list) -> None:
    """When the agent's own action earned a certificate, say so on the next page."""
    from flask import flash, has_request_context
    from flask_babel import gettext as _
    from flask_login import current_user

    if issued and has_request_context() and current_user.is_authenticated and current_user.id == user_id:
        for record in issued:
            flash(_("¡Enhorabuena! Has obtenido la certificación «%(title)s». Está en «Mis certificaciones».",
                    title=record.definition.title), "success")
