"""How the hot paths read an attempt (issue #22): with its quiz and its slots, each slot with its question version
from the per-process cache (:mod:`lms.quizzes.versions`).

* :func:`get_attempt`: the ORM's objects (pages, reviews, grading);
* :func:`get_attempt_to_write` and :func:`slots_of`: for an auto-save or a submission, the slots as plain rows
  (:class:`SlotRow`); on PostgreSQL they come with the attempt as a JSON array, and in a request the three come
  with the signed-in user, in the user's statement (:func:`attempt_with_user`, registered by the views with
  ``lms.accounts.services.read_with_session_user``).
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import JSON, Select, bindparam, func, select, type_coerce
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from lms.accounts.models import User
from lms.core.db import as_loaded, own_columns
from lms.core.errors import NotFound
from lms.quizzes import versions
from lms.quizzes.models import AttemptSlot, QuestionVersion, Quiz, QuizAttempt
from lms.quizzes.slot_writes import SlotRow
from lms.quizzes.versions import moment

# the statements of the requests of an attempt in progress, built once (their SQL is compiled once and cached)
_ATTEMPT_WITH_QUIZ = select(QuizAttempt).where(QuizAttempt.id == bindparam("b_attempt_id")).options(joinedload(QuizAttempt.quiz))
_SLOTS_OF_ATTEMPTS = (select(AttemptSlot, *versions.KEY_COLUMNS).join(QuestionVersion, QuestionVersion.id == AttemptSlot.question_version_id)
                      .where(AttemptSlot.attempt_id.in_(bindparam("b_attempt_ids", expanding=True)))
                      .order_by(AttemptSlot.attempt_id, AttemptSlot.position))


class _SlotJSON(NamedTuple):
    """A slot's row as :func:`get_attempt_to_write` reads it on PostgreSQL (the columns of :data:`_SLOT_ROWS`)."""
    id: int
    position: int
    points: float
    layout: dict | None
    answer: object
    answered_at: datetime | None
    score: float | None
    version_id: int
    content_hash: str
    created_at: datetime


def get_attempt(session: Session, attempt_id: int, *, slots: bool = True) -> QuizAttempt:
    """The attempt with its quiz (one statement) and its slots with their question versions (one statement: the
    versions' identity is read with the slots, their content comes from the per-process cache, see
    :mod:`lms.quizzes.versions`; ``versions.version_of(slot)`` gives it). ``slots=False``: without its slots.
    (The attempt page reads neither: :func:`lms.quizzes.page.attempt_page`.)"""
    attempt = session.scalar(_ATTEMPT_WITH_QUIZ, {"b_attempt_id": attempt_id})
    if attempt is None:
        raise NotFound(_("Ese intento no existe."))
    if slots:
        load_slots(session, [attempt])
    return attempt


def load_slots(session: Session, attempts: list[QuizAttempt]) -> None:
    """Load the slots of these attempts in one statement, each with its cached question version attached."""
    if not attempts:
        return
    rows = session.execute(_SLOTS_OF_ATTEMPTS, {"b_attempt_ids": [a.id for a in attempts]}).all()
    cached = versions.resolve(session, ((row.id, row.content_hash, row.created_at) for row in rows))
    by_attempt: dict[int, list[AttemptSlot]] = {a.id: [] for a in attempts}
    for row in rows:
        slot = row[0]
        versions.attach(slot, cached[row.id])
        by_attempt[slot.attempt_id].append(slot)
    for attempt in attempts:
        set_committed_value(attempt, "slots", by_attempt[attempt.id])


_VERSIONS = QuestionVersion.__table__
#: the slots of an attempt as plain rows with their versions' identity: Core columns of the tables (no ORM entity, so
#: executing it costs no ORM bookkeeping and its cache key is computed once)
_SLOT_ROWS = (select(*(AttemptSlot.__table__.c[name] if name != "answered_at" else versions.as_stored(AttemptSlot.__table__.c[name])
                       for name in SlotRow.__slots__[:-1]), _VERSIONS.c.id.label("version_id"),
                     _VERSIONS.c.content_hash, versions.as_stored(_VERSIONS.c.created_at))
              .join_from(AttemptSlot.__table__, _VERSIONS, _VERSIONS.c.id == AttemptSlot.__table__.c.question_version_id)
              .where(AttemptSlot.__table__.c.attempt_id == bindparam("b_attempt_id")).order_by(AttemptSlot.__table__.c.position))


def get_attempt_to_write(session: Session, attempt_id: int) -> QuizAttempt:
    """The attempt with its quiz, for an auto-save or a submission, which read its slots as :class:`SlotRow`
    (:func:`slots_of`). On PostgreSQL the slots' rows come in the same statement, as a JSON array (a round trip less
    on the hot paths: issue #22); elsewhere :func:`slots_of` reads them."""
    if session.connection().dialect.name != "postgresql":
        return get_attempt(session, attempt_id, slots=False)
    row = session.execute(_attempt_with_slot_rows(), {"b_attempt_id": attempt_id}).first()
    if row is None:
        raise NotFound(_("Ese intento no existe."))
    attempt, slot_rows = row
    attempt.__dict__[_SLOT_ROWS_READ] = slot_rows or []  # (not a mapped attribute: slots_of() takes it)
    return attempt


_SLOT_ROWS_READ = "_slot_rows_read"


@lru_cache(maxsize=1)
def _attempt_with_slot_rows():
    """PostgreSQL: the attempt with its quiz and a JSON array of its slots' rows (:func:`_slot_rows_json`)."""
    return (select(QuizAttempt, _slot_rows_json().label("slot_rows")).where(QuizAttempt.id == bindparam("b_attempt_id"))
            .options(joinedload(QuizAttempt.quiz)))


@lru_cache(maxsize=1)
def _slot_rows_json():
    """PostgreSQL: a JSON array of the attempt's slots' rows by position, correlated to ``quiz_attempts``: the columns
    of :data:`_SLOT_ROWS` (moments as ISO 8601 text)."""
    from sqlalchemy.dialects.postgresql import aggregate_order_by  # (PostgreSQL only: not imported by a SQLite worker)

    slots = AttemptSlot.__table__
    row = func.json_build_array(slots.c.id, slots.c.position, slots.c.points, slots.c.layout, slots.c.answer, slots.c.answered_at,
                                slots.c.score, _VERSIONS.c.id, _VERSIONS.c.content_hash, _VERSIONS.c.created_at)
    rows = (select(func.json_agg(aggregate_order_by(row, slots.c.position)))
            .join_from(slots, _VERSIONS, _VERSIONS.c.id == slots.c.question_version_id)
            .where(slots.c.attempt_id == QuizAttempt.id).correlate(QuizAttempt).scalar_subquery())
    return type_coerce(rows, JSON)


# The attempt that an auto-save or a submission writes, read in the signed-in user's statement on PostgreSQL (views
# register these three: lms.accounts.services.read_with_session_user): as get_attempt_to_write() reads it, one round
# trip and one ORM query less on the two hot paths (issue #22)

def attempt_with_user(statement: Select) -> Select:
    """The user's statement with the attempt ``b_attempt_id`` (whoever's: the view checks), its quiz and its slots'
    rows, outer-joined (no such attempt: NULLs)."""
    attempts, quizzes = QuizAttempt.__table__, Quiz.__table__
    joined = (User.__table__.outerjoin(attempts, attempts.c.id == bindparam("b_attempt_id"))
              .outerjoin(quizzes, quizzes.c.id == attempts.c.quiz_id))
    return (statement.select_from(joined)
            .add_columns(*(column for _key, column in own_columns(QuizAttempt)),
                         *(column for _key, column in own_columns(Quiz)), _slot_rows_json().label("slot_rows")))


def attempt_with_user_params(dialect: str, view_args: dict) -> dict | None:
    """The attempt of the view's URL, on PostgreSQL (elsewhere the view reads it: :func:`get_attempt_to_write`)."""
    return {"b_attempt_id": view_args["attempt_id"]} if dialect == "postgresql" and "attempt_id" in view_args else None


def attempt_read_with_user(session: Session, values) -> QuizAttempt | None:
    """The attempt, with its quiz and its slots' rows, from what :func:`attempt_with_user` read (None: no such
    attempt), as :func:`get_attempt_to_write` gives it."""
    n, m = len(own_columns(QuizAttempt)), len(own_columns(Quiz))
    if values[0] is None:
        return None
    attempt = as_loaded(session, QuizAttempt, values[:n])
    if "quiz" not in attempt.__dict__:
        set_committed_value(attempt, "quiz", as_loaded(session, Quiz, values[n:n + m]))
    attempt.__dict__[_SLOT_ROWS_READ] = values[n + m] or []  # (not a mapped attribute: slots_of() takes it)
    return attempt


@lru_cache(maxsize=1024)
def _instant(text: str) -> datetime:
    """A moment as PostgreSQL's JSON writes it (ISO 8601 with its offset)."""
    return datetime.fromisoformat(text)


def slots_of(session: Session, attempt: QuizAttempt) -> list:
    """The attempt's slots with their cached versions: the loaded ones when the attempt was read with them
    (:func:`get_attempt`), those read with it by :func:`get_attempt_to_write`, else read as :class:`SlotRow` (one
    statement)."""
    if "slots" in attempt.__dict__:
        return attempt.slots
    connection = session.connection()  # (Core statements run on the connection: no ORM execution to go through)
    read = attempt.__dict__.pop(_SLOT_ROWS_READ, None)
    if read is not None:  # (JSON: numbers as JSON gives them, moments as text)
        rows = [_SlotJSON(i, p, float(points), layout, answer, answered_at and _instant(answered_at),
                          None if score is None else float(score), v, h, _instant(created))
                for i, p, points, layout, answer, answered_at, score, v, h, created in read]
    else:
        rows = connection.execute(_SLOT_ROWS, {"b_attempt_id": attempt.id}).all()
    dialect = connection.dialect
    cached = versions.resolve(session, ((row.version_id, row.content_hash, moment(dialect, row.created_at)) for row in rows))
    out = []
    for row in rows:
        slot = SlotRow(row[0], row[1], row[2], row[3], row[4], moment(dialect, row[5]), row[6])
        versions.attach(slot, cached[row.version_id])
        out.append(slot)
    return out
