"""notifications

Revision ID: 8a1e0b7c2d01
Revises: 2fa55af9b54b
Create Date: 2026-11-22 23:00:00
"""
from alembic import op
import sqlalchemy as sa
import lms.core.db


revision = '8a1e0b7c2d01'
down_revision = '2fa55af9b54b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
