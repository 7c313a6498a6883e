"""The quiz pages of trainers, managers and integrations: attempts to grade, accommodations, the questions to
export, the banks' counts, the REST API's query of attempts.

Plain functions: they take the session, flush and never commit.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from lms.core.errors import InvalidInput, NotFound
from lms.quizzes.models import Accommodation, AttemptSlot, Question, QuestionBank, QuestionVersion, Quiz, QuizAttempt
from lms.quizzes.states import AttemptState


# Trainers and managers ---------------------------------------------------------------

def attempts_for(session: Session, quiz: Quiz | None, user_ids: list[int], *, states: tuple[str, ...] | None = None) -> list[QuizAttempt]:
    """Attempts of these agents (at one quiz or all), with their slots and questions loaded."""
    if not user_ids:
        return []
    stmt = (select(QuizAttempt).where(QuizAttempt.user_id.in_(user_ids))
            .options(selectinload(QuizAttempt.slots).selectinload(AttemptSlot.question_version), selectinload(QuizAttempt.quiz))
            .order_by(QuizAttempt.submitted_at, QuizAttempt.id))
    if quiz is not None:
        stmt = stmt.where(QuizAttempt.quiz_id == quiz.id)
    if states:
        stmt = stmt.where(QuizAttempt.state.in_(states))
    return list(session.scalars(stmt))


def grading_queue(session: Session, user_ids: list[int]) -> list[QuizAttempt]:
    """Submitted attempts waiting for a trainer (essays), oldest first."""
    return attempts_for(session, None, user_ids, states=(AttemptState.submitted.value,))


def grant_accommodation(session: Session, *, actor, user_ids: list[int], time_multiplier: float, extra_attempts: int,
                        reason: str, now: datetime) -> int:
    """Give (or change) extra time and attempts to several agents at once. Returns how many were set."""
    if not 1.0 <= time_multiplier <= 4.0:
        raise InvalidInput(_("El tiempo adicional debe estar entre ×1 y ×4."))
    if not 0 <= extra_attempts <= 10:
        raise InvalidInput(_("Los intentos adicionales deben estar entre 0 y 10."))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Indica el motivo de la adaptación."))
    existing = {a.user_id: a for a in session.scalars(select(Accommodation).where(Accommodation.user_id.in_(user_ids)))}
    for user_id in user_ids:
        row = existing.get(user_id) or Accommodation(user_id=user_id)
        row.time_multiplier, row.extra_attempts, row.reason = time_multiplier, extra_attempts, reason[:500]
        row.granted_by_id, row.updated_at = actor.id, now
        session.add(row)
    session.flush()
    return len(user_ids)


def accommodations_for(session: Session, user_ids: list[int]) -> dict[int, Accommodation]:
    if not user_ids:
        return {}
    return {a.user_id: a for a in session.scalars(select(Accommodation).where(Accommodation.user_id.in_(user_ids)))}


# Import and export ---------------------------------------------------------------------

def exportable_questions(session: Session, *, bank: str | None = None, quiz: str | None = None) -> list[dict]:
    """The current version of the questions of a bank, of the questions a quiz can draw, or of every bank."""
    stmt = (select(QuestionBank.slug, QuestionVersion.data)
            .join(Question, (Question.id == QuestionVersion.question_id) & (QuestionVersion.version == Question.current_version))
            .join(QuestionBank, QuestionBank.id == Question.bank_id)
            .where(Question.is_archived.is_(False))
            .order_by(QuestionBank.slug, Question.position))
    if bank and session.scalar(select(QuestionBank.id).where(QuestionBank.slug == bank)) is None:
        raise NotFound(_("No existe el banco «%(bank)s».", bank=bank))
    rows = [(bank_slug, dict(data)) for bank_slug, data in session.execute(stmt)]
    if bank:
        rows = [(b, q) for b, q in rows if b == bank]
    if quiz:
        from lms.quizzes.services import get_quiz  # (the engine's reader: services imports nothing of this module)

        rules = get_quiz(session, quiz).settings["draw"]
        wanted = {slug for r in rules for slug in r.get("questions", [])}
        pools = [(r["bank"], set(r["tags"])) for r in rules if "bank" in r]
        rows = [(b, q) for b, q in rows if q["id"] in wanted or any(b == pb and tags <= set(q.get("tags", [])) for pb, tags in pools)]
    questions = []
    for _bank, q in rows:
        q["sources"] = [{"ref": s["ref"], "quote": s["quote"]} for s in q.get("sources", [])]
        if q.get("points") == 1:
            q.pop("points")
        questions.append(q)
    return questions


def bank_counts(session: Session) -> list[tuple[QuestionBank, int]]:
    rows = session.execute(
        select(QuestionBank, func.count(Question.id)).outerjoin(Question, (Question.bank_id == QuestionBank.id) & Question.is_archived.is_(False))
        .where(QuestionBank.is_archived.is_(False)).group_by(QuestionBank.id).order_by(QuestionBank.slug)
    )
    return [(bank, n) for bank, n in rows]


# For integrations (the REST API) ---------------------------------------------------

def attempts_query(*, user_id: int | None = None, user_ids=None, quiz_slug: str | None = None, state: str | None = None,
                   passed: bool | None = None, submitted_after: datetime | None = None):
    """A select() of attempts with their quiz (``user_ids``: a select of ids, e.g. a team's agents)."""
    stmt = select(QuizAttempt).options(selectinload(QuizAttempt.quiz))
    if user_id is not None:
        stmt = stmt.where(QuizAttempt.user_id == user_id)
    if user_ids is not None:
        stmt = stmt.where(QuizAttempt.user_id.in_(user_ids))
    if quiz_slug:
        stmt = stmt.where(QuizAttempt.quiz_id.in_(select(Quiz.id).where(Quiz.slug == quiz_slug)))
    if state:
        stmt = stmt.where(QuizAttempt.state == state)
    if passed is not None:
        stmt = stmt.where(QuizAttempt.passed.is_(passed))
    if submitted_after is not None:
        stmt = stmt.where(QuizAttempt.submitted_at >= submitted_after)
    return stmt
