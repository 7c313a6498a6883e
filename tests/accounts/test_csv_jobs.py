"""A large CSV import runs as a background job: the upload answers at once with a page that shows the progress,
the worker checks the rows and hashes their passwords a chunk at a time, then writes everything in one
transaction — every row or none — and the page shows the result."""
from __future__ import annotations

import io

from lms.accounts import imports, services as accounts
from lms.accounts.models import CsvImportJob
from lms.core import outbox
from lms.core.clock import now_utc
from lms.core.security import verify_password


def _upload(client, text: str):
    return client.post("/admin/users/import", data={"file": (io.BytesIO(text.encode()), "usuarios.csv")},
                       content_type="multipart/form-data")


def _pass(app) -> tuple[int, int]:
    """One pass of the worker, as ``flask --app lms worker`` makes it (its own session and transaction)."""
    from lms.core.db import transaction

    with app.app_context(), transaction() as worker:
        return outbox.deliver_due(worker, {imports.KIND: imports.sender_factory({})}, now=now_utc())


def _rows(n: int, prefix: str, *, bad_last: bool = False) -> str:
    lines = ["email,name,role,team,password"]
    for i in range(n):
        password = "Una clave larga y rara 2026" if i % 3 == 0 else ""
        lines.append(f"{prefix}{i}@empresa.example.com,Persona {i},agent,Equipo lote,{password}")
    if bad_last:
        lines.append(f"{prefix}0@empresa.example.com,Repetida,agent,,")
    return "\n".join(lines) + "\n"


def test_a_big_import_runs_in_the_background_with_progress_and_a_result(app, client, auth, admin, session, monkeypatch):
    monkeypatch.setitem(app.config, "CSV_IMPORT_INLINE_ROWS", 5)
    monkeypatch.setattr(imports, "CHUNK", 5)
    session.commit()
    auth.login_as(admin)
    answer = _upload(client, _rows(12, "lote"))
    assert answer.status_code == 302 and "/admin/users/import/jobs/" in answer.headers["Location"]
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "En cola" in page and "0 de 12" in page
    assert accounts.find_user_by_email(session, "lote0@empresa.example.com") is None  # nothing written yet

    assert _pass(app) == (1, 0)
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "5 de 12" in page and "Comprobando" in page
    assert accounts.find_user_by_email(session, "lote0@empresa.example.com") is None  # still nothing

    for _ in range(5):
        _pass(app)
    session.expire_all()
    job = session.query(CsvImportJob).one()
    assert (job.status, job.imported, job.errors, job.text) == ("done", 12, [], "")
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "12 filas importadas" in page
    user = accounts.find_user_by_email(session, "lote0@empresa.example.com")
    assert user is not None and verify_password(user.password_hash, "Una clave larga y rara 2026")
    assert accounts.find_team_by_name(session, "Equipo lote") is not None


def test_a_background_import_is_all_or_nothing(app, client, auth, admin, session, monkeypatch):
    monkeypatch.setitem(app.config, "CSV_IMPORT_INLINE_ROWS", 5)
    monkeypatch.setattr(imports, "CHUNK", 50)
    session.commit()
    auth.login_as(admin)
    answer = _upload(client, _rows(9, "todo", bad_last=True))
    for _ in range(3):
        _pass(app)
    session.expire_all()
    job = session.query(CsvImportJob).one()
    assert job.status == "failed" and job.rolled_back and job.imported == 0
    assert job.errors[0][0] == 11 and "Correo repetido" in job.errors[0][1]
    assert accounts.find_user_by_email(session, "todo0@empresa.example.com") is None
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "No se ha importado nada" in page and "Correo repetido" in page
    assert job.locale == "es"


def test_the_worker_writes_the_row_errors_in_the_language_of_the_admin(app, client, auth, admin, session, monkeypatch):
    monkeypatch.setitem(app.config, "CSV_IMPORT_INLINE_ROWS", 5)
    admin.locale = "en"
    session.commit()
    auth.login_as(admin)
    _upload(client, _rows(9, "idioma", bad_last=True))
    for _ in range(3):
        _pass(app)
    session.expire_all()
    job = session.query(CsvImportJob).one()
    assert job.locale == "en" and job.errors[0][1] == "Duplicate email: already appears on line 2."


def test_a_small_import_still_answers_at_once(client, auth, admin, session):
    session.commit()
    auth.login_as(admin)
    page = _upload(client, _rows(3, "poco"))
    assert page.status_code == 200 and "3 filas importadas" in page.get_data(as_text=True)


def test_a_big_enrollment_import_is_a_job_too_for_the_manager_who_started_it(app, client, auth, manager, make_user, team,
                                                                             content, session, monkeypatch):
    monkeypatch.setitem(app.config, "CSV_IMPORT_INLINE_ROWS", 3)
    agents = [make_user("agent", teams=[team]) for _ in range(6)]
    session.commit()
    auth.login_as(manager)
    text = "email,track,start_date\n" + "".join(f"{a.email},corto,2026-01-05\n" for a in agents)
    answer = client.post("/manage/enroll/import", data={"csv-file": (io.BytesIO(text.encode()), "inscripciones.csv")},
                         content_type="multipart/form-data")
    assert answer.status_code == 302 and "/manage/enroll/import/jobs/" in answer.headers["Location"]
    assert "En cola" in client.get(answer.headers["Location"]).get_data(as_text=True)
    for _ in range(2):
        _pass(app)
    session.expire_all()
    job = session.query(CsvImportJob).one()
    assert (job.kind, job.status, job.imported) == ("enrollments", "done", 6)
    assert "6 filas importadas" in client.get(answer.headers["Location"]).get_data(as_text=True)
    other = make_user("manager", teams=[team])
    session.commit()
    auth.logout()
    auth.login_as(other)
    assert client.get(answer.headers["Location"]).status_code == 404  # another manager's import
