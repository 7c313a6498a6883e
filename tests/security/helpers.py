"""Comparing the database before and after a refused request: nothing may have changed."""
from __future__ import annotations

from sqlalchemy import inspect, select

from lms.core.db import Base

#: written by any request (sign-in audit, throttling, sessions) or by background machinery
VOLATILE_TABLES = {"login_attempts", "login_throttles", "outbox_messages", "idempotency_keys", "audit_events", "search_documents",
                   "search_terms", "lti_stored_values"}
#: users change on every sign-in (last login, session version): compare what a request could steal or escalate
USER_COLUMNS = ("id", "email", "name", "role", "is_active_user", "locale", "password_hash")


def db_state(session) -> dict[str, list[tuple]]:
    """Every row of every domain table (those present in this database), in a comparable form."""
    session.expire_all()
    connection = session.connection()
    present = set(inspect(connection).get_table_names())
    state = {}
    for name, table in sorted(Base.metadata.tables.items()):
        if name in VOLATILE_TABLES or name not in present:
            continue
        columns = [table.c[c] for c in USER_COLUMNS if c in table.c] if name == "users" else list(table.c)
        order = [c for c in table.primary_key.columns] or columns[:1]
        state[name] = [tuple(row) for row in connection.execute(select(*columns).order_by(*order))]
    return state


def changed_tables(before: dict, after: dict) -> list[str]:
    return [name for name in sorted(set(before) | set(after)) if before.get(name) != after.get(name)]
