"""agents' released role-play scores indexed for the team dashboard (user_id, grade_state, scenario_id, id, score):
a team's scores are read from the index alone, in the order they are summed (issue #22)

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


def downgrade() -> None:
    op.drop_index('ix_roleplay_submissions_user_released', table_name='roleplay_submissions')
