"""The personal iCalendar feed: a secret, revocable URL with the agent's due dates, readable by calendar apps."""
from datetime import date, datetime, timezone

from icalendar import Calendar
from sqlalchemy import select

from lms.tracks import ical
from lms.tracks import services as tracks
from lms.tracks.models import CalendarFeed

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)


def test_feed_lists_the_agents_due_dates_and_stops_when_revoked(client, auth, session, content, agent, manager, make_user, team):
    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 1, 5), now=T0)
    other = make_user("agent", teams=[team])
    tracks.enroll(session, actor=manager, agent=other, track=tracks.find_track(session, "largo"), start_date=date(2026, 2, 2), now=T0)
    session.commit()
    auth.login_as(agent)
    page = client.post("/calendar/subscription", data={"action": "create"}).get_data(as_text=True)
    token = page.split("/calendar/")[1].split(".ics")[0]
    assert len(token) >= 40
    stored = session.scalars(select(CalendarFeed.token_hash)).all()
    assert token not in stored and len(stored) == 1  # only the hash is kept
    client.post("/logout")

    response = client.get(f"/calendar/{token}.ics")  # no login: calendar apps fetch it
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    events = list(calendar.walk("VEVENT"))
    progress = tracks.progress_for_user(session, agent, date(2026, 1, 9))[0]
    assert sorted((str(e["summary"]).split(": ", 1)[1], e.decoded("dtstart")) for e in events) == \
        sorted((s.title, s.due_date) for s in progress.steps)
    assert len({str(e["uid"]) for e in events}) == len(events)
    assert all(str(e["url"]).startswith("http://localhost/") for e in events)
    # the same URL again gives the same UIDs (calendar apps update the events rather than duplicate them)
    again = {str(e["uid"]) for e in Calendar.from_ical(client.get(f"/calendar/{token}.ics").data).walk("VEVENT")}
    assert again == {str(e["uid"]) for e in events}

    auth.login_as(agent)
    client.post("/calendar/subscription", data={"action": "create"})  # a new link replaces the old one
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    client.post("/calendar/subscription", data={"action": "revoke"})
    assert ical.live_feed(session, agent.id) is None
    assert client.get("/calendar/not-a-token.ics").status_code == 404

