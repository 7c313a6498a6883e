"""organisation exports prepared in the background by the worker (export_jobs); users indexed in the exports'
keyset order (name, id)

Revision ID: c4d5e6f7a801
Revises: d1e2f3a4b801
Create Date: 2026-12-05 20:10:00
"""
from alembic import op
import sqlalchemy as sa

import lms.core.db


revision = 'c4d5e6f7a801'
down_revision = 'd1e2f3a4b801'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('export_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', lms.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('processed', sa.Integer(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('cursor_name', sa.String(length=200), nullable=True),
    sa.Column('cursor_id', sa.Integer(), nullable=True),
    sa.Column('file_name', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('finished_at', lms.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', lms.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_export_jobs_created_by_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_export_jobs_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_jobs'))
    )
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_jobs_created_by_id'), ['created_by_id'], unique=False)
    op.create_index('ix_users_name_id', 'users', ['name', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_users_name_id', table_name='users')
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_jobs_created_by_id'))
    op.drop_table('export_jobs')
