"""Each person reads times in their own zone (their own, their team's, the organisation's); stored times stay UTC.
Madrid changes to summer time on 29 March 2026 at 01:00 UTC and back on 25 October at 01:00 UTC; Bogotá has no DST."""
from datetime import date, datetime, timezone

import pytest
from icalendar import Calendar

from lms.accounts import zones
from lms.core.errors import InvalidInput
from lms.notifications import services as notifications
from lms.tracks import services as tracks
from lms.tracks.models import LessonCompletion

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
#: half an hour after Madrid moved its clocks forward: 03:30 there (CEST), 20:30 the day before in Bogotá
AFTER_SPRING_CHANGE = datetime(2026, 3, 29, 1, 30, tzinfo=timezone.utc)
#: half an hour before it moves them back: 02:30 CEST on the 25th in Madrid, 19:30 on the 24th in Bogotá
BEFORE_AUTUMN_CHANGE = datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)


def test_own_zone_then_the_team_s_then_the_organisation_s_then_the_default(session, agent, team, make_team, make_user):
    assert zones.zone_of(session, agent) == "UTC"  # nothing set anywhere: BABEL_DEFAULT_TIMEZONE
    zones.set_organisation_zone(session, "Europe/Madrid", now=T0)
    assert zones.zone_of(session, agent) == "Europe/Madrid"
    zones.set_team_calendar(session, team, time_zone="America/Bogota", works_weekends=False)
    assert zones.zone_of(session, agent) == "America/Bogota"
    zones.set_user_zone(session, agent, "Atlantic/Canary")
    assert zones.zone_of(session, agent) == "Atlantic/Canary"
    zones.set_user_zone(session, agent, "")
    assert zones.zone_of(session, agent) == "America/Bogota"
    # someone in no team with a zone: the organisation's
    assert zones.zone_of(session, make_user("trainer", teams=[make_team()])) == "Europe/Madrid"


def test_an_unknown_zone_is_refused_with_a_message(session, agent):
    with pytest.raises(InvalidInput, match="no es una zona horaria conocida"):
        zones.set_user_zone(session, agent, "Mars/Olympus_Mons")
    assert agent.time_zone is None


def test_the_settings_page_chooses_a_zone_and_refuses_an_invented_one(client, auth, session, agent):
    auth.login_as(agent)
    page = client.get("/account").get_data(as_text=True)
    assert 'name="tz-time_zone"' in page and "America/Bogota" in page and "Europe/Madrid" in page
    response = client.post("/account", data={"tz-time_zone": "America/Bogota"})
    assert response.status_code == 302
    session.refresh(agent)
    assert agent.time_zone == "America/Bogota"
    response = client.post("/account", data={"tz-time_zone": "Europe/Atlantis"})
    assert response.status_code == 200 and "«Europe/Atlantis» no es una zona horaria conocida" in response.get_data(as_text=True)
    session.refresh(agent)
    assert agent.time_zone == "America/Bogota"  # nothing lost


def _complete_at(session, agent, slug, moment):
    tracks.complete_lesson(session, agent, tracks.get_lesson(session, slug), now=moment)
    session.commit()


@pytest.mark.parametrize("zone, shown", [("Europe/Madrid", "29 mar 2026, 3:30"), ("America/Bogota", "28 mar 2026, 20:30")])
def test_a_page_shows_the_reader_s_local_time_across_the_spring_change(client, auth, session, content, agent, manager, zone, shown):
    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 3, 2), now=T0)
    _complete_at(session, agent, "a-uno", AFTER_SPRING_CHANGE)
    assert session.query(LessonCompletion).one().completed_at == AFTER_SPRING_CHANGE  # stored in UTC
    zones.set_user_zone(session, agent, zone)
    session.commit()
    auth.login_as(agent)
    page = client.get("/lessons/a-uno").get_data(as_text=True)
    assert f"Completada el {shown}" in page


def test_a_team_zone_reaches_its_members_pages(client, auth, session, content, agent, manager, team):
    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 3, 2), now=T0)
    _complete_at(session, agent, "a-uno", datetime(2026, 3, 28, 12, 0, tzinfo=timezone.utc))  # winter: Madrid UTC+1
    zones.set_organisation_zone(session, "Europe/Madrid", now=T0)
    session.commit()
    auth.login_as(agent)
    assert "28 mar 2026, 13:00" in client.get("/lessons/a-uno").get_data(as_text=True)
    zones.set_team_calendar(session, team, time_zone="America/Bogota", works_weekends=False)
    session.commit()
    page = client.get("/lessons/a-uno").get_data(as_text=True)
    assert "28 mar 2026, 7:00" in page


@pytest.mark.parametrize("zone, day", [("Europe/Madrid", "25 de octubre de 2026"), ("America/Bogota", "24 de octubre de 2026")])
def test_an_email_writes_dates_in_the_recipient_s_zone(session, content, agent, admin, zone, day):
    from lms.certification import services as certs

    zones.set_user_zone(session, agent, zone)
    record = certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Prueba", now=T0)
    record.expires_at = BEFORE_AUTUMN_CHANGE
    session.flush()
    notification = notifications.notify(session, agent, "certificate_issued",
                                        {"title": "Proceso", "expires": record.expires_at.isoformat()},
                                        link="/certifications", key=f"tz-test:{zone}", now=T0, email=False)
    payload = notifications.email_payload(agent, notification)
    assert f"Es válida hasta el {day}." in payload["body"]


def test_the_certificate_expiry_email_uses_each_recipient_s_zone(session, content, agent, manager, admin):
    from lms.certification import services as certs
    from lms.core.outbox import OutboxMessage

    zones.set_user_zone(session, agent, "Europe/Madrid")
    zones.set_user_zone(session, manager, "America/Bogota")
    record = certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Prueba", now=T0)
    record.expires_at = BEFORE_AUTUMN_CHANGE
    session.flush()
    certs.queue_expiry_reminders(session, now=datetime(2026, 10, 1, 9, tzinfo=timezone.utc), base_url="https://academia.example")
    bodies = {m.payload["to"]: m.payload["body"] for m in session.query(OutboxMessage).filter(OutboxMessage.kind == "email")}
    assert "caduca el 25 de octubre de 2026" in bodies[agent.email] and "caduca el 24 de octubre de 2026" in bodies[manager.email]


@pytest.mark.parametrize("zone, done", [("Europe/Madrid", "Hecho el 29 mar 2026, 03:30."), ("America/Bogota", "Hecho el 28 mar 2026, 20:30.")])
def test_the_ical_feed_is_written_in_the_agent_s_zone(client, auth, session, content, agent, manager, zone, done):
    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 3, 2), now=T0)
    _complete_at(session, agent, "a-uno", AFTER_SPRING_CHANGE)
    zones.set_user_zone(session, agent, zone)
    session.commit()
    auth.login_as(agent)
    page = client.post("/calendar/subscription", data={"action": "create"}).get_data(as_text=True)
    token = page.split("/calendar/")[1].split(".ics")[0]
    client.post("/logout")
    feed = Calendar.from_ical(client.get(f"/calendar/{token}.ics").data)
    assert str(feed["x-wr-timezone"]) == zone
    (event,) = [e for e in feed.walk("VEVENT") if "a-uno" in str(e["uid"])] or [None]
    assert event is not None and done in str(event["description"])
    assert event.decoded("dtstart") == date(2026, 3, 2)  # the due day itself is a working day, not a moment


def test_an_invented_zone_is_refused_in_english_for_an_english_reader(client, auth, session, agent):
    agent.locale = "en"
    session.commit()
    auth.login_as(agent)
    response = client.post("/account", data={"tz-time_zone": "Europe/Atlantis"})
    assert response.status_code == 200 and "“Europe/Atlantis” is not a known time zone" in response.get_data(as_text=True)
