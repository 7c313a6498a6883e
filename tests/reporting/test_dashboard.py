from datetime import date, datetime, timezone

from lms.quizzes import services as quizzes
from lms.reporting import services
from lms.tracks import services as tracks
from tests.quizzes.helpers import answer_all_correctly

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)


def test_dashboard_rows_sorting_and_the_csv_export(client, auth, session, content, team, manager, trainer, make_user):
    names = ['=HYPERLINK("http://evil")', "Bea", "Carlos"]
    agents = [make_user("agent", name=n, teams=[team]) for n in names]
    for agent in agents[:2]:
        tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 1, 5), now=T0)
    attempt = quizzes.start_attempt(session, agents[1], quizzes.get_quiz(session, "evaluacion-a"), now=T0)
    quizzes.submit_attempt(session, attempt, agents[1], answer_all_correctly(attempt), now=T0)
    session.commit()
    rows = {r.agent.name: r for r in services.dashboard(session, agents, date(2026, 1, 9), T0)}
    assert rows["Bea"].quiz_average == 100 and rows["Carlos"].state == "not_enrolled" and rows["Carlos"].percent is None
    auth.login_as(trainer)
    page = client.get(f"/manage/dashboard/?team={team.id}&sort=quiz").get_data(as_text=True)
    assert page.index("Bea") < page.index("Carlos") and "Exportar CSV" not in page
    assert client.get(f"/manage/dashboard/export.csv?team={team.id}").status_code == 403
    client.post("/logout")
    auth.login_as(manager)
    response = client.get(f"/manage/dashboard/export.csv?team={team.id}")
    text = response.get_data(as_text=True)
    assert response.mimetype == "text/csv" and text.startswith("\ufeffagente,email,itinerario")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text  # formulas neutralised
    assert len(text.strip().splitlines()) == 4


def test_dashboard_of_another_team_is_not_found(client, auth, make_user, make_team, content):
    auth.login_as(make_user("manager", teams=[make_team("Sur")]))
    other = make_team("Norte")
    assert client.get(f"/manage/dashboard/?team={other.id}").status_code == 404
    assert client.get(f"/manage/dashboard/export.csv?team={other.id}").status_code == 404


def test_neutralise():
    assert services.neutralise("=1+1") == "'=1+1" and services.neutralise("-5") == "'-5" and services.neutralise("Ana") == "Ana"


def test_charts_from_real_progress(client, auth, session, content, team, manager, make_user):
    agents = [make_user("agent", teams=[team]) for _ in range(3)]
    for agent in agents[:2]:
        tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "largo"), start_date=date(2026, 1, 5), now=T0)
    for slug in ("a-uno", "a-dos"):
        tracks.complete_lesson(session, agents[0], tracks.get_lesson(session, slug), now=T0)
    attempt = quizzes.start_attempt(session, agents[0], quizzes.get_quiz(session, "evaluacion-a"), now=T0)
    quizzes.submit_attempt(session, attempt, agents[0], answer_all_correctly(attempt), now=T0)
    session.commit()
    charts = {c.title: c for c in services.team_charts(session, agents, date(2026, 1, 20), T0)}
    funnel = dict(charts["Embudo de certificación"].rows)
    assert funnel == {"Inscritos": "2", "Semana 1": "1", "Semana 4": "0", "Certificados": "0"}
    assert dict(charts["Notas de las evaluaciones"].rows)["80-100"] == "1"
    burnup = charts["Avance del grupo frente a lo previsto (%)"]
    assert "<polyline" in burnup.svg and "Completado" in dict(burnup.rows)
    auth.login_as(manager)
    page = client.get(f"/manage/dashboard/?team={team.id}").get_data(as_text=True)
    assert page.count('<svg class="chart"') == 3 and "Ver los datos" in page


def test_agent_timeline_lists_everything_newest_first(client, auth, session, content, team, manager, admin, agent):
    from datetime import timedelta

    from lms.certification import services as certs

    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 1, 5), now=T0)
    tracks.complete_lesson(session, agent, tracks.get_lesson(session, "a-uno"), now=T0)
    attempt = quizzes.start_attempt(session, agent, quizzes.get_quiz(session, "evaluacion-a"), now=T0 + timedelta(hours=1))
    quizzes.submit_attempt(session, attempt, agent, answer_all_correctly(attempt), now=T0 + timedelta(hours=1))
    certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Prueba", now=T0 + timedelta(hours=2))
    session.commit()
    entries = services.agent_timeline(session, agent, T0 + timedelta(hours=3))
    assert [e.kind for e in entries] == ["certificate", "quiz", "lesson"]
    auth.login_as(manager)
    page = client.get(f"/manage/dashboard/agents/{agent.id}").get_data(as_text=True)
    assert "Tiempos de respuesta" in page and "Certificación de proceso" in page and "100%" in page


def test_xlsx_export_is_a_workbook_without_formulas(client, auth, session, content, team, manager, make_user):
    import io

    from openpyxl import load_workbook

    make_user("agent", name="=SUM(A1:A9)", teams=[team])
    session.commit()
    auth.login_as(manager)
    response = client.get(f"/manage/dashboard/export.xlsx?team={team.id}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "agente" and rows[1][0] == "'=SUM(A1:A9)"


def test_certification_records_export(client, auth, session, content, team, manager, admin, agent, make_user, make_team):
    from lms.certification import services as certs

    stranger = make_user("agent", teams=[make_team("Sur")])
    for person in (agent, stranger):
        certs.issue_manually(session, certs.get_definition(session, "proceso"), person, actor=admin, reason="Prueba", now=T0)
    session.commit()
    auth.login_as(manager)
    text = client.get("/manage/dashboard/certifications.csv").get_data(as_text=True)
    lines = text.strip().splitlines()
    assert lines[0].endswith("agente,email,certificacion,version,estado,emitida,caduca,codigo_verificacion")
    assert len(lines) == 2 and agent.email in lines[1] and stranger.email not in text  # only the manager's teams


def test_exports_run_a_batch_of_agents_at_a_time(session, content, team, manager, admin, make_user):
    """The organisation-wide export never holds more than one batch of agents: same rows as the dashboard,
    in name order, the session emptied between batches."""
    from lms.accounts import services as accounts
    from lms.certification import services as certs

    agents = [make_user("agent", name=f"Agente {n}", teams=[team]) for n in range(7)]
    for agent in agents[::2]:
        tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 1, 5), now=T0)
    for agent in agents[:3]:
        certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Prueba", now=T0)
    session.commit()
    ids = accounts.supervised_agent_ids(session, manager)
    assert ids == [a.id for a in sorted(agents, key=lambda a: a.name)]
    team_ids = accounts.supervised_team_ids(session, manager)
    expected = [(r.agent.id, r.percent, r.state, r.certifications) for r in services.dashboard(session, agents, date(2026, 1, 9), T0)]
    def stream(batch):
        held, streamed = [], []
        for row in services.streamed_rows(session, team_ids, date(2026, 1, 9), T0, batch=batch):
            held.append(len(session.identity_map))
            streamed.append((row.agent.id, row.percent, row.state, row.certifications))
        return held, streamed

    held, streamed = stream(2)
    assert sorted(streamed) == sorted(expected) and [s[0] for s in streamed] == ids
    held_all, _ = stream(len(ids))
    assert max(held) == 2 and max(held_all) == 7, (held, held_all)  # objects held: a batch's, not everyone's
    lines = list(services.certification_csv_lines(session, team_ids, T0, batch=2))
    assert len(lines) == 1 + 3 and [line.split(",")[0] for line in lines[1:]] == ["Agente 0", "Agente 1", "Agente 2"]


def test_the_organisation_table_of_teams_is_paged(client, auth, content, admin, make_user, make_team, monkeypatch):
    """An admin of many teams sees their table a page at a time; every team stays in the team filter."""
    from lms.reporting import views

    teams = [make_team(f"Equipo {letter}") for letter in "CAB"]
    for t in teams:
        make_user("agent", teams=[t])
    monkeypatch.setattr(views, "PAGE_SIZE", 1)  # the organisation-wide, paginated view
    monkeypatch.setattr(views, "TEAM_PAGE_SIZE", 2)
    auth.login_as(admin)
    by_name = sorted(teams, key=lambda t: t.name)

    def table_links(page: str) -> list[int]:
        return [t.id for t in by_name if f'?team={t.id}">{t.name}</a>' in page]

    first = client.get("/manage/dashboard/").get_data(as_text=True)
    assert table_links(first) == [by_name[0].id, by_name[1].id]
    assert all(f'<option value="{t.id}"' in first for t in teams)
    assert "Equipos 1–2 de 3" in first and "teams_page=2" in first and "Equipos anteriores" not in first
    second = client.get("/manage/dashboard/?teams_page=2&page=2").get_data(as_text=True)
    assert table_links(second) == [by_name[2].id]
    assert "Equipos 3–3 de 3" in second and "teams_page=1" in second and "Equipos siguientes" not in second
    assert "teams_page=2" in second.split("Página 2 de")[1]  # paging the agents keeps the page of teams
    # out of range: the last page
    assert table_links(client.get("/manage/dashboard/?teams_page=99").get_data(as_text=True)) == [by_name[2].id]


def test_supervised_teams_are_the_supervised_team_ids_with_their_names(session, make_user, make_team, content):
    """The dashboard reads the teams a user supervises with their names in one query: the same teams as
    supervised_team_ids for every role, by name."""
    from lms.accounts import services as accounts

    sur, norte, este = make_team("Sur"), make_team("Norte"), make_team("Este")
    people = [make_user("manager", teams=[sur, norte]), make_user("trainer", teams=[este]), make_user("admin"),
              make_user("agent", teams=[sur]), make_user("manager")]
    for user in people:
        teams = accounts.supervised_teams(session, user)
        assert sorted(t.id for t in teams) == sorted(accounts.supervised_team_ids(session, user)), user.role
        assert [t.name for t in teams] == sorted(t.name for t in teams)
    assert [t.name for t in accounts.supervised_teams(session, people[0])] == ["Norte", "Sur"]
    assert accounts.supervised_teams(session, people[3]) == [] and accounts.supervised_teams(session, people[4]) == []


def test_active_certificates_read_with_the_agents_count_as_active_counts(session, make_user, team, admin, content):
    """The agents' count of active certificates read in the same statement as their names (the dashboard's pages)
    is certification.active_counts' figure: expired and revoked records do not count."""
    from datetime import timedelta

    from sqlalchemy import select

    from lms.accounts.models import User
    from lms.certification import services as certs

    definition = certs.get_definition(session, "proceso")
    agents = [make_user("agent", name=f"Agente {n}", teams=[team]) for n in range(3)]
    kept = certs.issue_manually(session, definition, agents[0], actor=admin, reason="Prueba", now=T0)
    certs.issue_manually(session, definition, agents[1], actor=admin, reason="Prueba", now=T0 - timedelta(days=3 * 365))  # expired by now
    session.commit()
    now = T0 + timedelta(days=1)
    expected = certs.active_counts(session, [a.id for a in agents], now)
    assert expected == {agents[0].id: 1} and kept.status == "active"
    by_name = select(User.id, User.name).where(User.id.in_([a.id for a in agents])).order_by(User.name, User.id)
    page = services.agents_page(session, by_name, now, 10, 0)
    assert [r.name for r in page] == ["Agente 0", "Agente 1", "Agente 2"]
    assert services.active_counts(session, page, now) == expected
    assert services.active_counts(session, services.agents_page(session, by_name, now, 1, 1), now) == {}
    rows = {r.agent.id: r.certifications for r in services.dashboard(session, page, now.date(), now)}
    assert rows == {a.id: expected.get(a.id, 0) for a in agents}
