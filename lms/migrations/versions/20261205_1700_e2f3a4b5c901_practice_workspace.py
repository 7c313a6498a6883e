"""practice workspace: per-conversation drafts, tickets and knowledge-base lookups kept with a role-play practice

Revision ID: e2f3a4b5c901
Revises: a4b5c6d7e101
Create Date: 2026-12-05 17:00:00
"""
from alembic import op
import sqlalchemy as sa

from lms.core.db import UTCDateTime


revision = 'e2f3a4b5c901'
down_revision = 'a4b5c6d7e101'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('roleplay_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('thread', sa.String(length=50), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['roleplay_submissions.id'], name=op.f('fk_roleplay_drafts_submission_id_roleplay_submissions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roleplay_drafts')),
    sa.UniqueConstraint('submission_id', 'thread', name=op.f('uq_roleplay_drafts_submission_id_thread'))
    )
    op.create_index(op.f('ix_roleplay_drafts_submission_id'), 'roleplay_drafts', ['submission_id'], unique=False)
    op.create_table('roleplay_tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('thread', sa.String(length=50), nullable=False),
    sa.Column('cliente', sa.String(length=200), nullable=False),
    sa.Column('asunto', sa.String(length=200), nullable=False),
    sa.Column('descripcion', sa.Text(), nullable=False),
    sa.Column('prioridad', sa.String(length=16), nullable=False),
    sa.Column('estado', sa.String(length=16), nullable=False),
    sa.Column('agente', sa.String(length=200), nullable=False),
    sa.Column('history', sa.JSON(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['roleplay_submissions.id'], name=op.f('fk_roleplay_tickets_submission_id_roleplay_submissions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roleplay_tickets')),
    sa.UniqueConstraint('submission_id', 'thread', name=op.f('uq_roleplay_tickets_submission_id_thread'))
    )
    op.create_index(op.f('ix_roleplay_tickets_submission_id'), 'roleplay_tickets', ['submission_id'], unique=False)
    op.create_table('roleplay_lookups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('query', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['roleplay_submissions.id'], name=op.f('fk_roleplay_lookups_submission_id_roleplay_submissions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roleplay_lookups'))
    )
    op.create_index(op.f('ix_roleplay_lookups_submission_id'), 'roleplay_lookups', ['submission_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_roleplay_lookups_submission_id'), table_name='roleplay_lookups')
    op.drop_table('roleplay_lookups')
    op.drop_index(op.f('ix_roleplay_tickets_submission_id'), table_name='roleplay_tickets')
    op.drop_table('roleplay_tickets')
    op.drop_index(op.f('ix_roleplay_drafts_submission_id'), table_name='roleplay_drafts')
    op.drop_table('roleplay_drafts')
