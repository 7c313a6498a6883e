"""a stamp on each agent's role-play criterion sums (issue #22): a random number written on all of the agent's rows,
new whenever they are rewritten, so the team dashboard caches a team's weakest criteria under its agents' stamps
instead of grouping their sums on every page. The rows already there get one random stamp of this database.

Revision ID: f6a7b8c9d003
Revises: e5f6a7b8c902
Create Date: 2026-12-06 03:00:00
"""
import secrets

import sqlalchemy as sa
from alembic import op


revision = 'f6a7b8c9d003'
down_revision = 'e5f6a7b8c902'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('roleplay_criterion_summaries', sa.Column('stamp', sa.BigInteger(), server_default='0', nullable=False))
    # never 0 (0: not cached); random, so two databases' sums never share a stamp (lms.roleplays.services._new_stamp)
    op.execute(sa.text("UPDATE roleplay_criterion_summaries SET stamp = :stamp").bindparams(stamp=secrets.randbits(62) | 1))


def downgrade() -> None:
    with op.batch_alter_table('roleplay_criterion_summaries') as batch:
        batch.drop_column('stamp')
