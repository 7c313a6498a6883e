"""any_of: a list of ids as one array parameter on PostgreSQL (one statement text for any list), an IN elsewhere."""
from __future__ import annotations

from sqlalchemy import event, select

from lms.accounts.models import User
from lms.core.db import any_of


def test_any_of_selects_the_listed_rows_with_one_statement_text(session, make_user):
    users = [make_user("agent", name=f"Agente {n}") for n in range(5)]
    session.flush()
    connection = session.connection()
    dialect = connection.dialect.name
    stmt = select(User.id).where(any_of(dialect, User.id, "b_ids")).order_by(User.id)
    texts = []

    def record(_conn, _cursor, statement, *_args):
        texts.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        for chosen in ([users[0]], users[1:4], users):
            ids = [u.id for u in chosen]
            assert connection.execute(stmt, {"b_ids": ids}).scalars().all() == sorted(ids)
        assert connection.execute(stmt, {"b_ids": []}).scalars().all() == []
    finally:
        event.remove(connection, "before_cursor_execute", record)
    if dialect == "postgresql":
        assert len(set(texts)) == 1 and "= ANY (" in texts[0], texts
    else:
        assert all(" IN (" in text for text in texts[:3]), texts
