"""The signed-in user is read as a plain row on every request and made the session's User (issue #22): it must
behave exactly like a User the ORM loaded — every column there without another statement, no change pending,
changes written on commit, relationships loaded on first use, the zone and the unread count read with it."""
from __future__ import annotations

from sqlalchemy import event, inspect, select

from lms.accounts import services
from lms.accounts.models import User
from lms.core.db import get_db
from lms.notifications.views import UNREAD


def _statements(app):
    seen: list[str] = []
    event.listen(get_db(app).engine, "before_cursor_execute", lambda conn, cursor, statement, *a: seen.append(statement))
    return seen


def test_the_session_user_is_a_loaded_user(app, session, make_user, make_team):
    team = make_team("Norte")
    agent = make_user("agent", name="Ana Pérez", teams=[team])
    token, user_id = agent.get_id(), agent.id
    fresh = get_db(app).sessionmaker()
    try:
        seen = _statements(app)
        user = services.load_user_for_session(fresh, token)
        assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) == 1
        state = inspect(user)
        assert state.persistent and not state.modified and user in fresh and not fresh.dirty and not fresh.new
        assert fresh.get(User, user_id) is user  # in the identity map
        seen.clear()
        # every column is there, with the zone and the unread count: no statement to read them
        assert (user.name, user.role, user.email, user.is_active_user) == ("Ana Pérez", "agent", agent.email, True)
        assert user.created_at == agent.created_at and user.session_version == agent.session_version
        assert "zone_in_effect" in user.__dict__ and user.session_extras == {UNREAD: 0}
        assert seen == []
        # a relationship loads on first use
        assert [m.team_id for m in user.memberships] == [team.id]
        # a change is written on commit, like any loaded object's
        user.name = "Ana P."
        assert list(fresh.dirty) == [user]
        fresh.commit()
    finally:
        fresh.close()
    session.expire_all()
    assert session.scalar(select(User.name).where(User.id == user_id)) == "Ana P."


def test_a_stale_or_inactive_session_loads_no_user(app, session, make_user):
    agent = make_user("agent")
    token = agent.get_id()
    services.end_sessions(session, agent)
    session.commit()
    fresh = get_db(app).sessionmaker()
    try:
        assert services.load_user_for_session(fresh, token) is None
        assert not fresh.identity_map  # nothing loaded for a refused session
        current = agent.get_id()
        assert services.load_user_for_session(fresh, current).id == agent.id
    finally:
        fresh.close()
    agent.is_active_user = False
    session.commit()
    fresh = get_db(app).sessionmaker()
    try:
        assert services.load_user_for_session(fresh, agent.get_id()) is None
    finally:
        fresh.close()
