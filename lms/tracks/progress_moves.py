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

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from lms.quizzes import services as quizzes
from lms.tracks.calendar import calendars_for, due_date
from lms.tracks.models import Enrollment, EnrollmentProgress, Lesson, LessonCompletion, Module, TrackModule


def move_by_standing(session: Session, user_id: int, quiz, before, after, *, now: datetime) -> bool:
    """Move the summaries of the agent's enrollments whose track holds the quiz's module by the change ``before`` →
    ``after`` (:class:`lms.quizzes.signals.Figures`); False when it cannot be done exactly (nothing written then)."""
    if quiz.is_archived:
        return True  # an archived quiz is no step of any track: no summary counts it
    session.flush()
    earlier = aliased(TrackModule)
    index = (select(func.count()).select_from(earlier)
             .where(earlier.track_id == TrackModule.track_id, earlier.position < TrackModule.position).scalar_subquery())
    # the same lock as a rebuild takes (the agent's enrollments), so that two changes for the agent follow each other
    rows = session.execute(
        select(Enrollment.id, Enrollment.start_date, TrackModule.module_id, TrackModule.start_day, index.label("index"), EnrollmentProgress)
        .join(TrackModule, TrackModule.track_id == Enrollment.track_id).join(Module, Module.id == TrackModule.module_id)
        .outerjoin(EnrollmentProgress, EnrollmentProgress.enrollment_id == Enrollment.id)
        .where(Enrollment.user_id == user_id, Module.slug == quiz.module_slug)
        .order_by(Enrollment.id).with_for_update(of=Enrollment).execution_options(populate_existing=True)).all()
    if any(row.EnrollmentProgress is None or row.EnrollmentProgress.start_date != row.start_date for row in rows):
        return False  # a summary to create or rewrite
    pass_moved = before.passed != after.passed
    calendar = calendars_for(session, [user_id])[user_id] if pass_moved and rows else None
    moved = []
    for row in rows:
        values = _moved(row.EnrollmentProgress, str(quiz.id), before, after,
                        due=due_date(row.start_date, row.start_day + (quiz.day or 0), calendar) if pass_moved else None,
                        index=row.index)
        if values is None:
            return False
        moved.append((row, values))
    for row, values in moved:
        if values.pop("_completes_module", False) and not _others_pending(session, user_id, row.module_id, quiz):
            return False  # the module is now complete: the modules after it may be too
    for row, values in moved:
        progress = row.EnrollmentProgress
        changed = {key: value for key, value in values.items() if getattr(progress, key) != value}
        for key, value in changed.items():
            setattr(progress, key, value)
        if changed:
            progress.updated_at = now
    session.flush()
    return True


def _day(moment: datetime | None, start: date) -> int | None:
    return None if moment is None else (moment.date() - start).days


def _moved(progress: EnrollmentProgress, key: str, before, after, *, due: date | None, index: int) -> dict | None:
    """The columns of one summary row after the change, or None when the row is not what ``before`` says or the
    change cannot be followed exactly. ``_completes_module``: the pass may complete the first incomplete module."""
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


def _others_pending(session: Session, user_id: int, module_id: int, quiz) -> bool:
    """Whether the module has a step other than ``quiz`` that the agent has not done (a live lesson not completed, a live
    quiz not passed): one statement."""
    lessons_left = select(Lesson.id).where(
        Lesson.module_id == module_id, Lesson.is_archived.is_(False),
        ~exists().where(LessonCompletion.user_id == user_id, LessonCompletion.lesson_id == Lesson.id))
    quizzes_left = quizzes.unpassed_quizzes(user_id, quiz.module_slug, except_id=quiz.id)
    return bool(session.scalar(select(or_(exists(lessons_left), exists(quizzes_left)))))
