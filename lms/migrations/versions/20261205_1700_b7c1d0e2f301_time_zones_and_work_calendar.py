"""time zones (user, team, organisation) and the work calendar (non-working days, teams that work weekends)

Revision ID: b7c1d0e2f301
Revises: 8a1e0b7c2d05
Create Date: 2026-12-05 17:00:00

Existing enrolments are recomputed, not frozen: due dates are derived from the start date and the track's days
whenever they are read, so every page follows the working-day rule at once; the stored progress summaries
(enrollment_progress: due days, first pending due date, end date) are moved here to the same rule (see
docs/time-and-calendars.md).
"""
from datetime import timedelta

from alembic import op
import sqlalchemy as sa
import lms.core.db


revision = 'b7c1d0e2f301'
down_revision = '8a1e0b7c2d05'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('works_weekends', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table('organisation_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('updated_at', lms.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_settings'))
    )
    op.create_table('non_working_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', lms.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_non_working_days')),
    sa.UniqueConstraint('day', name=op.f('uq_non_working_days_day'))
    )
    _recompute_summaries()


def _due(start, track_day: int):
    """A frozen copy of lms.tracks.calendar.due_date for the calendar every agent has right after this migration:
    Monday to Friday, no holidays, no team working weekends."""
    day = start
    while day.weekday() >= 5:
        day += timedelta(days=1)
    weeks, rest = divmod(max(track_day, 0), 7)
    weeks, rest = divmod(5 * weeks + min(rest, 5), 5)
    day += timedelta(weeks=weeks)
    return day + timedelta(days=rest + (2 if day.weekday() + rest >= 5 else 0))


def _recompute_summaries(batch: int = 1000) -> None:
    """The summaries stored days as calendar offsets from the start date, and an offset was the track file's day
    itself (due = start + day): each one becomes the offset of the working-day due date of that day."""
    bind = op.get_bind()
    progress = sa.table("enrollment_progress", sa.column("enrollment_id", sa.Integer), sa.column("start_date", sa.Date),
                        sa.column("end_date", sa.Date), sa.column("first_pending_due", sa.Date),
                        sa.column("pending_days", sa.JSON), sa.column("due_days", sa.JSON))
    last = 0
    while True:
        rows = bind.execute(sa.select(progress).where(progress.c.enrollment_id > last)
                            .order_by(progress.c.enrollment_id).limit(batch)).all()
        if not rows:
            return
        for row in rows:
            start = row.start_date

            def moved(offset, start=start):
                return (_due(start, offset) - start).days

            pending = [moved(d) for d in row.pending_days or []]
            bind.execute(progress.update().where(progress.c.enrollment_id == row.enrollment_id).values(
                pending_days=pending, due_days=[moved(d) for d in row.due_days or []],
                first_pending_due=start + timedelta(days=min(pending)) if pending else None,
                end_date=start + timedelta(days=moved((row.end_date - start).days))))
        last = rows[-1].enrollment_id


def downgrade() -> None:
    op.drop_table('non_working_days')
    op.drop_table('organisation_settings')
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.drop_column('works_weekends')
        batch_op.drop_column('time_zone')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
