"""Due dates count working days: never on a Saturday or a Sunday (unless the team works weekends), never on a holiday."""
from datetime import date, datetime, timedelta, timezone

from lms.tracks import calendar, services
from lms.tracks.calendar import WorkCalendar, due_date

NOW = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
MONDAY, WEDNESDAY = date(2026, 1, 5), date(2026, 1, 7)


def test_a_monday_start_keeps_the_days_the_track_files_were_written_for():
    """Day N of a file is calendar day N of a programme started on a Monday: nothing moves for those agents."""
    for day in (0, 1, 2, 3, 4, 7, 8, 11, 14, 18, 21, 25, 28, 58):
        assert due_date(MONDAY, day) == MONDAY + timedelta(days=day), day


def test_a_due_date_that_would_land_on_a_saturday_moves_to_the_next_working_day():
    # a track's day 5 is the Saturday of a Monday-started week: due on the Monday after
    assert due_date(MONDAY, 5) == due_date(MONDAY, 6) == date(2026, 1, 12)
    # started on a Wednesday, day 3 (calendar: Saturday) is the third working day after: Monday
    assert WEDNESDAY + timedelta(days=3) == date(2026, 1, 10) and date(2026, 1, 10).weekday() == 5
    assert due_date(WEDNESDAY, 3) == date(2026, 1, 12)
    # and the week is five working days long whatever the start day: day 7 is next Wednesday
    assert due_date(WEDNESDAY, 7) == date(2026, 1, 14)


def test_no_due_date_ever_falls_on_a_weekend_for_a_weekday_calendar():
    for start_offset in range(7):
        start = MONDAY + timedelta(days=start_offset)
        previous = start
        for day in range(0, 92):
            due = due_date(start, day)
            assert due.weekday() < 5 and due >= previous, (start, day, due)
            previous = due


def test_a_start_on_a_sunday_counts_from_monday():
    assert due_date(date(2026, 1, 4), 0) == MONDAY


def test_a_holiday_is_skipped_and_pushes_the_rest_by_one_working_day():
    holiday = date(2026, 1, 6)  # Epifanía, a Tuesday
    cal = WorkCalendar(holidays=(holiday,))
    assert due_date(MONDAY, 0, cal) == MONDAY
    assert due_date(MONDAY, 1, cal) == date(2026, 1, 7)  # not on the holiday: the next working day
    assert due_date(MONDAY, 4, cal) == date(2026, 1, 12)  # Friday's step moves past the weekend to Monday
    # a holiday on a Saturday changes nothing for a weekday calendar
    assert due_date(MONDAY, 7, WorkCalendar(holidays=(date(2026, 1, 10),))) == date(2026, 1, 12)
    # two holidays in a row, the second on a Friday
    cal = WorkCalendar(holidays=(date(2026, 1, 8), date(2026, 1, 9)))
    assert due_date(MONDAY, 3, cal) == date(2026, 1, 12) and due_date(MONDAY, 4, cal) == date(2026, 1, 13)


def test_a_team_that_works_weekends_keeps_them():
    cal = WorkCalendar(works_weekends=True)
    assert due_date(WEDNESDAY, 3, cal) == date(2026, 1, 10)  # Saturday stays Saturday
    assert due_date(WEDNESDAY, 4, cal) == date(2026, 1, 11)
    # holidays are still skipped, weekend ones included
    cal = WorkCalendar(works_weekends=True, holidays=(date(2026, 1, 10),))
    assert due_date(WEDNESDAY, 3, cal) == date(2026, 1, 11)


def test_progress_follows_the_organisation_calendar_and_the_team(session, content, agent, manager, team, make_user, make_team):
    """End to end: holidays an admin recorded and a team that works weekends change the agent's due dates."""
    track = services.find_track(session, "corto")  # semana-a: a-uno day 0, a-dos day 2, due day 4; semana-b opens day 7
    services.enroll(session, actor=manager, agent=agent, track=track, start_date=WEDNESDAY, now=NOW)
    weekender_team = make_team("Fin de semana")
    weekender_team.works_weekends = True
    weekender = make_user("agent", teams=[weekender_team])
    services.enroll(session, actor=make_user("admin"), agent=weekender, track=track, start_date=WEDNESDAY, now=NOW)
    calendar.add_holiday(session, date(2026, 1, 8), "Festivo local", now=NOW)  # Thursday
    session.flush()

    (mine,) = services.progress_for_user(session, agent, WEDNESDAY)
    dues = {s.lesson.slug: s.due_date for s in mine.lessons}
    # a-dos, day 2: Wednesday + 2 working days, Thursday a holiday → Monday
    assert dues["a-dos"] == date(2026, 1, 12)
    assert mine.modules[0].due_date == date(2026, 1, 14)  # day 4 → 4 working days after, skipping the holiday
    assert all(s.due_date.weekday() < 5 for s in mine.steps)

    (theirs,) = services.progress_for_user(session, weekender, WEDNESDAY)
    assert {s.lesson.slug: s.due_date for s in theirs.lessons}["a-dos"] == date(2026, 1, 10)  # Saturday, holiday skipped
    # the stored summaries read the same dates
    services.refresh_progress(session, [agent.id, weekender.id], now=NOW)
    summaries = services.progress_summaries(session, [agent.id])[agent.id]
    assert summaries[0].first_pending_due == WEDNESDAY and (date(2026, 1, 12) - WEDNESDAY).days in summaries[0].due_days


def test_the_calendar_read_with_another_statement_is_the_one_calendars_for_reads(session, agent, make_user, make_team):
    """calendar_columns() / calendar_of() (the progress move reads the calendar with its rows) give what calendars_for()
    gives: with and without holidays, for an agent of a team that works weekends and one who does not."""
    from sqlalchemy import bindparam, select

    weekender_team = make_team("Fin de semana")
    weekender_team.works_weekends = True
    weekender = make_user("agent", teams=[weekender_team])
    session.flush()
    statement = select(*calendar.calendar_columns(bindparam("b_user_id")))

    def read(user_id):
        row = session.execute(statement, {"b_user_id": user_id}).one()
        return calendar.calendar_of(row.works_weekends, row.holidays)

    for holidays in ((), (date(2026, 1, 8), date(2025, 12, 25), date(2026, 1, 6))):
        for day in holidays:
            calendar.add_holiday(session, day, f"Festivo {day}", now=NOW)
        session.flush()
        expected = calendar.calendars_for(session, [agent.id, weekender.id])
        assert read(agent.id) == expected[agent.id] and not expected[agent.id].works_weekends
        assert read(weekender.id) == expected[weekender.id] and expected[weekender.id].works_weekends
        assert expected[agent.id].holidays == tuple(sorted(holidays))
    # days that are not ISO dates (a PostgreSQL DateStyle other than ISO): no calendar, the caller reads it on its own
    assert calendar.calendar_of(False, "01/08/2026") is None


def test_admins_edit_the_holidays_and_due_dates_follow(client, auth, session, content, agent, manager, admin):
    services.enroll(session, actor=manager, agent=agent, track=services.find_track(session, "corto"), start_date=MONDAY, now=NOW)
    session.commit()
    auth.login_as(manager)
    assert client.get("/manage/calendar").status_code == 403
    client.post("/logout")
    auth.login_as(admin)
    page = client.get("/manage/calendar").get_data(as_text=True)
    assert "Ninguno: solo los fines de semana" in page
    response = client.post("/manage/calendar", data={"day-day": "2026-01-07", "day-name": "Fiesta local"})
    assert response.status_code == 302
    page = client.get("/manage/calendar").get_data(as_text=True)
    assert "Fiesta local" in page and "miércoles, 7 de enero de 2026" in page
    # a-dos (day 2) was due on Wednesday the 7th: now Thursday; the dashboards' summary moved with it
    (progress,) = services.progress_for_user(session, agent, MONDAY)
    assert {s.lesson.slug: s.due_date for s in progress.lessons}["a-dos"] == date(2026, 1, 8)
    (summary,) = services.progress_summaries(session, [agent.id])[agent.id]
    assert 3 in summary.due_days and 2 not in summary.due_days
    # the same day twice, a missing name, a bad date: a message, nothing added
    again = client.post("/manage/calendar", data={"day-day": "2026-01-07", "day-name": "Otra"}).get_data(as_text=True)
    assert "Ese día ya está en el calendario." in again
    assert "Escribe qué día festivo es." in client.post("/manage/calendar", data={"day-day": "2026-01-08", "day-name": ""}).get_data(as_text=True)
    assert client.post("/manage/calendar", data={"day-day": "mañana", "day-name": "X"}).status_code == 200
    assert len(calendar.holidays(session)) == 1
    (holiday,) = calendar.holidays(session)
    assert client.post(f"/manage/calendar/{holiday.id}/remove").status_code == 302
    assert calendar.holidays(session) == []


def test_a_team_set_to_work_weekends_moves_its_agents_due_dates(client, auth, session, content, agent, manager, admin, team):
    services.enroll(session, actor=manager, agent=agent, track=services.find_track(session, "corto"), start_date=WEDNESDAY, now=NOW)
    session.commit()
    (summary,) = services.progress_summaries(session, [agent.id])[agent.id]
    # from Wednesday the 7th: day 0, day 2 (Friday), day 4 (Tuesday: the weekend skipped), day 8 (Thursday the 15th)
    assert summary.due_days == [0, 2, 6, 8]
    auth.login_as(admin)
    assert client.post(f"/admin/teams/{team.id}/calendar",
                       data={"cal-time_zone": "America/Bogota", "cal-works_weekends": "y"}).status_code == 302
    session.refresh(team)
    assert team.works_weekends and team.time_zone == "America/Bogota"
    (progress,) = services.progress_for_user(session, agent, WEDNESDAY)
    assert progress.modules[0].due_date == date(2026, 1, 11)  # day 4: Sunday, worked
    (summary,) = services.progress_summaries(session, [agent.id])[agent.id]
    assert summary.end_date == progress.end_date and summary.due_days == [0, 2, 4, 8]  # the summary moved too
    page = client.post(f"/admin/teams/{team.id}/calendar", data={"cal-time_zone": "Nowhere/Town"}, follow_redirects=True)
    assert "«Nowhere/Town» no es una zona horaria conocida" in page.get_data(as_text=True)
    session.refresh(team)
    assert team.time_zone == "America/Bogota" and team.works_weekends


def test_the_agent_calendar_names_the_holidays(client, auth, session, content, agent, manager):
    services.enroll(session, actor=manager, agent=agent, track=services.find_track(session, "corto"), start_date=MONDAY, now=NOW)
    calendar.add_holiday(session, date(2026, 1, 6), "Epifanía del Señor", now=NOW)
    session.commit()
    auth.login_as(agent)
    page = client.get("/tracks/corto/calendar").get_data(as_text=True)
    assert "No laborable: Epifanía del Señor" in page
