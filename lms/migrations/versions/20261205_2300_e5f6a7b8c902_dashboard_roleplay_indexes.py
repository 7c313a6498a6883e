"""the team dashboard's role-play reads answered from indexes alone (issue #22): agents' released scores
(user_id, grade_state, scenario_id, id, score: in the order they are summed) and the per-agent criterion sums
(user_id, rubric_version_id, criterion_id, level_sum, grades)

Revision ID: e5f6a7b8c902
Revises: c4d5e6f7a801
Create Date: 2026-12-05 23:00:00
"""
from alembic import op


revision = 'e5f6a7b8c902'
down_revision = 'c4d5e6f7a801'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_roleplay_submissions_user_released', 'roleplay_submissions', ['user_id', 'grade_state', 'scenario_id', 'id', 'score'], unique=False)
    op.create_index('ix_roleplay_criterion_summaries_user_sums', 'roleplay_criterion_summaries',
                    ['user_id', 'rubric_version_id', 'criterion_id', 'level_sum', 'grades'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_roleplay_criterion_summaries_user_sums', table_name='roleplay_criterion_summaries')
    op.drop_index('ix_roleplay_submissions_user_released', table_name='roleplay_submissions')
