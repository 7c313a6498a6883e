"""conformance and hardening: the resource links each person launched from (LTI scores go only there) and refused
staff launches awaiting an admin's link; team names
compared by a folded key (accents, capitals and repeated spaces ignored, the same on SQLite and PostgreSQL), backfilled;
Open Badges signing keys that can be withdrawn as compromised, and the signed revocation status list kept as signed;
CSV import jobs run by the worker

Revision ID: a4b5c6d7e101
Revises: b7c1d0e2f301
Create Date: 2026-12-05 17:00:00
"""
import unicodedata

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
    op.create_table('lti_link_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('sub', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('claimed_name', sa.String(length=200), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_lti_link_requests_confirmed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platforms.id'], name=op.f('fk_lti_link_requests_platform_id_lti_platforms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_lti_link_requests_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_link_requests')),
    sa.UniqueConstraint('platform_id', 'sub', name=op.f('uq_lti_link_requests_platform_id_sub'))
    )
    with op.batch_alter_table('lti_link_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_link_requests_platform_id'), ['platform_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_link_requests_user_id'), ['user_id'], unique=False)


    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=400), nullable=True))
    _backfill_team_keys()
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.alter_column('name_key', existing_type=sa.String(length=400), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_teams_name_key'), ['name_key'])

    with op.batch_alter_table('badge_signing_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('compromised_since', sa.DateTime(timezone=True), nullable=True))
    op.create_table('badge_status_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_badge_status_lists'))
    )
    op.create_table('csv_import_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('skip_invalid', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('processed', sa.Integer(), nullable=False),
    sa.Column('imported', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('rolled_back', sa.Boolean(), nullable=False),
    sa.Column('prepared', sa.JSON(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_csv_import_jobs_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_csv_import_jobs'))
    )
    with op.batch_alter_table('csv_import_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_csv_import_jobs_created_by_id'), ['created_by_id'], unique=False)


def _fold(name: str) -> str:
    """A frozen copy of lms.accounts.models.fold_name."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


def _backfill_team_keys() -> None:
    """Every team's key; two existing teams that fold to the same key keep both (the later one's key names its id,
    so nothing is lost; an admin can rename one)."""
    bind = op.get_bind()
    teams = sa.table('teams', sa.column('id', sa.Integer), sa.column('name', sa.String), sa.column('name_key', sa.String))
    seen = set()
    for team_id, name in bind.execute(sa.select(teams.c.id, teams.c.name).order_by(teams.c.id)).all():
        key = _fold(name)
        if key in seen:
            key = f"{key} #{team_id}"
        seen.add(key)
        bind.execute(teams.update().where(teams.c.id == team_id).values(name_key=key))


def downgrade() -> None:
    with op.batch_alter_table('lti_link_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_link_requests_user_id'))
        batch_op.drop_index(batch_op.f('ix_lti_link_requests_platform_id'))
    op.drop_table('lti_link_requests')
    with op.batch_alter_table('csv_import_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_csv_import_jobs_created_by_id'))
    op.drop_table('csv_import_jobs')
    op.drop_table('badge_status_lists')
    with op.batch_alter_table('badge_signing_keys', schema=None) as batch_op:
        batch_op.drop_column('compromised_since')
        batch_op.drop_column('revoked_at')
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_teams_name_key'), type_='unique')
        batch_op.drop_column('name_key')
    with op.batch_alter_table('lti_launched_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_launched_links_user_id'))
        batch_op.drop_index(batch_op.f('ix_lti_launched_links_resource_link_pk'))
    op.drop_table('lti_launched_links')
