"""Results and summaries of quizzes: an agent's grade from their attempts, and the summary row per (agent, quiz)
kept up to date on every change of an attempt, which progress pages, dashboards and certification read.

Plain functions: they take the session, flush and never commit. (Re-exported by :mod:`lms.quizzes.services`.)
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.quizzes import signals
from lms.quizzes.models import QuizAttempt, Quiz, QuizSummary
from lms.quizzes.states import AttemptState


# Results ------------------------------------------------------------------------

def quiz_grade(attempts: list[QuizAttempt], method: str) -> float | None:
    """The quiz grade from graded attempts: highest, last or average percent."""
    graded = [a.percent for a in sorted(attempts, key=lambda a: a.number) if a.state == AttemptState.graded.value]
    if not graded:
        return None
    if method == "last":
        return graded[-1]
    if method == "average":
        return round(sum(graded) / len(graded), 2)
    return max(graded)


@dataclass
class QuizResult:
    quiz: Quiz
    #: the attempts: ORM objects, or from :func:`results` read-only rows with the same attribute names
    attempts: list

    @cached_property
    def grade(self) -> float | None:
        """Computed once: the attempts do not change while a page is built."""
        return quiz_grade(self.attempts, self.quiz.settings.get("grade_method", "highest"))

    @property
    def passed(self) -> bool:
        return self.grade is not None and self.grade >= self.quiz.settings["pass_mark"]


#: what results() reads of an attempt (read-only rows: dashboards over thousands of agents build no ORM objects)
RESULT_COLUMNS = (QuizAttempt.id, QuizAttempt.user_id, QuizAttempt.quiz_id, QuizAttempt.number, QuizAttempt.state,
                  QuizAttempt.started_at, QuizAttempt.submitted_at, QuizAttempt.graded_at,
                  QuizAttempt.percent, QuizAttempt.passed)


def results(session: Session, user_ids: list[int], quizzes: list[Quiz]) -> dict[tuple[int, int], QuizResult]:
    """Every (user, quiz) result in one query; the attempts are read-only rows (see RESULT_COLUMNS)."""
    out = {(u, q.id): QuizResult(q, []) for u in user_ids for q in quizzes}
    if not user_ids or not quizzes:
        return out
    for attempt in session.execute(select(*RESULT_COLUMNS).where(QuizAttempt.user_id.in_(user_ids),
                                                                 QuizAttempt.quiz_id.in_([q.id for q in quizzes]))
                                   .order_by(QuizAttempt.number)):
        out[(attempt.user_id, attempt.quiz_id)].attempts.append(attempt)
    return out


# Summaries: one row per (agent, quiz), kept up to date on every change of an attempt ---------------

@dataclass(frozen=True)
class Standing:
    """An agent's standing in a quiz (from quiz_summaries): what progress pages and dashboards need."""

    quiz: Quiz
    attempts: int = 0
    graded: int = 0
    pending: int = 0
    grade: float | None = None
    passed: bool = False
    first_passed_at: datetime | None = None
    last_activity_at: datetime | None = None


def summarise(quiz: Quiz, attempts: list) -> dict:
    """The summary of a quiz's attempts by one agent (ORM objects or rows with RESULT_COLUMNS' names)."""
    grade = quiz_grade(attempts, quiz.settings.get("grade_method", "highest"))
    graded = [a for a in attempts if a.state == AttemptState.graded.value]
    return {
        "attempts": len(attempts), "graded": len(graded),
        "pending": sum(1 for a in attempts if a.state == AttemptState.submitted.value),
        "grade": grade, "passed": grade is not None and grade >= float(quiz.settings["pass_mark"]),
        "first_passed_at": min(((a.graded_at or a.submitted_at) for a in graded if a.passed), default=None),
        "last_activity_at": max(((a.submitted_at or a.started_at) for a in attempts), default=None),
    }


def refresh_summary(session: Session, user_id: int, quiz: Quiz) -> QuizSummary:
    """Recompute the agent's summary row for this quiz from their attempts (a handful of rows)."""
    session.flush()
    rows = session.execute(select(*RESULT_COLUMNS).where(QuizAttempt.user_id == user_id, QuizAttempt.quiz_id == quiz.id)
                           .order_by(QuizAttempt.number)).all()
    values = summarise(quiz, rows)
    mine = select(QuizSummary).where(QuizSummary.user_id == user_id, QuizSummary.quiz_id == quiz.id).with_for_update()
    mine = mine.execution_options(populate_existing=True)  # the row as stored (an UPDATE of increments may have moved it)
    summary = session.scalar(mine)
    after = signals.Figures(values["grade"], values["passed"], values["first_passed_at"], values["last_activity_at"])

    def news(summary: QuizSummary | None) -> dict:
        before = signals.NO_FIGURES if summary is None else signals.Figures(
            summary.grade, summary.passed, summary.first_passed_at, summary.last_activity_at)
        return {"user_id": user_id, "quiz": quiz, "last_activity_at": values["last_activity_at"],
                "grade_changed": before[:3] != after[:3], "before": before, "after": after}

    if summary is None:
        try:
            with session.begin_nested():
                summary = QuizSummary(user_id=user_id, quiz_id=quiz.id, **values)
                session.add(summary)
                session.flush()
            signals.standing_changed.send(session, **news(None))
            return summary
        except IntegrityError:  # another request created it at the same moment
            summary = session.scalar(mine)
    sent = news(summary)
    for key, value in values.items():
        setattr(summary, key, value)
    session.flush()
    signals.standing_changed.send(session, **sent)
    return summary


SUMMARY_COLUMNS = (QuizSummary.user_id, QuizSummary.quiz_id, QuizSummary.attempts, QuizSummary.graded, QuizSummary.pending,
                   QuizSummary.grade, QuizSummary.passed, QuizSummary.first_passed_at, QuizSummary.last_activity_at)


def standings(session: Session, user_ids: list[int], quizzes: list[Quiz]) -> dict[tuple[int, int], Standing]:
    """Every (agent, quiz) standing in one query over the summaries (agents without attempts get an empty one)."""
    by_id = {q.id: q for q in quizzes}
    out = {(u, q.id): Standing(q) for u in user_ids for q in quizzes}
    if not user_ids or not quizzes:
        return out
    for row in session.execute(select(*SUMMARY_COLUMNS).where(QuizSummary.user_id.in_(user_ids), QuizSummary.quiz_id.in_(list(by_id)))):
        out[(row.user_id, row.quiz_id)] = Standing(by_id[row.quiz_id], row.attempts, row.graded, row.pending, row.grade, row.passed,
                                                   row.first_passed_at, row.last_activity_at)
    return out


def rebuild_summaries(session: Session, *, batch: int = 5000) -> int:
    """Recompute every summary from the attempts (after a bulk import, or to repair); returns the rows written."""
    from sqlalchemy import delete, insert

    quizzes = {q.id: q for q in session.scalars(select(Quiz))}
    session.execute(delete(QuizSummary))
    pending_rows, written = [], 0
    key, group = None, []

    def flush_group():
        if key is not None and group:
            pending_rows.append({"user_id": key[0], "quiz_id": key[1], **summarise(quizzes[key[1]], group)})

    stmt = select(*RESULT_COLUMNS).order_by(QuizAttempt.user_id, QuizAttempt.quiz_id, QuizAttempt.number)
    for row in session.execute(stmt.execution_options(yield_per=batch)):
        if (row.user_id, row.quiz_id) != key:
            flush_group()
            key, group = (row.user_id, row.quiz_id), []
            if len(pending_rows) >= batch:
                session.execute(insert(QuizSummary), pending_rows)
                written += len(pending_rows)
                pending_rows = []
        group.append(row)
    flush_group()
    if pending_rows:
        session.execute(insert(QuizSummary), pending_rows)
        written += len(pending_rows)
    session.flush()
    return written
