"""authoring: drafts, review comments, grants, revised passages and their impacts; content files edited in the site

Revision ID: f3a4b5c6d001
Revises: e2f3a4b5c901
Create Date: 2026-12-05 16:46:51.913680
"""
from alembic import op
import sqlalchemy as sa
import lms.core.db


revision = 'f3a4b5c6d001'
down_revision = 'e2f3a4b5c901'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('authoring_passage_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=300), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('old_text', sa.Text(), nullable=False),
    sa.Column('new_text', sa.Text(), nullable=True),
    sa.Column('at', lms.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_authoring_passage_revisions'))
    )
    with op.batch_alter_table('authoring_passage_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_authoring_passage_revisions_ref'), ['ref'], unique=False)

    op.create_table('content_site_edits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', lms.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_site_edits')),
    sa.UniqueConstraint('path', name=op.f('uq_content_site_edits_path'))
    )
    op.create_table('authoring_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('base_text', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('publisher_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lms.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', lms.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', lms.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reviewed_at', lms.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_at', lms.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_authoring_drafts_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['publisher_id'], ['users.id'], name=op.f('fk_authoring_drafts_publisher_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_authoring_drafts_reviewer_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_authoring_drafts'))
    )
    with op.batch_alter_table('authoring_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_authoring_drafts_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_authoring_drafts_item', ['kind', 'slug'], unique=False)

    op.create_table('authoring_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('permission', sa.String(length=16), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('granted_at', lms.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_authoring_grants_granted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_authoring_grants_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_authoring_grants')),
    sa.UniqueConstraint('user_id', 'permission', name=op.f('uq_authoring_grants_user_id_permission'))
    )
    with op.batch_alter_table('authoring_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_authoring_grants_user_id'), ['user_id'], unique=False)

    op.create_table('authoring_impacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('certifications', sa.JSON(), nullable=False),
    sa.Column('resolution', sa.String(length=16), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', lms.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_authoring_impacts_resolved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['revision_id'], ['authoring_passage_revisions.id'], name=op.f('fk_authoring_impacts_revision_id_authoring_passage_revisions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_authoring_impacts')),
    sa.UniqueConstraint('revision_id', 'kind', 'slug', name=op.f('uq_authoring_impacts_revision_id_kind_slug'))
    )
    with op.batch_alter_table('authoring_impacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_authoring_impacts_revision_id'), ['revision_id'], unique=False)

    op.create_table('authoring_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('at', lms.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_authoring_comments_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['draft_id'], ['authoring_drafts.id'], name=op.f('fk_authoring_comments_draft_id_authoring_drafts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_authoring_comments'))
    )
    with op.batch_alter_table('authoring_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_authoring_comments_draft_id'), ['draft_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('authoring_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_authoring_comments_draft_id'))

    op.drop_table('authoring_comments')
    with op.batch_alter_table('authoring_impacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_authoring_impacts_revision_id'))

    op.drop_table('authoring_impacts')
    with op.batch_alter_table('authoring_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_authoring_grants_user_id'))

    op.drop_table('authoring_grants')
    with op.batch_alter_table('authoring_drafts', schema=None) as batch_op:
        batch_op.drop_index('ix_authoring_drafts_item')
        batch_op.drop_index(batch_op.f('ix_authoring_drafts_author_id'))

    op.drop_table('authoring_drafts')
    op.drop_table('content_site_edits')
    with op.batch_alter_table('authoring_passage_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_authoring_passage_revisions_ref'))

    op.drop_table('authoring_passage_revisions')
