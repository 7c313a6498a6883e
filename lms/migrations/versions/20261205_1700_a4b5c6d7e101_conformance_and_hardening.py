"""conformance and hardening: the resource links each person launched from (LTI scores go only there)

Revision ID: a4b5c6d7e101
Revises: b7c1d0e2f301
Create Date: 2026-12-05 17:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'a4b5c6d7e101'
down_revision = 'b7c1d0e2f301'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lti_launched_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('resource_link_pk', sa.Integer(), nullable=False),
    sa.Column('sub', sa.String(length=255), nullable=False),
    sa.Column('first_launch_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['resource_link_pk'], ['lti_resource_links.id'], name=op.f('fk_lti_launched_links_resource_link_pk_lti_resource_links'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_lti_launched_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_launched_links')),
    sa.UniqueConstraint('user_id', 'resource_link_pk', name=op.f('uq_lti_launched_links_user_id_resource_link_pk'))
    )
    with op.batch_alter_table('lti_launched_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_launched_links_resource_link_pk'), ['resource_link_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_launched_links_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('lti_launched_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_launched_links_user_id'))
        batch_op.drop_index(batch_op.f('ix_lti_launched_links_resource_link_pk'))
    op.drop_table('lti_launched_links')
