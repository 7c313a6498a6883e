"""password resets and session limits

Revision ID: 8a1e0b7c2d02
Revises: 8a1e0b7c2d01
Create Date: 2026-11-22 23:01:00
"""
from alembic import op
import sqlalchemy as sa
import lms.core.db


revision = '8a1e0b7c2d02'
down_revision = '8a1e0b7c2d01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
