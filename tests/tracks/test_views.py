import io
from datetime import timedelta

import pytest

from lms.core.clock import now_utc, today
from lms.tracks import services


@pytest.fixture
def enrolled(session, content, agent, manager):
    track = services.find_track(session, "corto")
    start = today() - timedelta(days=1)
    while start.weekday() >= 5:  # the last working day before today: its lesson is overdue whatever weekday today is
        start -= timedelta(days=1)
    services.enroll(session, actor=manager, agent=agent, track=track, start_date=start, now=now_utc())
    session.commit()


def test_agent_home_shows_overdue_and_next_lessons_with_progress(client, auth, agent, enrolled):
    auth.login_as(agent)
    page = client.get("/").get_data(as_text=True)
    assert "Tiempos de respuesta" in page and "Vencida" in page  # a-uno was due on the last working day
    assert "Resolución por niveles" in page  # a-dos, open
    assert "0%" in page


def test_agent_reads_and_completes_a_lesson(client, auth, agent, enrolled):
    auth.login_as(agent)
    page = client.get("/lessons/a-uno").get_data(as_text=True)
    assert "Recordar el tiempo de respuesta del chat." in page  # objectives
    assert "/reference/manual/estandares#respuesta-inicial" in page  # source link
    assert "Marcar como completada" in page
    response = client.post("/lessons/a-uno/complete")
    assert response.status_code == 302
    page = client.get("/lessons/a-uno").get_data(as_text=True)
    assert "Completada el" in page
    home = client.get("/").get_data(as_text=True)
    assert "33%" in home


def test_lesson_markdown_is_sanitized(client, auth, agent, enrolled, session):
    auth.login_as(agent)
    page = client.get("/lessons/b-uno").get_data(as_text=True)
    assert "<script>alert" not in page and "Practica con un compañero." in page


def test_house_rules_are_for_staff_only(client, auth, agent, trainer, enrolled):
    auth.login_as(agent)
    assert "criterio de la casa" not in client.get("/lessons/a-dos").get_data(as_text=True)
    client.post("/logout")
    auth.login_as(trainer)
    page = client.get("/lessons/a-dos").get_data(as_text=True)
    assert "criterio de la casa" in page and "contamos desde la creación del ticket" in page


def test_agent_cannot_open_lessons_of_tracks_they_are_not_in(client, auth, make_user, content, team):
    outsider = make_user("agent", teams=[team])
    auth.login_as(outsider)
    assert client.get("/lessons/a-uno").status_code == 404
    assert client.post("/lessons/a-uno/complete").status_code == 404


def test_calendar_shows_lessons_on_their_days(client, auth, agent, enrolled):
    auth.login_as(agent)
    page = client.get("/tracks/corto/calendar").get_data(as_text=True)
    assert "Tiempos de respuesta" in page and "Lunes" in page
    assert client.get("/tracks/largo/calendar").status_code == 404  # not enrolled there


def test_both_tracks_are_listed(client, auth, agent, content):
    auth.login_as(agent)
    page = client.get("/tracks").get_data(as_text=True)
    assert "Itinerario corto" in page and "Itinerario largo" in page


def test_manager_sees_team_progress_and_overdue(client, auth, manager, agent, enrolled):
    auth.login_as(manager)
    assert client.get("/").headers["Location"].endswith("/manage/teams")
    page = client.get("/manage/teams").get_data(as_text=True)
    assert "Lucía Agente" in page and "Vencida" in page
    page = client.get(f"/manage/agents/{agent.id}").get_data(as_text=True)
    assert "Tiempos de respuesta" in page


def test_agent_never_reaches_another_agents_record(client, auth, make_user, agent, team, enrolled):
    other = make_user("agent", teams=[team])
    auth.login_as(other)
    assert client.get(f"/manage/agents/{agent.id}").status_code == 403
    assert client.get("/manage/teams").status_code == 403


def test_manager_of_another_team_gets_404(client, auth, make_user, make_team, agent, enrolled):
    other_manager = make_user("manager", teams=[make_team("Sur")])
    auth.login_as(other_manager)
    assert client.get(f"/manage/agents/{agent.id}").status_code == 404
    team_id = [m.team_id for m in agent.memberships][0]
    assert client.get(f"/manage/teams/{team_id}").status_code == 404


def test_manager_enrolls_an_agent_with_a_form(client, auth, manager, agent, team, content, session):
    auth.login_as(manager)
    response = client.post(f"/manage/enroll?team={team.id}", data={
        "enroll-agent_id": agent.id, "enroll-track": "largo", "enroll-start_date": "2026-12-01",
    }, follow_redirects=True)
    assert "inscrito en «Itinerario largo» desde el 2026-12-01" in response.get_data(as_text=True)
    assert [e.track.slug for e in services.enrollments_of(session, agent)] == ["largo"]


def test_enroll_form_rejects_a_bad_date_clearly(client, auth, manager, agent, team, content, session):
    auth.login_as(manager)
    page = client.post(f"/manage/enroll?team={team.id}", data={
        "enroll-agent_id": agent.id, "enroll-track": "largo", "enroll-start_date": "01-12-2026x",
    }, follow_redirects=True).get_data(as_text=True)
    assert "AAAA-MM-DD" in page
    assert services.enrollments_of(session, agent) == []


def test_manager_cannot_enroll_an_agent_outside_their_teams(client, auth, manager, make_user, make_team, content, session):
    stranger = make_user("agent", teams=[make_team("Sur")])
    auth.login_as(manager)
    client.post("/manage/enroll", data={"enroll-agent_id": stranger.id, "enroll-track": "corto", "enroll-start_date": "2026-12-01"})
    assert services.enrollments_of(session, stranger) == []


def test_trainer_sees_progress_but_cannot_enroll(client, auth, trainer, agent, team, enrolled):
    auth.login_as(trainer)
    page = client.get(f"/manage/teams/{team.id}").get_data(as_text=True)
    assert "Lucía Agente" in page and "Inscribir a un agente" not in page
    assert client.post("/manage/enroll", data={}).status_code == 403


def test_manager_csv_enrollment(client, auth, manager, agent, content, session):
    auth.login_as(manager)
    csv = f"email,track,start_date\n{agent.email},corto,2026-12-01\nnadie@example.com,corto,2026-12-01\n".encode()
    page = client.post("/manage/enroll/import", data={"csv-file": (io.BytesIO(csv), "e.csv")}, content_type="multipart/form-data").get_data(as_text=True)
    assert "No se ha importado nada" in page and "nadie@example.com" in page
    assert services.enrollments_of(session, agent) == []


def test_unenroll_keeps_completions(client, auth, manager, agent, enrolled, session):
    lesson = services.get_lesson(session, "a-uno")
    services.complete_lesson(session, agent, lesson, now=now_utc())
    session.commit()
    (enrollment,) = services.enrollments_of(session, agent)
    auth.login_as(manager)
    client.post(f"/manage/enrollments/{enrollment.id}/delete")
    session.expire_all()
    assert services.enrollments_of(session, agent) == []
    assert services.completion_of(session, agent, lesson) is not None


def test_reference_page_renders_with_anchors(client, auth, agent, content):
    auth.login_as(agent)
    page = client.get("/reference/manual/estandares").get_data(as_text=True)
    assert 'id="respuesta-inicial"' in page and "Menos de 30 segundos" in page
    assert client.get("/reference/manual/nada").status_code == 404


def test_english_interface_when_the_browser_asks_for_it(client, auth, agent, content):
    page = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "Log in" in page


def test_trainer_sees_their_grading_backlog(client, auth, trainer, agent, enrolled, session):
    from lms.roleplays import services as roleplays

    practice = roleplays.start_practice(session, agent, roleplays.get_scenario(session, "chat-retraso"), now=now_utc())
    for text in ("Hola, Ana.", "Gracias."):
        roleplays.reply(session, practice, agent, thread="ana", text=text, now=now_utc())
    roleplays.submit(session, practice, agent, escalation=None, now=now_utc())
    session.commit()
    auth.login_as(trainer)
    page = client.get("/manage/teams").get_data(as_text=True)
    assert "Por corregir:" in page and "1 role-play" in page and "0 evaluaciones" in page
