"""The statements that submit an attempt (issue #22), built once and compiled once per engine.

The submission itself is one UPDATE: from in progress, at the revision whose answers were graded, to submitted or
graded, returning the agent's quiz summary figures before and what the domains above asked to read with it
(:func:`read_with_submission`). When it finds the attempt at another revision it writes nothing and returns no row.

On SQLite the slots' marks and answers, the two history rows and the agent's quiz summary follow in their own
statements, under the write lock the submission took. On PostgreSQL they go in the same statement, as data-modifying
CTEs that only write when the submission did, one round trip instead of four::

    WITH submitted AS (UPDATE quiz_attempts SET … WHERE id = … AND state = 'in_progress' AND revision = … RETURNING …),
         slots AS (UPDATE attempt_slots SET … FROM json_populate_recordset(…) AS v WHERE attempt_slots.id = v.id
                   AND EXISTS (SELECT 1 FROM submitted)),
         events AS (INSERT INTO attempt_events (…) SELECT … FROM submitted UNION ALL SELECT … FROM submitted),
         summary AS (UPDATE quiz_summaries SET graded = graded + 1, … FROM submitted
                     WHERE user_id = … AND quiz_id = … AND grade IS NOT DISTINCT FROM submitted.before_grade AND …
                     RETURNING …)
    SELECT … FROM submitted LEFT OUTER JOIN summary ON true

The summary's UPDATE is guarded by the figures ``submitted`` read: a row another transaction moved meanwhile matches
nothing, and the caller reads it again under its lock (``services._summary_after_submit``). The attempt's row is
still written before its slots (the slots' UPDATE waits for the ``submitted`` CTE, an InitPlan run first), the order
an auto-save keeps too, so the two cannot deadlock.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

from sqlalchemy import (Boolean, Float, bindparam, case, func, insert, literal, literal_column, or_, select, true, tuple_, union_all,
                        update)
from sqlalchemy.sql.elements import ClauseElement

from lms.core.db import Direct, UTCDateTime
from lms.quizzes.models import AttemptEvent, QuizAttempt, QuizSummary
from lms.quizzes.slot_writes import slot_update_rows
from lms.quizzes.states import AttemptState

_ATTEMPTS, _EVENTS, _SUMMARIES = QuizAttempt.__table__, AttemptEvent.__table__, QuizSummary.__table__
#: a summary's figures (as ``signals.Figures``), read before a submission and returned after its UPDATE
SUMMARY_FIGURES = (_SUMMARIES.c.grade, _SUMMARIES.c.passed, _SUMMARIES.c.first_passed_at, _SUMMARIES.c.last_activity_at)
#: the agent's summary figures before the submission, read in the statement that submits (one lookup each by the
#: summary's unique key); under the write lock on SQLite, checked by the summary's UPDATE on PostgreSQL
_FIGURES_BEFORE = tuple(select(column).where(_SUMMARIES.c.user_id == bindparam("b_user_id"),
                                             _SUMMARIES.c.quiz_id == bindparam("b_quiz_id")).scalar_subquery().label(f"before_{column.name}")
                        for column in SUMMARY_FIGURES)
_S = _SUMMARIES.c
_MINE = (_S.user_id == bindparam("b_user_id"), _S.quiz_id == bindparam("b_quiz_id"))
_NOW = bindparam("b_now", type_=UTCDateTime())
_LATER = case((or_(_S.last_activity_at.is_(None), _S.last_activity_at < _NOW), _NOW), else_=_S.last_activity_at)
#: a submission awaiting a trainer: one more pending (RETURNING the grade; no row: the summary is to be computed)
_PENDING = update(_SUMMARIES).where(*_MINE).values(pending=_S.pending + 1, last_activity_at=_LATER)
PENDING_SUMMARY = _PENDING.returning(_S.grade)
#: the guard of a graded submission's UPDATE: the figures before as bound parameters ``b_before_<column>``
_BEFORE_PARAMS = (bindparam("b_before_grade", type_=Float()), bindparam("b_before_passed", type_=Boolean()),
                  bindparam("b_before_first_passed_at", type_=UTCDateTime()),
                  bindparam("b_before_last_activity_at", type_=UTCDateTime()))


def _graded_update(method: str, passed: bool, before: tuple | None, summaries=_SUMMARIES):
    """A graded submission's UPDATE of the summary by increments (the grade by ``method``: highest or last; ``passed``:
    the attempt passed); ``before``: only if the row still holds these four figures (None: whatever it holds; a
    ClauseElement: that condition). ``summaries``: the table, or on PostgreSQL an alias of it, where the highest grade
    and the latest activity are written with GREATEST (which passes over a NULL: the same values, in a shorter text)."""
    percent, pass_mark = bindparam("b_percent", type_=Float()), bindparam("b_pass_mark", type_=Float())
    s, postgresql = summaries.c, summaries is not _SUMMARIES
    if method == "last":
        grade = percent
    elif postgresql:
        grade = func.greatest(s.grade, percent)
    else:
        grade = case((or_(s.grade.is_(None), s.grade < percent), percent), else_=s.grade)
    stmt = update(summaries).where(s.user_id == bindparam("b_user_id"), s.quiz_id == bindparam("b_quiz_id"))
    if isinstance(before, ClauseElement):
        stmt = stmt.where(before)
    elif before is not None:
        stmt = stmt.where(s.grade.is_not_distinct_from(before[0]), s.passed == before[1],
                          s.first_passed_at.is_not_distinct_from(before[2]), s.last_activity_at.is_not_distinct_from(before[3]))
    return stmt.values(graded=s.graded + 1, grade=grade, passed=grade >= pass_mark,
                       first_passed_at=func.coalesce(s.first_passed_at, _NOW) if passed else s.first_passed_at,
                       last_activity_at=func.greatest(s.last_activity_at, _NOW) if postgresql else _LATER)


_GRADED = {(method, passed, guarded): _graded_update(method, passed, _BEFORE_PARAMS if guarded else None)
           .returning(*SUMMARY_FIGURES) for method in ("highest", "last") for passed in (False, True) for guarded in (False, True)}


def graded_summary(method: str, passed: bool, *, guarded: bool):
    """The summary's UPDATE for a graded submission (its figures after as RETURNING); ``guarded``: only if the row still
    holds the figures before (``b_before_…``)."""
    return _GRADED[(method, passed, guarded)]


#: the attempt's columns the submission writes (parameters ``b_<name>``)
SUBMITTED_VALUES = ("state", "submitted_at", "graded_at", "score", "percent", "passed", "revision")
#: what the domains above read in the statement that submits (:func:`read_with_submission`): name → (a scalar
#: subquery, its parameters' values for an attempt)
EXTRAS: dict[str, tuple] = {}
#: the history rows (SQLite: the submission's two in one INSERT; an exam start's)
EVENTS_INSERT = insert(_EVENTS)


#: what the domains above write in PostgreSQL's statement that submits when the submission moves the agent's summary
#: without moving its grade, pass or first pass (what they would otherwise do on :data:`signals.standing_changed` with
#: ``grade_changed=False``): name → (a function of that condition, an SQL boolean, returning the DML; its parameters'
#: values for an attempt). See :func:`write_with_submission`.
WRITES: dict[str, tuple] = {}


def write_with_submission(name: str, build: Callable, params: Callable[[QuizAttempt], dict]) -> None:
    """Have the DML ``build(unmoved)`` returns (an UPDATE, say) run in PostgreSQL's statement that submits an attempt, as
    a data-modifying CTE, writing only when ``unmoved`` holds: the submission moved the agent's quiz summary and left
    its grade, pass and first pass as they were. Its bound parameters: ``b_user_id``, ``b_quiz_id``, ``b_now`` (the
    moment of the submission) or those ``params(attempt)`` gives.

    The listeners of :data:`signals.standing_changed` are then told ``written_with_submission={name, …}`` for that
    change, and do not write it again: a round trip less for every submission that does not raise the agent's grade (a
    retake below the best, an essay awaiting its trainer). Where it did not run (SQLite, the average grade method, a
    summary another transaction moved meanwhile) the listeners write as before."""
    WRITES[name] = (build, params)
    submit_and_write_statement.cache_clear()
    submit_and_write.cache_clear()


def read_with_submission(name: str, column, params: Callable[[QuizAttempt], dict]) -> None:
    """Have ``column`` (a scalar subquery, or a function that returns it when the statement is first built: a domain
    imported on first use; its bound parameters ``b_user_id``, ``b_quiz_id`` or those ``params(attempt)``
    gives) read in the statement that submits an attempt, after its write (under the write lock on SQLite), and
    handed to the listeners of :data:`signals.attempt_graded` and :data:`signals.attempt_awaiting_grading` as
    ``read_with_submission[name]``: a listener that would look something up on every submission (LTI's scored links)
    learns whether there is anything to look up without a statement of its own."""
    EXTRAS[name] = (column, params)
    submit_statement.cache_clear()
    submit_and_write_statement.cache_clear()
    submit_and_write.cache_clear()


@lru_cache(maxsize=2)
def submit_statement(*, with_figures_before: bool = True):
    """The submission itself, returning the summary's figures before (``with_figures_before``; otherwise the attempt's
    id: PostgreSQL's statement reads them in a CTE of its own) and what the domains above asked for. Built once (per
    registration)."""
    extras = [(column if isinstance(column, ClauseElement) else column()).label(f"extra_{name}")
              for name, (column, _params) in EXTRAS.items()]
    returning = _FIGURES_BEFORE if with_figures_before else (_ATTEMPTS.c.id,)
    return (update(_ATTEMPTS).where(_ATTEMPTS.c.id == bindparam("b_id"), _ATTEMPTS.c.state == AttemptState.in_progress.value,
                                    _ATTEMPTS.c.revision == bindparam("b_read_revision"))
            .values({name: bindparam(f"b_{name}") for name in SUBMITTED_VALUES}).returning(*returning, *extras))


@lru_cache(maxsize=32)
def submit_and_write_statement(slot_columns: tuple[str, ...], summary: tuple | None):
    """PostgreSQL: the submission, the slots' ``slot_columns`` (none: no slot changes), the two history rows (parameters
    ``e_actor_id``, the submitter, then the second row's ``e_kind`` and ``e_data``; the first is ("submitted", {}), both
    at ``b_submitted_at``) and the summary's UPDATE in one statement (see the module's text); its row is the
    submission's, or there is none and nothing was written. ``summary``: ("pending",), (method, passed) for a graded one, or None (no UPDATE: the average method).
    The row holds what :func:`submit_statement`'s does (the figures before, then the extras) and then the summary's
    figures after (its grade only, for a pending one), ``summary_moved`` (NULL: no summary row held the figures
    read) and ``unmoved`` (the summary moved, its grade, pass and first pass did not: the domains' writes,
    :func:`write_with_submission`, went with it).

    The figures before are read by a CTE of their own (``before``), in the statement's snapshot as a subquery of the
    RETURNING would, once instead of once a column: the statement's text stays under psycopg's 4,096 bytes,
    the longest it keeps converted (its placeholders) between executions."""
    submitted = submit_statement(with_figures_before=False).cte("submitted")
    mine = _SUMMARIES.alias("s")  # (a short alias: the text stays short)
    before = (select(*(mine.c[column.name] for column in SUMMARY_FIGURES))
              .where(mine.c.user_id == bindparam("b_user_id"), mine.c.quiz_id == bindparam("b_quiz_id")).cte("before"))
    written = select(literal_column("1")).select_from(submitted).exists()
    ctes = []
    if slot_columns:
        ctes.append(slot_update_rows(slot_columns).where(written).cte("slots"))
    row = (submitted.c.id, bindparam("b_submitted_at", type_=_EVENTS.c.at.type))
    # (one-letter labels, not SQLAlchemy's anon_1…: the text stays short)
    first = select(row[0], bindparam("e_actor_id", type_=_EVENTS.c.actor_id.type).label("a"),
                   literal("submitted", _EVENTS.c.kind.type).label("k"), row[1].label("t"), literal({}, _EVENTS.c.data.type).label("d"))
    second = select(row[0], literal(None, _EVENTS.c.actor_id.type).label("a"), bindparam("e_kind", type_=_EVENTS.c.kind.type).label("k"),
                    row[1].label("t"), bindparam("e_data", type_=_EVENTS.c.data.type).label("d"))
    ctes.append(insert(_EVENTS).from_select(["attempt_id", "actor_id", "kind", "at", "data"], union_all(first, second))
                .cte("events"))
    head = (*(before.c[column.name] for column in SUMMARY_FIGURES),  # (by position: unlabelled, a shorter text)
            *(column for column in submitted.c if column.name.startswith("extra_")))
    read = submitted.outerjoin(before, true())
    if summary is None:
        return select(*head).select_from(read).add_cte(*ctes)
    if summary == ("pending",):  # one more pending: the grade, pass and first pass stay
        update_ = _PENDING.where(written).returning(_S.grade.label("after_grade"), _S.user_id.label("summary_moved"),
                                                    true().label("unmoved"))
    else:
        # (a short alias, rows compared as a whole: the statement's text stays short, see above)
        q = _SUMMARIES.alias("q")
        figures, figures_before = [q.c[c.name] for c in SUMMARY_FIGURES], [before.c[c.name] for c in SUMMARY_FIGURES]
        guard = tuple_(*figures).is_not_distinct_from(tuple_(*figures_before))
        unmoved = tuple_(*figures[:3]).is_not_distinct_from(tuple_(*figures_before[:3]))
        update_ = (_graded_update(*summary, guard, q).where(written)
                   .returning(*(column.label(f"after_{column.name}") for column in figures), q.c.user_id.label("summary_moved"),
                              unmoved.label("unmoved")))
    moved_summary = update_.cte("summary")
    if WRITES:
        when = select(literal_column("1")).select_from(moved_summary).where(moved_summary.c.unmoved).exists()
        ctes.extend(build(when).cte(f"w_{name}") for name, (build, _params) in WRITES.items())
    return select(*head, *moved_summary.c).select_from(read.outerjoin(moved_summary, true())).add_cte(*ctes)


@lru_cache(maxsize=32)
def submit_and_write(slot_columns: tuple[str, ...], summary: tuple | None) -> Direct:
    """:func:`submit_and_write_statement`, run on the driver's cursor (:class:`lms.core.db.Direct`: a plain tuple, in
    its columns' order): the statement of every submission on PostgreSQL, where SQLAlchemy's execution machinery cost
    more of the worker's CPU than the driver's (issue #22)."""
    return Direct(submit_and_write_statement(slot_columns, summary))
