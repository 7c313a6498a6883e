"""role-play submissions keep the simulated customers' side: each thread's ending, mood and nudges

Revision ID: d1e2f3a4b801
Revises: f3a4b5c6d001
Create Date: 2026-12-05 17:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'd1e2f3a4b801'
down_revision = 'f3a4b5c6d001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('roleplay_submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('conversation', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('roleplay_submissions', schema=None) as batch_op:
        batch_op.drop_column('conversation')
