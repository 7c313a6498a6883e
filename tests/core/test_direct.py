"""lms.core.db.Direct: a Core statement run on the driver's cursor gives what SQLAlchemy's execution gives (issue #22),
and keeps what matters of it: the engine's listeners hear it, a driver's error comes as SQLAlchemy's."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import JSON, Float, bindparam, event, func, insert, literal, select, type_coerce
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import User
from lms.core.db import Direct, as_loaded, own_columns

MOMENT = datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)


def test_a_row_read_directly_equals_the_row_sqlalchemy_reads(session, make_user):
    user = make_user("trainer", name="Marta Formadora")
    user.last_login_at = MOMENT
    session.flush()
    columns = [column for _key, column in own_columns(User)]
    statement = select(*columns, literal({"a": [1, 2]}, type_=JSON).label("data"),
                       type_coerce(func.coalesce(User.last_login_at, bindparam("b_when", type_=User.last_login_at.type)),
                                   User.last_login_at.type).label("when"),
                       (User.id * literal(1.5, Float)).label("ratio")).where(User.id == bindparam("b_id"))
    connection = session.connection()
    direct = Direct(statement)
    for _ in range(2):  # (the second run uses what the first learnt of the columns' types)
        row = direct.first(connection, {"b_id": user.id, "b_when": MOMENT})
        expected = tuple(connection.execute(statement, {"b_id": user.id, "b_when": MOMENT}).one())
        assert row == expected
        assert [type(v) for v in row] == [type(v) for v in expected]
    assert row[[key for key, _c in own_columns(User)].index("last_login_at")] == MOMENT  # an aware moment, as stored
    assert row[-1] == pytest.approx(user.id * 1.5)
    assert direct.first(connection, {"b_id": -1, "b_when": MOMENT}) is None
    other = make_user("agent", name="Pablo Agente")
    every = Direct(select(User.id, User.name, User.created_at).where(User.id.between(bindparam("b_lo"), bindparam("b_hi")))
                   .order_by(User.id))
    ids = {"b_lo": user.id, "b_hi": other.id}
    assert every.all(connection, ids) == [tuple(r) for r in connection.execute(every.statement, ids).all()]
    assert [r[1] for r in every.all(connection, ids)] == ["Marta Formadora", "Pablo Agente"]
    with pytest.raises(ValueError):  # an expanding IN: not for Direct
        Direct(select(User.id).where(User.id.in_([user.id]))).all(connection, {})


def test_the_engine_listeners_hear_it_and_a_driver_error_comes_as_sqlalchemys(session, make_user):
    user = make_user("agent")
    connection = session.connection()
    heard = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        heard.append(statement)

    def after(conn, cursor, statement, parameters, context, executemany):
        heard.append(("after", statement))

    event.listen(connection.engine, "before_cursor_execute", listener)
    event.listen(connection.engine, "after_cursor_execute", after)
    try:
        row = Direct(select(User.email).where(User.id == bindparam("b_id"))).first(connection, {"b_id": user.id})
        assert row == (user.email,)
        assert len(heard) == 2 and heard[0].startswith("SELECT users.email") and heard[1] == ("after", heard[0])
        twin = {key: getattr(user, key) for key, _column in own_columns(User)} | {"id": user.id + 10_000}
        clash = Direct(insert(User).values({key: bindparam(f"v_{key}") for key in twin}).returning(User.id))
        with pytest.raises(IntegrityError):  # the same e-mail address: the unique constraint, as SQLAlchemy raises it
            clash.first(connection, {f"v_{key}": value for key, value in twin.items()})
    finally:
        event.remove(connection.engine, "before_cursor_execute", listener)
        event.remove(connection.engine, "after_cursor_execute", after)


def test_a_row_made_as_loaded_is_the_sessions_own_and_nothing_is_pending(session, make_user):
    user = make_user("agent", name="Ana")
    session.flush()
    user_id = user.id
    session.expunge_all()
    row = Direct(select(*(column for _key, column in own_columns(User))).where(User.id == bindparam("b_id"))).first(
        session.connection(), {"b_id": user_id})
    loaded = as_loaded(session, User, row)
    assert loaded.name == "Ana" and loaded in session and not session.dirty and not session.new
    assert session.get(User, user_id) is loaded
    assert as_loaded(session, User, row) is loaded  # an instance the session holds is returned as it is
