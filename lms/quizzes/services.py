"""The quiz engine's rules: starting, saving, submitting, grading, reviewing.

Plain functions: they take the session and ``now``, flush and never commit.  Who
may take a quiz is decided by :data:`ACCESS_POLICY`, filled in by the tracks
domain at registration (quizzes know nothing of tracks).
"""
from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta
from typing import Callable, NamedTuple

from flask_babel import gettext as _
from sqlalchemy import bindparam, case, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from lms.core.db import UTCDateTime, begin_writes
from lms.core.templating import format_number, format_when
from lms.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from lms.quizzes.models import (
    Accommodation,
    AttemptEvent,
    AttemptSlot,
    Question,
    QuestionBank,
    QuestionVersion,
    Quiz,
    QuizAttempt,
    QuizSummary,
)
from lms.quizzes.attempt_reads import (  # noqa: F401  # re-exported: callers read them from here
    attempt_read_with_user,
    attempt_with_user,
    attempt_with_user_params,
    get_attempt,
    get_attempt_to_write,
    load_slots,
    slots_of,
)
from lms.quizzes import signals, versions
from lms.quizzes.slot_writes import SlotRow  # noqa: F401  # re-exported: a slot as the hot paths read it
from lms.quizzes.slot_writes import committed as _committed, write_slots as _write_slots
from lms.quizzes import slot_writes, submission
from lms.quizzes.submission import read_with_submission, write_with_submission  # noqa: F401  # re-exported: the domains above register here
from lms.quizzes.question_types import REGISTRY, AnswerError  # noqa: F401  # REGISTRY: re-exported for callers
from lms.quizzes.states import GRACE_SECONDS, AttemptState
from lms.quizzes.summaries import (  # noqa: F401  # re-exported: callers (and a migration) read them from here
    RESULT_COLUMNS,
    SUMMARY_COLUMNS,
    QuizResult,
    Standing,
    quiz_grade,
    rebuild_summaries,
    refresh_summary,
    results,
    standings,
    summarise,
)

#: Questions quizzes cannot answer alone; the tracks domain fills them in at registration.
#: may_take(session, user, quiz): may this agent take this quiz?
#: may_supervise(session, viewer, agent_id): may this trainer/manager see the agent's attempts?
ACCESS_POLICY: dict[str, Callable] = {
    "may_take": lambda session, user, quiz: False,
    "may_supervise": lambda session, viewer, agent_id: False,
}


class AttemptClosed(Conflict):
    """The attempt is no longer in progress (submitted elsewhere, or time ran out)."""


# Reading -------------------------------------------------------------------

def get_quiz(session: Session, slug: str) -> Quiz:
    quiz = session.scalar(select(Quiz).where(Quiz.slug == slug, Quiz.is_archived.is_(False)))
    if quiz is None:
        raise NotFound(_("Esa evaluación no existe."))
    return quiz


def quizzes_for_modules(session: Session, module_slugs: list[str]) -> list[Quiz]:
    if not module_slugs:
        return []
    return list(session.scalars(
        select(Quiz).where(Quiz.module_slug.in_(module_slugs), Quiz.is_archived.is_(False)).order_by(Quiz.day, Quiz.slug)
    ))


def unpassed_quizzes(user_id: int, module_slug: str, *, except_id: int | None = None):
    """A select of the ids of a module's live quizzes (but ``except_id``) that the agent has not passed, for an EXISTS."""
    summaries, quizzes_ = QuizSummary.__table__.c, Quiz.__table__.c  # Core columns: no ORM execution where it is embedded
    passed = select(summaries.quiz_id).where(summaries.user_id == user_id, summaries.passed.is_(True))
    return select(quizzes_.id).where(quizzes_.module_slug == module_slug, quizzes_.is_archived.is_(False), quizzes_.id != except_id,
                                     quizzes_.id.not_in(passed))


def list_quizzes(session: Session) -> list[Quiz]:
    return list(session.scalars(select(Quiz).where(Quiz.is_archived.is_(False)).order_by(Quiz.slug)))


_ATTEMPTS_OF = (select(QuizAttempt).where(QuizAttempt.user_id == bindparam("b_user_id"), QuizAttempt.quiz_id == bindparam("b_quiz_id"))
                .order_by(QuizAttempt.number))
_ACCOMMODATION_OF = select(Accommodation).where(Accommodation.user_id == bindparam("b_user_id"))


#: the agent's attempts at a quiz and their accommodation, in one statement: both outer-joined to a one-row anchor (one
#: row with neither when there is neither; the accommodation, unique per agent, repeated on each attempt's row)
_ATTEMPTS_AND_ACCOMMODATION = (
    select(QuizAttempt, Accommodation).select_from(select(literal(1).label("anchor")).subquery())
    .outerjoin(QuizAttempt, (QuizAttempt.user_id == bindparam("b_user_id")) & (QuizAttempt.quiz_id == bindparam("b_quiz_id")))
    .outerjoin(Accommodation, Accommodation.user_id == bindparam("b_user_id"))
    .order_by(QuizAttempt.number))


def _attempts_and_accommodation(session: Session, user_id: int, quiz: Quiz) -> tuple[list[QuizAttempt], Accommodation | None]:
    rows = session.execute(_ATTEMPTS_AND_ACCOMMODATION, {"b_user_id": user_id, "b_quiz_id": quiz.id}).all()
    return [row[0] for row in rows if row[0] is not None], rows[0][1] if rows else None


def attempts_of(session: Session, user_id: int, quiz: Quiz) -> list[QuizAttempt]:
    return list(session.scalars(_ATTEMPTS_OF, {"b_user_id": user_id, "b_quiz_id": quiz.id}))


def accommodation_of(session: Session, user_id: int) -> Accommodation | None:
    return session.scalar(_ACCOMMODATION_OF, {"b_user_id": user_id})


# Rules of taking ---------------------------------------------------------------

@dataclass
class Allowance:
    """What an agent may do with a quiz right now, and why not."""

    attempts_used: int
    attempts_allowed: int | None  # None = unlimited
    time_limit_minutes: float | None
    time_multiplier: float
    extra_attempts: int
    in_progress: QuizAttempt | None
    next_start_at: datetime | None
    reason: str | None  # why a new attempt cannot start, or None

    @property
    def can_start(self) -> bool:
        return self.reason is None


_UNREAD = object()


def allowance(session: Session, user, quiz: Quiz, *, now: datetime, attempts: list[QuizAttempt] | None = None,
              may_take: bool | None = None, accommodation=_UNREAD) -> Allowance:
    """The rules of taking for this agent now; ``attempts`` (theirs, of this quiz), ``may_take`` and ``accommodation``
    (theirs or None) when the caller already has them (a page that lists the attempts reads them once)."""
    settings = quiz.settings
    if accommodation is _UNREAD:
        accommodation = accommodation_of(session, user.id)
    multiplier = accommodation.time_multiplier if accommodation else 1.0
    extra = accommodation.extra_attempts if accommodation else 0
    if attempts is None:
        attempts = attempts_of(session, user.id, quiz)
    allowed = settings.get("attempts_allowed")
    allowed = None if allowed is None else allowed + extra
    limit = settings.get("time_limit_minutes")
    in_progress = next((a for a in attempts if a.state == AttemptState.in_progress.value and not is_overdue(a, now)), None)
    reason, next_start = None, None
    if may_take is None:
        may_take = ACCESS_POLICY["may_take"](session, user, quiz)
    if not may_take:
        reason = _("Esta evaluación no forma parte de tus itinerarios.")
    elif in_progress is None and allowed is not None and len(attempts) >= allowed:
        reason = _("Has usado todos tus intentos (%(n)d).", n=allowed)
    elif in_progress is None and attempts and settings.get("delay_between_attempts_minutes"):
        last_end = max((a.submitted_at or a.deadline_at or a.started_at) for a in attempts)
        next_start = last_end + timedelta(minutes=settings["delay_between_attempts_minutes"])
        if now < next_start:
            reason = _("Podrás empezar otro intento a partir de las %(time)s.", time=format_when(next_start, "HH:mm"))
    return Allowance(len(attempts), allowed, None if limit is None else limit * multiplier, multiplier, extra, in_progress, next_start, reason)


def start_attempt(session: Session, user, quiz: Quiz, *, now: datetime, may_take: bool | None = None) -> QuizAttempt:
    """Resume the attempt in progress, or start a new one if the rules allow (``may_take``: the access
    policy's answer when the caller has already asked it)."""
    attempts, accommodation = _attempts_and_accommodation(session, user.id, quiz)
    for attempt in attempts:
        expire_if_overdue(session, attempt, now=now)
    rules = allowance(session, user, quiz, now=now, attempts=attempts, may_take=may_take, accommodation=accommodation)
    if rules.in_progress is not None:
        return rules.in_progress
    if not rules.can_start:
        raise Forbidden(rules.reason)
    seed = secrets.randbelow(2**31)
    rng = random.Random(seed)  # nosec B311  # seed from secrets, kept to replay the draw; question order is no security boundary
    drawn = _draw(session, user.id, quiz, rng, first=rules.attempts_used == 0)
    if not drawn:
        raise InvalidInput(_("Esta evaluación no tiene preguntas disponibles."))
    settings = quiz.settings
    deadline = None if rules.time_limit_minutes is None else now + timedelta(minutes=rules.time_limit_minutes)
    values = {"quiz_id": quiz.id, "user_id": user.id, "number": rules.attempts_used + 1, "state": AttemptState.in_progress.value,
              "started_at": now, "deadline_at": deadline, "submitted_at": None, "graded_at": None, "score": None,
              "max_score": 0.0, "percent": None, "passed": None, "pass_mark": float(settings["pass_mark"]), "seed": seed,
              "revision": 1}
    slots = [{"position": position, "question_version_id": version.id, "points": float(version.data.get("points", 1)),
              "layout": version.kind.prepare(version.data, rng, settings.get("shuffle_choices", True))}
             for position, version in enumerate(drawn)]
    values["max_score"] = sum(slot["points"] for slot in slots)
    # the rules and the draw were read before the write lock (a view marked reads_first): two starts at once by
    # the same agent meet on the unique attempt number below
    begin_writes(session)
    session.flush()  # (outside a request: whatever the caller changed goes first; the statements below are Core)
    statements = _start_statements(session.get_bind().dialect.name)
    if statements is None:  # (a database without INSERT … ON CONFLICT: a savepoint catches the clash)
        try:
            with session.begin_nested():
                attempt_id = session.execute(insert(_ATTEMPTS).values(values).returning(_ATTEMPTS.c.id)).scalar_one()
        except IntegrityError:
            attempt_id = None
    else:
        attempt_id = session.execute(statements.attempt, values).scalar()
    if attempt_id is None:
        # another tab started the same attempt number at the same moment: use that one
        existing = session.scalar(select(QuizAttempt).where(
            QuizAttempt.user_id == user.id, QuizAttempt.quiz_id == quiz.id, QuizAttempt.state == AttemptState.in_progress.value))
        if existing is None:
            raise Conflict(_("No se pudo empezar el intento; vuelve a intentarlo.")) from None
        return existing
    # one executemany (the ORM would insert the slots one statement at a time to learn their ids)
    session.execute(_SLOTS_INSERT, [{"attempt_id": attempt_id, **slot} for slot in slots])
    session.execute(submission.EVENTS_INSERT, {"attempt_id": attempt_id, "actor_id": user.id, "kind": "started", "at": now, "data": {
        "deadline_at": deadline.isoformat() if deadline else None, "time_multiplier": rules.time_multiplier}})
    # the attempt as written, in the session as if it had been read (its slots are read when first needed)
    attempt = QuizAttempt(id=attempt_id, **values)
    make_transient_to_detached(attempt)
    session.add(attempt)
    _summary_after_start(session, user.id, quiz, now, statements)
    return attempt


@dataclass(frozen=True)
class _StartStatements:
    #: INSERT of the attempt, RETURNING its id; none when its number is taken (ON CONFLICT DO NOTHING)
    attempt: object
    #: INSERT of the summary's row, or one more attempt in it (ON CONFLICT DO UPDATE)
    summary: object


@lru_cache(maxsize=4)
def _start_statements(dialect: str) -> _StartStatements | None:
    """The dialect's INSERT … ON CONFLICT statements of a start, built once (None: a database without them). The dialect's
    own module is imported here: a SQLite site never loads PostgreSQL's dialect."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as upsert
    else:
        return None
    A, S = _ATTEMPTS.c, _SUMMARIES.c
    attempt = (upsert(_ATTEMPTS).on_conflict_do_nothing(index_elements=[A.quiz_id, A.user_id, A.number]).returning(A.id))
    now = bindparam("b_now", type_=UTCDateTime())
    summary = (upsert(_SUMMARIES).values(user_id=bindparam("b_user_id"), quiz_id=bindparam("b_quiz_id"), attempts=1, graded=0,
                                         pending=0, grade=None, passed=False, first_passed_at=None, last_activity_at=now)
               .on_conflict_do_update(index_elements=[S.user_id, S.quiz_id], set_={
                   "attempts": S.attempts + 1,
                   "last_activity_at": case((or_(S.last_activity_at.is_(None), S.last_activity_at < now), now),
                                            else_=S.last_activity_at)}))
    return _StartStatements(attempt, summary)


def _summary_after_start(session: Session, user_id: int, quiz: Quiz, now: datetime, statements: _StartStatements | None) -> None:
    """One more attempt in the agent's summary: one INSERT … ON CONFLICT DO UPDATE (no re-read of their attempts).
    A start changes no grade."""
    if statements is None:
        refresh_summary(session, user_id, quiz)
        return
    session.execute(statements.summary, {"b_user_id": user_id, "b_quiz_id": quiz.id, "b_now": now})
    signals.standing_changed.send(session, user_id=user_id, quiz=quiz, last_activity_at=now, grade_changed=False)


def _draw(session: Session, user_id: int, quiz: Quiz, rng: random.Random, *, first: bool = False) -> list[versions.CachedVersion]:
    """The questions of a new attempt, following the quiz's draw rules; unseen questions first (``first``: the
    agent has no attempt at this quiz yet, so none was seen and nothing is read to learn it)."""
    rules = quiz.settings["draw"]
    named = {slug for rule in rules for slug in rule.get("questions", ())}
    banks = {rule["bank"] for rule in rules if "bank" in rule}
    # only the questions this quiz can draw, only the columns the draw needs, with their current version's identity
    # (its content comes from the per-process cache), and for a retake whether the agent has seen each one
    questions = {q.slug: q for q in session.execute(_draw_statement(with_seen=not first), {
        "b_named": sorted(named), "b_banks": sorted(banks), "b_user_id": user_id, "b_quiz_id": quiz.id})}
    seen = {q.id for q in questions.values() if not first and q.seen}
    chosen: list = []
    for rule in rules:
        if "questions" in rule:
            chosen += [questions[slug] for slug in rule["questions"] if slug in questions]
            continue
        pool = [q for q in questions.values() if q.bank_slug == rule["bank"] and set(rule["tags"]) <= set(q.tags or [])
                and q not in chosen]
        pool.sort(key=lambda q: q.slug)
        rng.shuffle(pool)
        pool.sort(key=lambda q: q.id in seen)  # stable: unseen first, random within each group
        chosen += pool[: rule["count"]]
    if quiz.settings.get("shuffle_questions", True):
        rng.shuffle(chosen)
    cached = versions.resolve(session, ((q.version_id, q.content_hash, q.created_at) for q in chosen))
    return [cached[q.version_id] for q in chosen]


@lru_cache(maxsize=2)
def _draw_statement(*, with_seen: bool):
    """The draw's read, built once: the live questions a quiz can draw (named ones, and those of its banks) with their
    current version's identity; ``with_seen``: and whether the agent has been given the question in an attempt at this
    quiz (an uncorrelated IN: the agent's questions are read once, from their attempts)."""
    columns = [Question.id, Question.slug, Question.tags, QuestionBank.slug.label("bank_slug"),
               QuestionVersion.id.label("version_id"), QuestionVersion.content_hash, QuestionVersion.created_at]
    if with_seen:
        given = aliased(QuestionVersion)
        seen = (select(given.question_id)
                .join(AttemptSlot, AttemptSlot.question_version_id == given.id)
                .join(QuizAttempt, QuizAttempt.id == AttemptSlot.attempt_id)
                .where(QuizAttempt.user_id == bindparam("b_user_id"), QuizAttempt.quiz_id == bindparam("b_quiz_id")))
        columns.append(Question.id.in_(seen).label("seen"))
    candidates = (select(*columns)
                  .join(QuestionBank, QuestionBank.id == Question.bank_id)
                  .join(QuestionVersion, (QuestionVersion.question_id == Question.id) & (QuestionVersion.version == Question.current_version))
                  .where(Question.is_archived.is_(False), or_(Question.slug.in_(bindparam("b_named", expanding=True)),
                                                               QuestionBank.slug.in_(bindparam("b_banks", expanding=True)))))
    return candidates


def is_overdue(attempt: QuizAttempt, now: datetime) -> bool:
    """In progress, but its time (plus the grace period) has run out: it can no longer be submitted."""
    return (attempt.state == AttemptState.in_progress.value and attempt.deadline_at is not None
            and now > attempt.deadline_at + timedelta(seconds=GRACE_SECONDS))


def effective_state(attempt: QuizAttempt, now: datetime) -> str:
    """The state as a reader should see it (an overdue attempt is abandoned, even before it is recorded)."""
    return AttemptState.abandoned.value if is_overdue(attempt, now) else attempt.state


def expire_if_overdue(session: Session, attempt: QuizAttempt, *, now: datetime) -> bool:
    """Record as abandoned an attempt whose time ran out without a submission (writes; POST only)."""
    if not is_overdue(attempt, now):
        return False
    begin_writes(session)
    moved = session.execute(
        update(QuizAttempt).where(QuizAttempt.id == attempt.id, QuizAttempt.state == AttemptState.in_progress.value)
        .values(state=AttemptState.abandoned.value, revision=QuizAttempt.revision + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(attempt)
    if moved:
        _event(session, attempt, None, "abandoned", {"deadline_at": attempt.deadline_at.isoformat()}, now)
        refresh_summary(session, attempt.user_id, attempt.quiz)
    return bool(moved)


def _check_open(session: Session, attempt: QuizAttempt, user, now: datetime) -> None:
    if attempt.user_id != user.id:
        raise NotFound(_("Ese intento no existe."))
    expire_if_overdue(session, attempt, now=now)
    if attempt.state != AttemptState.in_progress.value:
        raise _closed(attempt)


def _closed(attempt: QuizAttempt) -> AttemptClosed:
    if attempt.state == AttemptState.abandoned.value:
        return AttemptClosed(_("Se acabó el tiempo de este intento: quedó abandonado y no cuenta para la nota."))
    return AttemptClosed(_("Este intento ya se envió; no se ha cambiado nada."))


def _hold_open(session: Session, attempt: QuizAttempt, slots: list, *, bump: bool = False) -> None:
    """Lock the attempt's row while it is still in progress, before its answers are written (raises AttemptClosed
    when it no longer is), and take its stored answers as they are now. On PostgreSQL an auto-save or a second
    submission that read the attempt just before another request submitted it waits here for that commit and then
    finds it closed, instead of overwriting the answers of a graded attempt; the attempt row is always locked before
    its slots, so the two never deadlock. The answers were read before the lock (a reads_first view, or any request on
    PostgreSQL): an auto-save committed since then is read again, so a submission grades what is stored.

    ``bump``: the caller changes the answers (an auto-save): the attempt's revision moves by one, so that a request that
    read the attempt before knows from the revision alone whether its answers are still the stored ones. The answers are
    read again only when the revision shows that another request wrote since this one read them."""
    stmt = _BUMP_IN_PROGRESS if bump else _HOLD_IN_PROGRESS
    revision = session.connection().execute(stmt, {"b_id": attempt.id}).scalar()
    if revision is None:
        session.refresh(attempt)
        raise _closed(attempt)
    if revision == attempt.revision + (1 if bump else 0):
        set_committed_value(attempt, "revision", revision)
        return  # nobody wrote the attempt since it was read: the answers read are the stored ones
    set_committed_value(attempt, "revision", revision)
    stored = {row.id: row for row in session.connection().execute(_STORED_ANSWERS, {"b_attempt_id": attempt.id})}
    for slot in slots:
        row = stored.get(slot.id)
        if row is not None and (row.answer, row.answered_at) != (slot.answer, slot.answered_at):
            _committed(slot, "answer", row.answer)
            _committed(slot, "answered_at", row.answered_at)


# Statements of the hot paths, built once (their SQL is compiled once per engine and cached): Core statements on the
# tables, so that executing them costs no ORM bookkeeping; the loaded objects are told what was written
# (set_committed_value) --------------------------------------------------------------------------------------------
_ATTEMPTS, _SLOTS, _SUMMARIES = QuizAttempt.__table__, AttemptSlot.__table__, QuizSummary.__table__
_IN_PROGRESS = AttemptState.in_progress.value
_HOLD_IN_PROGRESS = (update(_ATTEMPTS).where(_ATTEMPTS.c.id == bindparam("b_id"), _ATTEMPTS.c.state == _IN_PROGRESS)
                     .values(state=_ATTEMPTS.c.state).returning(_ATTEMPTS.c.revision))
_BUMP_IN_PROGRESS = (update(_ATTEMPTS).where(_ATTEMPTS.c.id == bindparam("b_id"), _ATTEMPTS.c.state == _IN_PROGRESS)
                     .values(revision=_ATTEMPTS.c.revision + 1).returning(_ATTEMPTS.c.revision))
_STORED_ANSWERS = select(_SLOTS.c.id, _SLOTS.c.answer, _SLOTS.c.answered_at).where(_SLOTS.c.attempt_id == bindparam("b_attempt_id"))
_SLOTS_INSERT = insert(_SLOTS)


def save_answers(session: Session, attempt: QuizAttempt, user, values: dict[str, list[str]], *, now: datetime) -> int:
    """Store the answers found in submitted form values. Returns how many questions changed.

    Values for questions not in the attempt are ignored; a value no honest form can send
    (an option of another question, a huge number) is refused and nothing is saved.
    """
    _check_open(session, attempt, user, now)
    slots = slots_of(session, attempt)
    parsed = _parse_answers(slots, values)
    begin_writes(session)  # the attempt, its questions and the answers were read and checked without the write lock
    _hold_open(session, attempt, slots, bump=True)
    changes = _answer_changes(slots, parsed, now)
    _write_slots(session, slots, changes)
    return len(changes)


def _parse_answers(slots: list, values: dict[str, list[str]]) -> dict[int, object]:
    parsed = {}
    for slot in slots:
        version = versions.version_of(slot)
        try:
            parsed[slot.id] = version.kind.parse(version.data, slot.layout, values, f"q{slot.position}")
        except AnswerError as exc:
            raise InvalidInput(_("Respuesta no válida en la pregunta %(n)d: %(error)s", n=slot.position + 1, error=str(exc))) from None
    return parsed


def _answer_changes(slots: list, parsed: dict[int, object] | None, now: datetime) -> dict[int, dict]:
    """The new answer of every slot whose answer changed: {slot id: {answer, answered_at}}."""
    changes = {}
    for slot in slots:
        if parsed is not None and parsed[slot.id] is not None and parsed[slot.id] != slot.answer:
            changes[slot.id] = {"answer": parsed[slot.id], "answered_at": now}
    return changes


def submit_attempt(session: Session, attempt: QuizAttempt, user, values: dict[str, list[str]] | None, *, now: datetime) -> QuizAttempt:
    """Save the last answers and submit, exactly once: a second submission changes nothing
    and raises :class:`AttemptClosed`.

    The attempt, its questions and the answers are read and checked first; in a view marked reads_first the
    write lock is taken only then (:func:`begin_writes`). The first write is the submission itself: one UPDATE that
    moves the attempt from in progress, at the revision that was read, to graded (or submitted), and reads the agent's
    summary figures before the change. An auto-save moves the revision (:func:`_hold_open`), so when that UPDATE
    finds the attempt at the revision read, the answers graded are the stored ones; otherwise the attempt is held, its
    stored answers are read again and graded. The attempt row is always written before its slots (no deadlock with
    an auto-save), and a concurrent submission or auto-save finds it closed.

    Set-based: the answers and marks of every slot go out in one statement, its two history rows in one INSERT, and
    the agent's summary is moved by increments (one UPDATE)."""
    _check_open(session, attempt, user, now)
    slots = slots_of(session, attempt)
    parsed = _parse_answers(slots, values) if values else None
    begin_writes(session)
    session.flush()  # (outside a request: whatever the caller changed goes first; the statements below are Core)
    submitted = _submit(session, attempt, user, slots, parsed, now)
    if submitted is None:  # another request wrote the attempt since it was read: hold it, read its answers again
        _hold_open(session, attempt, slots)
        submitted = _submit(session, attempt, user, slots, parsed, now)
        if submitted is None:  # not reached while the row is held; kept as the guard of exactly-once
            session.rollback()
            session.refresh(attempt)
            raise AttemptClosed(_("Este intento ya se envió; no se ha cambiado nada."))
    before, read_with, moved, written = submitted
    graded = attempt.state == AttemptState.graded.value
    if session.connection().dialect.name != "postgresql":  # (PostgreSQL's went with the submission)
        # one statement for the two rows (executemany: the INSERT is compiled once per process; a VALUES list
        # built per submission was compiled again every time, a fifth of the submission's own work)
        session.connection().execute(submission.EVENTS_INSERT, [
            {"attempt_id": attempt.id, "actor_id": user.id, "kind": "submitted", "at": now, "data": {}},
            {"attempt_id": attempt.id, "actor_id": None, "kind": _graded_event(graded), "at": now,
             "data": {"score": attempt.score, "percent": attempt.percent}},
        ])
    if graded:
        signals.attempt_graded.send(session, attempt=attempt, now=now, read_with_submission=read_with)
    else:
        signals.attempt_awaiting_grading.send(session, attempt=attempt, now=now, read_with_submission=read_with)
    _summary_after_submit(session, attempt, now, before if before.passed is not None else None, moved, written)
    return attempt


def _submit(session: Session, attempt: QuizAttempt, user, slots: list, parsed: dict | None, now: datetime
            ) -> _Submitted | None:
    """Grade the answers as read and move the attempt to graded (or submitted) if it is still in progress at the revision
    read, then write its slots (on PostgreSQL in the same statement, with the history rows and the summary's UPDATE:
    lms.quizzes.submission); the summary's figures before (all None: no summary row) with what the domains above
    asked to read with the submission (:func:`read_with_submission`), or None when the attempt is no longer at that
    revision (nothing written then)."""
    changes = _answer_changes(slots, parsed, now)
    answers = {slot.id: slot.answer for slot in slots}
    answers.update((slot_id, change["answer"]) for slot_id, change in changes.items())
    scores = _slot_scores(slots, answers)
    marks = {slot.id: slot.score for slot in slots} | scores
    totals = _totals(attempt, marks, slots)
    graded = totals is not None
    values_ = {"state": AttemptState.graded.value if graded else AttemptState.submitted.value, "submitted_at": now,
               "graded_at": now if graded else attempt.graded_at, "score": attempt.score, "percent": attempt.percent,
               "passed": attempt.passed, "revision": attempt.revision + 1}
    if graded:
        values_ |= totals
    params = {"b_id": attempt.id, "b_read_revision": attempt.revision, "b_user_id": attempt.user_id, "b_quiz_id": attempt.quiz_id,
              **{f"b_{k}": v for k, v in values_.items()}}
    for _column, extra_params in submission.EXTRAS.values():
        params.update(extra_params(attempt))
    for slot_id, score in scores.items():
        changes.setdefault(slot_id, {})["score"] = score
    connection = session.connection()
    moved, wrote = None, frozenset()
    if connection.dialect.name == "postgresql":  # one statement: the submission, its slots, history rows and summary
        planned = slot_writes.plan(slots, changes)
        columns, written = planned or ((), [])
        if planned:
            params |= slot_writes.rows_param(columns, written)
        params |= {"e_actor_id": user.id, "e_kind": _graded_event(graded),
                   "e_data": {"score": values_["score"], "percent": values_["percent"]}}
        summary = _summary_moved_with(attempt.quiz, graded, bool(values_["passed"]))
        if summary is not None:
            params["b_now"] = now
            for _build, write_params in submission.WRITES.values():
                params.update(write_params(attempt))
            if graded:
                params |= {"b_percent": values_["percent"], "b_pass_mark": float(attempt.quiz.settings["pass_mark"])}
        row = submission.submit_and_write(columns, summary).first(connection, params)  # (a plain tuple)
        if row is None:
            return None
        slot_writes.record(columns, written)
        if summary is not None:  # the summary's figures after (or its grade, when pending), or False: not moved
            *_, summary_moved, unmoved = row
            moved = summary_moved is not None and (signals.Figures(*row[-6:-2]) if graded else True)
            wrote = frozenset(submission.WRITES) if moved and unmoved else frozenset()  # (the domains' writes)
    else:
        row = connection.execute(submission.submit_statement(), params).first()
        if row is None:
            return None
        _write_slots(session, slots, changes)
    # the UPDATE above already wrote these: record them without marking the object dirty
    for key, value in values_.items():
        set_committed_value(attempt, key, value)
    n = len(submission.EXTRAS)
    return _Submitted(signals.Figures(*row[:4]), dict(zip(submission.EXTRAS, row[4:4 + n])), moved, wrote)


class _Submitted(NamedTuple):
    """What a submission's statement read: the summary's figures before, what the domains above asked for and, on
    PostgreSQL, how it moved the summary (None: not in the statement; False: no row held the figures read; True: one
    more pending; the figures after a graded one) and which of the domains' writes went with it."""
    before: signals.Figures
    read_with: dict
    moved: signals.Figures | bool | None
    #: what the domains above wrote in the statement (:func:`write_with_submission`): the summary moved, its grade did not
    written: frozenset = frozenset()


def _summary_moved_with(quiz: Quiz, graded: bool, passed: bool) -> tuple | None:
    """Which summary UPDATE goes in PostgreSQL's statement that submits (lms.quizzes.submission): None for the
    average method (the summary is recomputed from the attempts: :func:`_summary_after_submit`)."""
    method = quiz.settings.get("grade_method", "highest")
    if method not in ("highest", "last"):
        return None
    return (method, passed) if graded else ("pending",)


def _graded_event(graded: bool) -> str:
    """The kind of a submission's second history row."""
    return "graded" if graded else "awaiting_manual_grading"


def _slot_scores(slots: list, answers: dict[int, object]) -> dict[int, float | None]:
    """The new mark of every automatically gradable question whose mark changes (a trainer's mark on an essay
    stays); ``answers``: every slot's answer as it is to be graded."""
    scores = {}
    for slot in slots:
        version = versions.version_of(slot)
        kind = version.kind
        if slot.score is not None and kind.manual:
            continue  # a trainer's mark stays
        grade = kind.grade(version.data, slot.layout, answers[slot.id])
        score = None if grade.fraction is None else round(grade.fraction * slot.points, 4)
        if score != slot.score:
            scores[slot.id] = score
    return scores


def _totals(attempt: QuizAttempt, marks: dict[int, float | None] | None = None, slots: list | None = None) -> dict | None:
    """The attempt's score, percent and pass from its slots' marks (``marks``: by slot id, instead of the slots' own),
    or None while a question awaits a trainer. ``slots``: the attempt's (default: its loaded ones)."""
    slots = attempt.slots if slots is None else slots
    if marks is None:
        marks = {slot.id: slot.score for slot in slots}
    if any(mark is None for mark in marks.values()):
        return None
    score = round(sum(marks[slot.id] for slot in slots), 4)
    percent = round(100 * score / attempt.max_score, 2) if attempt.max_score else 0.0
    return {"score": score, "percent": percent, "passed": percent >= attempt.pass_mark}


def _summary_after_submit(session: Session, attempt: QuizAttempt, now: datetime, before: signals.Figures | None = None,
                          moved: signals.Figures | bool | None = None, written: frozenset = frozenset()) -> None:
    """Move the agent's summary by this submission with one UPDATE of increments (no re-read of their attempts):
    one more graded (the grade by the quiz's method) or one more pending. The average method, and a summary
    row that is not there yet, are recomputed from the attempts instead.

    ``before``: the summary's figures as the submitting statement read them (None: not read). The UPDATE then moves the
    row only if it still holds them (on PostgreSQL another transaction may have moved it since; on SQLite nothing can,
    under the write lock), so listeners get the exact change without a locking read; else the figures are read again.
    ``moved``: on PostgreSQL that UPDATE went in the submission's own statement (see :class:`_Submitted`), with the
    domains' writes ``written`` (:func:`write_with_submission`), which the listeners are told of."""
    quiz = attempt.quiz
    method = quiz.settings.get("grade_method", "highest")
    if method not in ("highest", "last"):
        refresh_summary(session, attempt.user_id, quiz)
        return
    params = {"b_user_id": attempt.user_id, "b_quiz_id": quiz.id, "b_now": now}
    if attempt.state != AttemptState.graded.value:
        if moved is None:
            moved = session.connection().execute(submission.PENDING_SUMMARY, params).first() is not None
        if not moved:
            refresh_summary(session, attempt.user_id, quiz)
        else:
            signals.standing_changed.send(session, user_id=attempt.user_id, quiz=quiz, last_activity_at=now, grade_changed=False,
                                          written_with_submission=written)
        return
    if moved:  # (PostgreSQL) the submission's statement moved it, from the figures it read
        signals.standing_changed.send(session, user_id=attempt.user_id, quiz=quiz, last_activity_at=now,
                                      grade_changed=before[:3] != moved[:3], before=before, after=moved,
                                      written_with_submission=written)
        return
    percent = attempt.percent
    params |= {"b_percent": percent, "b_pass_mark": float(quiz.settings["pass_mark"])}
    if before is not None and moved is None:  # (moved False: the guard failed already)
        row = session.connection().execute(submission.graded_summary(method, bool(attempt.passed), guarded=True),
                              params | {f"b_before_{k}": v for k, v in before._asdict().items()}).first()
        if row is not None:
            after = signals.Figures(*row)
            signals.standing_changed.send(session, user_id=attempt.user_id, quiz=quiz, last_activity_at=now,
                                          grade_changed=before[:3] != after[:3], before=before, after=after)
            return
    stmt = submission.graded_summary(method, bool(attempt.passed), guarded=False)
    where = (QuizSummary.user_id == attempt.user_id, QuizSummary.quiz_id == quiz.id)
    if method == "highest" and not attempt.passed and percent < float(quiz.settings["pass_mark"]):
        # a failed attempt under "highest" can move the grade only (up to its own, still below the pass mark): the pass,
        # the first pass and the activity's order need no reading before (a tie counts as moved, which is harmless)
        row = session.execute(stmt, params).first()
        if row is None:
            refresh_summary(session, attempt.user_id, quiz)
            return
        after = signals.Figures(*row)
        before = after._replace(grade=None, last_activity_at=None)
        grade_changed = after.grade == percent
    else:
        # the figures before (locked until the end of the transaction), so that listeners can move by the difference
        row = session.execute(select(*submission.SUMMARY_FIGURES).where(*where).with_for_update()).first()
        if row is None:
            refresh_summary(session, attempt.user_id, quiz)
            return
        before, after = signals.Figures(*row), signals.Figures(*session.execute(stmt, params).one())
        grade_changed = before[:3] != after[:3]
    signals.standing_changed.send(session, user_id=attempt.user_id, quiz=quiz, last_activity_at=now,
                                  grade_changed=grade_changed, before=before, after=after)


def _total(session: Session, attempt: QuizAttempt, now: datetime) -> None:
    """Recompute the attempt's grade after a trainer's mark (the ORM writes it)."""
    totals = _totals(attempt)
    if totals is None:
        attempt.score = attempt.percent = attempt.passed = None
        return
    for key, value in totals.items():
        setattr(attempt, key, value)
    attempt.state = AttemptState.graded.value
    attempt.graded_at = now
    session.flush()
    signals.attempt_graded.send(session, attempt=attempt, now=now)


def set_slot_score(session: Session, attempt: QuizAttempt, slot: AttemptSlot, *, score: float, feedback: str,
                   reason: str, actor, expected_revision: int, now: datetime) -> None:
    """A trainer grades an essay or overrides a mark; the original and every change stay in the history."""
    if attempt.state not in (AttemptState.submitted.value, AttemptState.graded.value):
        raise Conflict(_("Solo se califican intentos enviados."))
    if attempt.revision != expected_revision:
        raise Conflict(_("Otra persona cambió este intento mientras lo calificabas. Recarga la página y revisa sus cambios."))
    if not 0 <= score <= slot.points:
        raise InvalidInput(_("La nota debe estar entre 0 y %(max)s.", max=format_number(slot.points)))
    reason = (reason or "").strip()
    manual = versions.version_of(slot).kind.manual
    if not reason and not (manual and slot.score is None):
        raise InvalidInput(_("Explica el motivo del cambio de nota."))
    before = {"score": slot.score, "feedback": slot.feedback, "attempt_percent": attempt.percent}
    slot.score, slot.feedback = float(score), (feedback or "").strip()[:5000] or None
    moved = session.execute(
        update(QuizAttempt).where(QuizAttempt.id == attempt.id, QuizAttempt.revision == expected_revision)
        .values(revision=QuizAttempt.revision + 1).execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict(_("Otra persona cambió este intento mientras lo calificabas. Recarga la página y revisa sus cambios."))
    session.refresh(attempt, ["revision"])
    _total(session, attempt, now)
    kind = "manual_grade" if manual and before["score"] is None else "override"
    _event(session, attempt, actor.id, kind, {"position": slot.position, "before": before,
                                             "after": {"score": slot.score, "feedback": slot.feedback, "attempt_percent": attempt.percent},
                                             "reason": reason}, now)
    refresh_summary(session, attempt.user_id, attempt.quiz)


def _event(session: Session, attempt: QuizAttempt, actor_id: int | None, kind: str, data: dict, now: datetime) -> None:
    session.add(AttemptEvent(attempt_id=attempt.id, actor_id=actor_id, kind=kind, at=now, data=data))
    session.flush()


def history(session: Session, attempt: QuizAttempt) -> list[AttemptEvent]:
    return list(session.scalars(select(AttemptEvent).where(AttemptEvent.attempt_id == attempt.id).order_by(AttemptEvent.id)))


def review_visibility(attempt: QuizAttempt, result: QuizResult, allowance_: Allowance | None) -> dict[str, bool]:
    """What the agent may see of a finished attempt now, under the quiz's review settings."""
    review = attempt.quiz.settings.get("review", {})
    closed = result.passed or (allowance_ is not None and allowance_.attempts_allowed is not None
                               and allowance_.attempts_used >= allowance_.attempts_allowed and allowance_.in_progress is None)
    finished = attempt.state in (AttemptState.graded.value, AttemptState.submitted.value)

    def shown(when: str) -> bool:
        return finished and (when == "immediately" or (when == "after_close" and closed))

    return {name: shown(review.get(name, "never")) for name in ("score", "correct_answers", "explanations")}


# Questions for display ------------------------------------------------------------

@dataclass
class SlotView(versions.Shown):
    slot: AttemptSlot
    version: versions.CachedVersion


def slot_views(attempt: QuizAttempt) -> list[SlotView]:
    """The questions of an attempt for display (review, a trainer's view)."""
    return [SlotView(slot, versions.version_of(slot)) for slot in attempt.slots]


def count_attempts(session: Session, quiz: Quiz) -> int:
    return session.scalar(select(func.count()).select_from(QuizAttempt).where(QuizAttempt.quiz_id == quiz.id)) or 0
