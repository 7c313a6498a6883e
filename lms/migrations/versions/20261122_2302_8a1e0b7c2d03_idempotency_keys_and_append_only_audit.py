"""idempotency keys and append only audit

Revision ID: 8a1e0b7c2d03
Revises: 8a1e0b7c2d02
Create Date: 2026-11-22 23:02:00

- ``idempotency_keys``: claimed keys of submissions and the answer given (lms/core/idempotency.py);
- ``audit_events``: role changes and content publishes (lms/core/audit.py);
- append-only triggers on every audit table: UPDATE and DELETE (TRUNCATE on PostgreSQL) are refused by the
  database itself, except the database's own ON DELETE SET NULL of the acting person's column.
"""
from alembic import op
import sqlalchemy as sa
import lms.core.db


revision = '8a1e0b7c2d03'
down_revision = '8a1e0b7c2d02'
branch_labels = None
depends_on = None

#: table -> the column ON DELETE SET NULL may blank (None: nothing may change)
APPEND_ONLY = {
    "audit_events": None,
    "attempt_events": "actor_id",
    "roleplay_grade_events": "actor_id",
    "certification_events": "actor_id",
    "login_attempts": "user_id",
}

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION lms_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND TG_NARGS > 0
       AND (to_jsonb(NEW) ->> TG_ARGV[0]) IS NULL
       AND (to_jsonb(NEW) - TG_ARGV[0]) = (to_jsonb(OLD) - TG_ARGV[0]) THEN
        RETURN NEW;  -- ON DELETE SET NULL of the acting person: the row keeps everything else
    END IF;
    RAISE EXCEPTION 'append-only table %: % refused', TG_TABLE_NAME, TG_OP;
END
$$
"""


def _install_triggers() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for table, nullable in APPEND_ONLY.items():
            args = f"'{nullable}'" if nullable else ""
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION lms_append_only({args})")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION lms_append_only()")
    elif bind.dialect.name == "sqlite":
        for table, nullable in APPEND_ONLY.items():
            columns = [c["name"] for c in sa.inspect(bind).get_columns(table) if c["name"] != nullable]
            message = f"append-only table {table}: UPDATE refused"
            op.execute(f"CREATE TRIGGER {table}_no_update BEFORE UPDATE OF {', '.join(columns)} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{message}'); END")
            if nullable:
                op.execute(f"CREATE TRIGGER {table}_no_update_{nullable} BEFORE UPDATE OF {nullable} ON {table} "
                           f"WHEN NEW.{nullable} IS NOT NULL BEGIN SELECT RAISE(ABORT, '{message}'); END")
            op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, 'append-only table {table}: DELETE refused'); END")


def _drop_triggers() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS lms_append_only()")
    elif bind.dialect.name == "sqlite":
        for table, nullable in APPEND_ONLY.items():
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            if nullable:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update_{nullable}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("endpoint", sa.String(length=300), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("location", sa.String(length=1000), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("body_hash", sa.String(length=64), nullable=True),
        sa.Column("flashes", sa.Text(), nullable=True),
        sa.Column("created_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("owner", "key", name=op.f("uq_idempotency_keys_owner_key")),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotency_keys_user_id"), ["user_id"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_subject"), ["subject"], unique=False)

    _install_triggers()


def downgrade() -> None:
    _drop_triggers()
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_subject"))
        batch_op.drop_index(batch_op.f("ix_audit_events_kind"))
        batch_op.drop_index(batch_op.f("ix_audit_events_at"))
    op.drop_table("audit_events")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_keys_user_id"))
    op.drop_table("idempotency_keys")
