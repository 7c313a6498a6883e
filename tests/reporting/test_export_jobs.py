"""Organisation exports: keyset batches give the same bytes as the export over the whole list of ids did, and a
scope past EXPORT_BACKGROUND_AGENTS is prepared by the worker — progress page, download by the requester (and
admins) only, CSRF on the request that starts it, the file deleted when it expires."""
from __future__ import annotations

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from lms.accounts import services as accounts
from lms.content import sync
from lms.core import outbox
from lms.core.clock import now_utc
from lms.demo.generate import Sizes, generate
from lms.reporting import exports, jobs, services
from lms.reporting.models import ExportJob
from tests.conftest import PROJECT


def _pass(app) -> tuple[int, int]:
    """One pass of the worker, as ``flask --app lms worker`` makes it (its own session and transaction)."""
    from lms.core.db import transaction

    with app.app_context(), transaction() as worker:
        return outbox.deliver_due(worker, {jobs.KIND: jobs.sender_factory({})}, now=now_utc())


def _old_progress(session, user, day, now, style) -> str:
    """The export as it was written before keyset batches: the list of every id by name, then their rows."""
    agents = accounts.users_by_ids(session, accounts.supervised_agent_ids(session, user))
    return "".join(services.csv_lines(services.dashboard(session, agents, day, now), style))


def _old_certifications(session, user, now, style) -> str:
    agents = accounts.users_by_ids(session, accounts.supervised_agent_ids(session, user))
    return services.certification_csv_header(style) + "".join(services.certification_lines(session, agents, now, style))


def test_keyset_batches_write_the_same_bytes_as_the_list_of_ids(session, admin, make_user, make_team):
    problems, _ = sync(session, PROJECT)
    assert not problems
    now = now_utc()
    generate(session, Sizes(agents=60, teams=6, attempts=600, submissions=80), now=now, seed=5, prefix="k")
    twins = make_team("Gemelos")  # the same name on both sides of a batch boundary: the id breaks the tie
    for _ in range(5):
        make_user("agent", name="Agente Lucía 1", teams=[twins])
    session.commit()
    day, team_ids = now.date(), accounts.supervised_team_ids(session, admin)
    for style in (exports.STANDARD, exports.excel_style(titles=exports.titles("progress"), labels={"overdue": "Vencida"},
                                                        zone=ZoneInfo("America/Bogota"))):
        old = _old_progress(session, admin, day, now, style)
        assert old.count("\n") == 66
        for batch in (1, 7, 500):
            assert "".join(services.csv_lines(services.streamed_rows(session, team_ids, day, now, batch=batch), style)) == old
        certificates = _old_certifications(session, admin, now, style)
        for batch in (3, 500):
            assert "".join(services.certification_csv_lines(session, team_ids, now, batch=batch, style=style)) == certificates


def test_a_large_export_is_prepared_by_the_worker_for_its_requester(app, client, auth, session, content, team, manager, admin,
                                                                   make_user, monkeypatch, tmp_path):
    for n in range(7):
        make_user("agent", name=f"Agente {n % 3}", teams=[team])
    other_manager = make_user("manager", teams=[team])
    session.commit()
    monkeypatch.setitem(app.config, "EXPORTS_FOLDER", str(tmp_path / "exports"))
    monkeypatch.setattr(services, "EXPORT_BATCH", 2)
    monkeypatch.setattr(jobs, "STEP", 4)
    auth.login_as(manager)
    streamed = client.get("/manage/dashboard/export.csv?format=excel").get_data()  # 7 agents: streamed at once
    assert streamed.startswith("\ufeff".encode()) and streamed.count(b"\n") == 8

    monkeypatch.setitem(app.config, "EXPORT_BACKGROUND_AGENTS", 5)
    offer = client.get("/manage/dashboard/export.csv?format=excel")
    page = offer.get_data(as_text=True)
    assert offer.status_code == 200 and "Preparar la exportación" in page and "7 agentes" in page
    workbook = client.get("/manage/dashboard/export.xlsx")  # built whole in memory: offered as the CSV for Excel
    assert workbook.status_code == 200 and workbook.mimetype == "text/html"
    assert 'name="format" value="excel"' in workbook.get_data(as_text=True) and "no se puede preparar por partes" in workbook.get_data(as_text=True)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/manage/dashboard/exports", data={"kind": "progress", "format": "excel"}).status_code == 400
    assert session.query(ExportJob).count() == 0
    page = client.get("/manage/dashboard/export.csv?format=excel").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = client.post("/manage/dashboard/exports", data={"kind": "progress", "format": "excel", "csrf_token": token})
    assert answer.status_code == 302 and "/manage/dashboard/exports/" in answer.headers["Location"]
    status_url = answer.headers["Location"]
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)  # the test's own log-ins below
    page = client.get(status_url).get_data(as_text=True)
    assert "En cola" in page and "0 de 7 agentes" in page
    download_url = status_url + "/download"
    assert client.get(download_url).status_code == 404  # nothing to download yet

    assert _pass(app) == (1, 0)  # the first step: the header and two batches of two agents
    page = client.get(status_url).get_data(as_text=True)
    assert "Preparando el archivo" in page and "4 de 7 agentes" in page
    for _ in range(3):
        _pass(app)
    session.expire_all()
    job = session.query(ExportJob).one()
    assert (job.status, job.processed, job.rows) == ("done", 7, 7)
    page = client.get(status_url).get_data(as_text=True)
    assert "La exportación está lista" in page and download_url in page
    download = client.get(download_url)
    assert download.status_code == 200 and download.get_data() == streamed  # the same bytes as the streamed export
    assert "filename=progreso-excel-organizacion.csv" in download.headers["Content-Disposition"]
    download.close()

    auth.logout()
    auth.login_as(other_manager)  # supervises the same team, did not ask for it
    assert client.get(status_url).status_code == 403 and client.get(download_url).status_code == 403
    auth.logout()
    auth.login_as(admin)
    download = client.get(download_url)
    assert download.get_data() == streamed
    download.close()

    with app.app_context():
        assert jobs.expire_due(session, now=now_utc() + timedelta(hours=1), where=jobs.folder()) == 0
        assert jobs.expire_due(session, now=now_utc() + timedelta(days=2), where=jobs.folder()) == 1
    session.commit()
    assert not (tmp_path / "exports" / job.file_name).exists()
    assert client.get(download_url).status_code == 404
    assert "ha caducado" in client.get(status_url).get_data(as_text=True)


def test_a_retried_step_writes_no_line_twice(app, session, content, team, manager, make_user, monkeypatch, tmp_path):
    """A step whose transaction failed after it appended to the file is run again from the committed size."""
    for n in range(5):
        make_user("agent", name=f"Agente {n}", teams=[team])
    monkeypatch.setitem(app.config, "EXPORTS_FOLDER", str(tmp_path))
    monkeypatch.setattr(services, "EXPORT_BATCH", 2)
    job = jobs.start(session, kind="certifications", fmt="standard", team_id=team.id, actor=manager, total=5, locale="es",
                     time_zone="UTC", now=now_utc())
    session.commit()
    with app.app_context():
        jobs.run_step(session, job.id, now=now_utc(), where=tmp_path, step=2)
        size = job.size
        session.commit()
        jobs.run_step(session, job.id, now=now_utc(), where=tmp_path, step=2)
        session.rollback()  # the second step's transaction is lost: its lines are in the file, not its cursor
        assert job.size == size and (tmp_path / job.file_name).stat().st_size == size
        while job.status == "running":
            jobs.run_step(session, job.id, now=now_utc(), where=tmp_path, step=2)
            session.commit()
    text = (tmp_path / job.file_name).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("agente,email,certificacion") and job.processed == 5
    written = (tmp_path / job.file_name).read_bytes().decode()
    assert written == "".join(services.certification_csv_lines(session, [team.id], now_utc()))


def test_a_file_lost_mid_way_is_written_again_from_the_start(app, session, content, team, manager, make_user, monkeypatch, tmp_path):
    for n in range(5):
        make_user("agent", name=f"Agente {n}", teams=[team])
    monkeypatch.setattr(services, "EXPORT_BATCH", 2)
    job = jobs.start(session, kind="progress", fmt="standard", team_id=team.id, actor=manager, total=5, locale="es",
                     time_zone="UTC", now=now_utc())
    with app.app_context():
        jobs.run_step(session, job.id, now=now_utc(), where=tmp_path, step=2)
        (tmp_path / job.file_name).unlink()
        while job.status in jobs.ACTIVE:
            jobs.run_step(session, job.id, now=now_utc(), where=tmp_path, step=2)
    now = now_utc()
    expected = "".join(services.csv_lines(services.streamed_rows(session, [team.id], now.date(), now)))
    assert (tmp_path / job.file_name).read_bytes().decode() == expected and (job.processed, job.rows) == (5, 5)


def test_a_scope_the_requester_does_not_supervise_is_refused(client, auth, session, content, manager, make_team):
    other = make_team("Ajeno")
    session.commit()
    auth.login_as(manager)
    assert client.post("/manage/dashboard/exports", data={"kind": "progress", "team": other.id}).status_code == 404
    answer = client.post("/manage/dashboard/exports", data={"kind": "nada"})
    assert answer.status_code == 302 and session.query(ExportJob).count() == 0
    assert "No se pudo preparar" in client.get(answer.headers["Location"]).get_data(as_text=True)


def test_the_worker_command_prepares_an_export_on_a_database_of_its_own(databases, tmp_path):
    """Real transactions (no shared test connection): the worker's step holds the write lock while its reader
    session reads the rows; on SQLite the reader must not wait for that lock."""
    from lms.core.db import get_db
    from tests.conftest import make_test_app

    app = make_test_app(databases.create("exportworker"), tmp_path, EXPORT_BACKGROUND_AGENTS=2)
    with app.app_context():
        with get_db(app).sessionmaker() as s:
            team = accounts.create_team(s, "Norte")
            manager = accounts.create_user(s, email="jefa@example.com", name="Jefa", role="manager", password="Una clave larga 2026")
            accounts.add_to_team(s, team, manager)
            for n in range(3):
                accounts.add_to_team(s, team, accounts.create_user(s, email=f"a{n}@example.com", name=f"Agente {n}", role="agent"))
            s.commit()
            manager_email = manager.email
    client = app.test_client()
    assert client.post("/login", data={"email": manager_email, "password": "Una clave larga 2026"}).status_code == 302
    assert "Preparar la exportación" in client.get("/manage/dashboard/certifications.csv").get_data(as_text=True)
    status_url = client.post("/manage/dashboard/exports", data={"kind": "progress"}).headers["Location"]
    with app.app_context():  # the worker runs on this app (not on the tests' shared one, whose context is pushed)
        result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0 and "sent 1, failed 0" in result.output, result.output
    assert "La exportación está lista" in client.get(status_url).get_data(as_text=True)
    download = client.get(status_url + "/download")
    lines = download.get_data().decode("utf-8-sig").splitlines()
    download.close()
    assert lines[0].startswith("agente,email") and [line.split(",")[0] for line in lines[1:]] == ["Agente 0", "Agente 1", "Agente 2"]
