"""role-play criterion summaries: per agent, rubric version and criterion, the sum and count of released levels (backfilled)

Revision ID: 8a1e0b7c2d05
Revises: 8a1e0b7c2d04
Create Date: 2026-11-23 05:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '8a1e0b7c2d05'
down_revision = '8a1e0b7c2d04'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('roleplay_criterion_summaries',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('rubric_version_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.String(length=100), nullable=False),
    sa.Column('level_sum', sa.Integer(), nullable=False),
    sa.Column('grades', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['rubric_version_id'], ['rubric_versions.id'], name=op.f('fk_roleplay_criterion_summaries_rubric_version_id_rubric_versions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_roleplay_criterion_summaries_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'rubric_version_id', 'criterion_id', name=op.f('pk_roleplay_criterion_summaries'))
    )
    _backfill()


def _backfill(batch: int = 500) -> None:
    """The sums of the released grades already there, a batch of agents at a time (a frozen copy of
    lms.roleplays.services.rebuild_criterion_summaries)."""
    bind = op.get_bind()
    grades = sa.table('roleplay_grades', sa.column('submission_id', sa.Integer), sa.column('rubric_version_id', sa.Integer),
                      sa.column('state', sa.String), sa.column('calibration_id', sa.Integer), sa.column('levels', sa.JSON))
    submissions = sa.table('roleplay_submissions', sa.column('id', sa.Integer), sa.column('user_id', sa.Integer))
    summaries = sa.table('roleplay_criterion_summaries', sa.column('user_id', sa.Integer), sa.column('rubric_version_id', sa.Integer),
                         sa.column('criterion_id', sa.String), sa.column('level_sum', sa.Integer), sa.column('grades', sa.Integer))
    agents = [row[0] for row in bind.execute(sa.select(submissions.c.user_id).where(submissions.c.user_id.isnot(None))
                                             .distinct().order_by(submissions.c.user_id))]
    for i in range(0, len(agents), batch):
        sums = {}
        for user_id, version_id, levels in bind.execute(
                sa.select(submissions.c.user_id, grades.c.rubric_version_id, grades.c.levels)
                .join(submissions, submissions.c.id == grades.c.submission_id)
                .where(grades.c.state == 'released', grades.c.calibration_id.is_(None), submissions.c.user_id.in_(agents[i:i + batch]))):
            for criterion_id, level in (levels or {}).items():
                both = sums.setdefault((user_id, version_id, criterion_id), [0, 0])
                both[0] += level
                both[1] += 1
        if sums:
            bind.execute(summaries.insert(), [{"user_id": u, "rubric_version_id": v, "criterion_id": c, "level_sum": total, "grades": n}
                                              for (u, v, c), (total, n) in sums.items()])


def downgrade() -> None:
    op.drop_table('roleplay_criterion_summaries')
