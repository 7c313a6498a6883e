"""progress summaries: one row per enrollment (enrollment_progress), backfilled from completions and quiz summaries

Revision ID: 8a1e0b7c2d04
Revises: 8a1e0b7c2d03
Create Date: 2026-11-22 23:03:00
"""
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from alembic import op
import sqlalchemy as sa
import lms.core.db


revision = '8a1e0b7c2d04'
down_revision = '8a1e0b7c2d03'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('enrollment_progress',
    sa.Column('enrollment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('steps_total', sa.Integer(), nullable=False),
    sa.Column('steps_done', sa.Integer(), nullable=False),
    sa.Column('modules_total', sa.Integer(), nullable=False),
    sa.Column('modules_done_in_order', sa.Integer(), nullable=False),
    sa.Column('first_pending_due', sa.Date(), nullable=True),
    sa.Column('pending_days', sa.JSON(), nullable=False),
    sa.Column('due_days', sa.JSON(), nullable=False),
    sa.Column('done_days', sa.JSON(), nullable=False),
    sa.Column('quiz_grades', sa.JSON(), nullable=False),
    sa.Column('last_activity_at', lms.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', lms.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollments.id'], name=op.f('fk_enrollment_progress_enrollment_id_enrollments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_enrollment_progress_track_id_tracks')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_enrollment_progress_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('enrollment_id', name=op.f('pk_enrollment_progress'))
    )
    with op.batch_alter_table('enrollment_progress', schema=None) as batch_op:
        batch_op.create_index('ix_enrollment_progress_user_state',
                              ['user_id', 'start_date', 'first_pending_due', 'steps_done', 'steps_total'], unique=False)
    _backfill()


def _backfill(batch: int = 500) -> None:
    """The summaries of the enrollments already there, a batch of agents at a time (a frozen copy of
    lms.tracks.services.summary_values over build_progress)."""
    bind = op.get_bind()
    when = lms.core.db.UTCDateTime(timezone=True)
    t = {name: sa.table(name, *[sa.column(c, typ) for c, typ in cols]) for name, cols in {
        "track_modules": [("track_id", sa.Integer), ("module_id", sa.Integer), ("position", sa.Integer), ("start_day", sa.Integer),
                          ("due_day", sa.Integer)],
        "modules": [("id", sa.Integer), ("slug", sa.String)],
        "lessons": [("id", sa.Integer), ("module_id", sa.Integer), ("position", sa.Integer), ("day", sa.Integer),
                    ("is_archived", sa.Boolean)],
        "quizzes": [("id", sa.Integer), ("module_slug", sa.String), ("day", sa.Integer), ("is_archived", sa.Boolean)],
        "enrollments": [("id", sa.Integer), ("user_id", sa.Integer), ("track_id", sa.Integer), ("start_date", sa.Date)],
        "lesson_completions": [("user_id", sa.Integer), ("lesson_id", sa.Integer), ("completed_at", when)],
        "quiz_summaries": [("user_id", sa.Integer), ("quiz_id", sa.Integer), ("grade", sa.Float), ("passed", sa.Boolean),
                           ("first_passed_at", when), ("last_activity_at", when)],
        "enrollment_progress": [("enrollment_id", sa.Integer), ("user_id", sa.Integer), ("track_id", sa.Integer),
                                ("start_date", sa.Date), ("end_date", sa.Date), ("steps_total", sa.Integer),
                                ("steps_done", sa.Integer), ("modules_total", sa.Integer), ("modules_done_in_order", sa.Integer),
                                ("first_pending_due", sa.Date), ("pending_days", sa.JSON), ("due_days", sa.JSON),
                                ("done_days", sa.JSON), ("quiz_grades", sa.JSON), ("last_activity_at", when), ("updated_at", when)],
    }.items()}
    lessons_of, quizzes_of = defaultdict(list), defaultdict(list)
    for row in bind.execute(sa.select(t["lessons"]).where(t["lessons"].c.is_archived.is_(False)).order_by(t["lessons"].c.position)):
        lessons_of[row.module_id].append((row.id, row.day))
    for row in bind.execute(sa.select(t["quizzes"]).where(t["quizzes"].c.is_archived.is_(False), t["quizzes"].c.module_slug.isnot(None))):
        quizzes_of[row.module_slug].append((row.id, row.day or 0))
    slugs = dict(bind.execute(sa.select(t["modules"].c.id, t["modules"].c.slug)).all())
    structure = defaultdict(list)  # track id → [(start_day, due_day, [lesson (id, day)], [quiz (id, day)])]
    for row in bind.execute(sa.select(t["track_modules"]).order_by(t["track_modules"].c.position)):
        structure[row.track_id].append((row.start_day, row.due_day, lessons_of[row.module_id], quizzes_of[slugs.get(row.module_id)]))
    now = datetime.now(timezone.utc)
    e, c, q = t["enrollments"], t["lesson_completions"], t["quiz_summaries"]
    user_ids = [u for (u,) in bind.execute(sa.select(e.c.user_id).distinct().order_by(e.c.user_id))]
    for first in range(0, len(user_ids), batch):
        chunk = user_ids[first:first + batch]
        completions, standings = defaultdict(dict), defaultdict(dict)
        for row in bind.execute(sa.select(c).where(c.c.user_id.in_(chunk))):
            completions[row.user_id][row.lesson_id] = row.completed_at
        for row in bind.execute(sa.select(q).where(q.c.user_id.in_(chunk))):
            standings[row.user_id][row.quiz_id] = row
        rows = []
        for enrollment in bind.execute(sa.select(e).where(e.c.user_id.in_(chunk)).order_by(e.c.id)):
            rows.append(_summary(enrollment, structure[enrollment.track_id], completions[enrollment.user_id],
                                 standings[enrollment.user_id], now))
        if rows:
            bind.execute(sa.insert(t["enrollment_progress"]), rows)


def _summary(enrollment, modules, completions, standings, now) -> dict:
    start = enrollment.start_date
    steps = []  # (due date, done, done day)
    last = max(completions.values(), default=None)
    leading, counting = 0, True
    for start_day, due_day, lessons, quizzes in modules:
        opens = start + timedelta(days=start_day)
        module_steps = []
        for lesson_id, day in lessons:
            at = completions.get(lesson_id)
            module_steps.append((opens + timedelta(days=day), at is not None, None if at is None else (at.date() - start).days))
        for quiz_id, day in quizzes:
            s = standings.get(quiz_id)
            passed_at = s.first_passed_at if s is not None else None
            module_steps.append((opens + timedelta(days=day), bool(s is not None and s.passed),
                                 None if passed_at is None else (passed_at.date() - start).days))
            if s is not None and s.last_activity_at is not None and (last is None or s.last_activity_at > last):
                last = s.last_activity_at
        if counting and all(done for _d, done, _x in module_steps):
            leading += 1
        else:
            counting = False
        steps.extend(module_steps)
    pending = [due for due, done, _x in steps if not done]
    return {"enrollment_id": enrollment.id, "user_id": enrollment.user_id, "track_id": enrollment.track_id, "start_date": start,
            "end_date": max((start + timedelta(days=due_day) for _s, due_day, _l, _q in modules), default=start),
            "steps_total": len(steps), "steps_done": sum(1 for _d, done, _x in steps if done),
            "modules_total": len(modules), "modules_done_in_order": leading, "first_pending_due": min(pending, default=None),
            "pending_days": sorted((due - start).days for due in pending), "due_days": sorted((due - start).days for due, _d, _x in steps),
            "done_days": sorted(x for _d, _done, x in steps if x is not None),
            "quiz_grades": {str(quiz_id): s.grade for _s, _dd, _l, quizzes in modules for quiz_id, _day in quizzes
                            if (s := standings.get(quiz_id)) is not None and s.grade is not None},
            "last_activity_at": last, "updated_at": now}


def downgrade() -> None:
    with op.batch_alter_table('enrollment_progress', schema=None) as batch_op:
        batch_op.drop_index('ix_enrollment_progress_user_state')
    op.drop_table('enrollment_progress')
