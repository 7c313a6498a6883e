"""Evidence for the API to report: graded quiz attempts and role-plays."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from lms.quizzes import services as quizzes
from lms.quizzes.simulate import answer_attempt
from lms.roleplays import services as roleplays

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)


def graded_attempt(session, agent, share: float, when: datetime):
    attempt = quizzes.start_attempt(session, agent, quizzes.get_quiz(session, "evaluacion-a"), now=when)
    quizzes.submit_attempt(session, attempt, agent, answer_attempt(attempt, share), now=when + timedelta(minutes=2))
    return attempt


def practice(session, agent, when: datetime):
    submission = roleplays.start_practice(session, agent, roleplays.get_scenario(session, "chat-retraso"), now=when)
    for text in ("Hola, Ana.", "Gracias, Ana."):
        roleplays.reply(session, submission, agent, thread="ana", text=text, now=when)
    roleplays.submit(session, submission, agent, escalation=None, now=when)
    return submission


def grade(session, submission, trainer, action: str, level: int, when: datetime):
    return roleplays.save_grade(session, submission, actor=trainer, levels={"tiempo": level}, comments={"tiempo": "Rápida."},
                                overall="Bien.", inline=[], action=action, expected_revision=0, now=when)
