"""Moving an agent's progress summaries (``enrollment_progress``) by what one quiz standing changed, instead of
rebuilding them from every completion, quiz and standing of the agent (:func:`lms.tracks.services.refresh_progress`).

A quiz standing moves a summary row in these columns only:

* ``quiz_grades``: the quiz's grade;
* ``done_days``: the day of its first pass;
* when its pass changes, ``steps_done``, ``pending_days`` (its due day), ``first_pending_due`` and
  ``modules_done_in_order``;
* ``last_activity_at``, forward.

:func:`move_by_standing` writes exactly what a rebuild would write, or declines (returns False, nothing written) where
it cannot know it cheaply: a pass that completes the first module not yet complete (the modules after it may be complete
too), a row missing or not what ``before`` says (its pass or first pass), an activity that moved back. The caller then rebuilds.
``tests/tracks/test_progress_moves.py`` compares the two after random histories.
"""
from __future__ import annotations

from bisect import insort
from datetime import date, datetime, timedelta
from functools import lru_cache

from sqlalchemy import bindparam, exists, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from lms.quizzes import services as quizzes
from lms.tracks.calendar import calendar_columns, calendar_of, calendars_for, due_date
from lms.tracks.models import Enrollment, EnrollmentProgress, Lesson, LessonCompletion, Module, TrackModule

#: the summary columns a move reads and may write
_COLUMNS = ("start_date", "steps_done", "modules_done_in_order", "first_pending_due", "pending_days", "done_days", "quiz_grades",
            "last_activity_at")


def move_by_standing(session: Session, user_id: int, quiz, before, after, *, now: datetime) -> bool:
    """Move the summaries of the agent's enrollments whose track holds the quiz's module by the change ``before`` →
    ``after`` (:class:`lms.quizzes.signals.Figures`); False when it cannot be done exactly (nothing written then).

    Two statements (the rows, locked; their UPDATE); when the pass moves the rows come with the agent's calendar,
    for the quiz's due day; a first pass reads with the rows whether the module has other steps left."""
    if quiz.is_archived:
        return True  # an archived quiz is no step of any track: no summary counts it
    session.flush()
    pass_moved = before.passed != after.passed
    # the same lock as a rebuild takes (the agent's enrollments), so that two changes for the agent follow each other
    connection = session.connection()  # (Core statements: no ORM execution)
    rows = connection.execute(_rows_statement(pass_moved and after.passed, pass_moved),
                              {"b_user_id": user_id, "b_module_slug": quiz.module_slug, "b_quiz_id": quiz.id}).all()
    if any(row.enrollment_id is None or row.start_date != row.enrollment_start for row in rows):
        return False  # a summary to create or rewrite
    calendar = None
    if pass_moved and rows:
        calendar = calendar_of(rows[0].works_weekends, rows[0].holidays) or calendars_for(session, [user_id])[user_id]
    moved = []
    for row in rows:
        values = _moved(row, str(quiz.id), before, after,
                        due=due_date(row.start_date, row.start_day + (quiz.day or 0), calendar) if pass_moved else None,
                        index=row.index)
        if values is None:
            return False
        if values.pop("_completes_module", False) and not row.others_pending:
            return False  # the module is now complete: the modules after it may be too
        moved.append((row, values))
    writes: dict[tuple, list[dict]] = {}
    for row, values in moved:
        changed = {key: value for key, value in values.items() if getattr(row, key) != value}
        if changed:
            writes.setdefault(tuple(sorted(changed)), []).append({"b_enrollment_id": row.enrollment_id, "b_updated_at": now,
                                                                  **{f"b_{k}": v for k, v in changed.items()}})
    for columns, params in writes.items():
        connection.execute(_update_statement(columns), params[0] if len(params) == 1 else params)  # (one row: no executemany)
        for values in params:  # a summary row loaded in this session is told what was written
            loaded = session.identity_map.get(session.identity_key(EnrollmentProgress, values["b_enrollment_id"]))
            if loaded is not None:
                for column in columns + ("updated_at",):
                    set_committed_value(loaded, column, values[f"b_{column}"])
    return True


@lru_cache(maxsize=4)
def _rows_statement(first_pass: bool, with_calendar: bool = False):
    """The agent's enrollments whose track holds the module, with the module's place in the track and their summary's
    columns, locked (FOR UPDATE on PostgreSQL); with ``first_pass`` also whether the module has a step other than the
    quiz that the agent has not done (a live lesson not completed, a live quiz not passed); ``with_calendar``: and the
    agent's work calendar (:func:`lms.tracks.calendar.calendar_columns`), for a due day. Built once."""
    # Core columns of the tables: plain rows, no ORM execution (it runs on every graded quiz of an enrolled agent)
    enrollments, track_modules, modules = Enrollment.__table__.c, TrackModule.__table__, Module.__table__.c
    lessons, completions = Lesson.__table__.c, LessonCompletion.__table__.c
    earlier = track_modules.alias("earlier")
    index = (select(func.count()).select_from(earlier)
             .where(earlier.c.track_id == track_modules.c.track_id, earlier.c.position < track_modules.c.position).scalar_subquery())
    progress = EnrollmentProgress.__table__.c
    columns = [enrollments.start_date.label("enrollment_start"), track_modules.c.module_id, track_modules.c.start_day,
               index.label("index"), progress.enrollment_id, *(progress[name] for name in _COLUMNS)]
    if first_pass:
        user_id = bindparam("b_user_id")
        lessons_left = select(lessons.id).where(
            lessons.module_id == track_modules.c.module_id, lessons.is_archived.is_(False),
            ~exists().where(completions.user_id == user_id, completions.lesson_id == lessons.id))
        quizzes_left = quizzes.unpassed_quizzes(user_id, bindparam("b_module_slug"), except_id=bindparam("b_quiz_id"))
        columns.append(or_(exists(lessons_left), exists(quizzes_left)).label("others_pending"))
    if with_calendar:
        columns.extend(calendar_columns(bindparam("b_user_id")))
    return (select(*columns)
            .select_from(Enrollment.__table__)
            .join(track_modules, track_modules.c.track_id == enrollments.track_id)
            .join(Module.__table__, modules.id == track_modules.c.module_id)
            .outerjoin(EnrollmentProgress.__table__, progress.enrollment_id == enrollments.id)
            .where(enrollments.user_id == bindparam("b_user_id"), modules.slug == bindparam("b_module_slug"))
            .order_by(enrollments.id).with_for_update(of=Enrollment.__table__))


@lru_cache(maxsize=64)
def _update_statement(columns: tuple[str, ...]):
    """UPDATE enrollment_progress SET <columns>, updated_at WHERE enrollment_id = ?, for an executemany. Built once."""
    progress = EnrollmentProgress.__table__
    return (update(progress).where(progress.c.enrollment_id == bindparam("b_enrollment_id"))
            .values({column: bindparam(f"b_{column}") for column in columns + ("updated_at",)}))


def _day(moment: datetime | None, start: date) -> int | None:
    return None if moment is None else (moment.date() - start).days


def _moved(progress, key: str, before, after, *, due: date | None, index: int) -> dict | None:
    """The columns of one summary row (``progress``: its columns, as read) after the change, or None when the row is not
    what ``before`` says or the change cannot be followed exactly. ``_completes_module``: the pass may complete the
    first incomplete module."""
    start = progress.start_date
    grades = dict(progress.quiz_grades or {})  # the old grade is not needed: the new one replaces it
    if after.grade is None:
        grades.pop(key, None)
    else:
        grades[key] = after.grade
    values = {"quiz_grades": grades}
    if before.first_passed_at != after.first_passed_at:
        done_days = list(progress.done_days or [])
        if before.first_passed_at is not None:
            day = _day(before.first_passed_at, start)
            if day not in done_days:
                return None
            done_days.remove(day)
        if after.first_passed_at is not None:
            insort(done_days, _day(after.first_passed_at, start))
        values["done_days"] = done_days
    if before.passed != after.passed:
        pending, offset, leading = list(progress.pending_days or []), (due - start).days, progress.modules_done_in_order
        if after.passed:
            if offset not in pending or index < leading:
                return None
            pending.remove(offset)
            values["steps_done"] = progress.steps_done + 1
            values["_completes_module"] = index == leading
        else:
            insort(pending, offset)
            values["steps_done"] = progress.steps_done - 1
            values["modules_done_in_order"] = min(leading, index)
        values["pending_days"] = pending
        values["first_pending_due"] = start + timedelta(days=pending[0]) if pending else None
    if before.last_activity_at is not None and (after.last_activity_at is None or after.last_activity_at < before.last_activity_at):
        return None  # an activity that moved back: the latest one may be another's
    if after.last_activity_at is not None and (progress.last_activity_at is None or progress.last_activity_at < after.last_activity_at):
        values["last_activity_at"] = after.last_activity_at
    return values
