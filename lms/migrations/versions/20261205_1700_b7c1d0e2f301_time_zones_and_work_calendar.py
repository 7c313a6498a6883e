"""time zones (user, team, organisation) and the work calendar (non-working days, teams that work weekends)

Revision ID: b7c1d0e2f301
Revises: 8a1e0b7c2d05
Create Date: 2026-12-05 17:00:00

Existing enrolments are recomputed, not frozen: due dates are derived from the start date and the track's days
whenever they are read, so every page follows the working-day rule at once. The stored progress summaries
(enrollment_progress) are rewritten by ``flask --app lms tracks rebuild-summaries`` after the upgrade (see
docs/time-and-calendars.md).
"""
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


def downgrade() -> None:
    op.drop_table('non_working_days')
    op.drop_table('organisation_settings')
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.drop_column('works_weekends')
        batch_op.drop_column('time_zone')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
