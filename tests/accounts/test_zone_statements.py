"""The signed-in reader's zone costs no statement of its own: it is loaded with the user."""
from datetime import date, datetime, timezone

from sqlalchemy import event

from lms.accounts import zones
from lms.core.db import get_db
from lms.tracks import services as tracks


def test_the_zone_comes_with_the_signed_in_user(app, client, auth, session, content, agent, manager, team):
    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 3, 2),
                  now=datetime(2026, 3, 2, tzinfo=timezone.utc))
    tracks.complete_lesson(session, agent, tracks.get_lesson(session, "a-uno"), now=datetime(2026, 3, 2, 12, tzinfo=timezone.utc))
    zones.set_team_calendar(session, team, time_zone="America/Bogota", works_weekends=False)
    session.commit()
    auth.login_as(agent)
    statements = []

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    engine = get_db(app).engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        page = client.get("/lessons/a-uno").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert "Completada el 2 mar 2026, 7:00" in page  # 12:00 UTC in Bogotá
    assert not [s for s in statements if "organisation_settings" in s and "users" not in s]  # no lookup of its own
