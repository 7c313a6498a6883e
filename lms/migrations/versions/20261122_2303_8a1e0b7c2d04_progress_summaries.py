"""progress summaries

Revision ID: 8a1e0b7c2d04
Revises: 8a1e0b7c2d03
Create Date: 2026-11-22 23:03:00
"""
from alembic import op
import sqlalchemy as sa
import lms.core.db


revision = '8a1e0b7c2d04'
down_revision = '8a1e0b7c2d03'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
