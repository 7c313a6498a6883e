"""The database unavailable, full or read-only: a clean 503 (never a 500), nothing half-written, reads go on,
and the site recovers by itself once the database is back."""
from __future__ import annotations

import sqlite3
import time

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from lms.core.db import get_db
from lms.core.errors import is_database_unavailable
from tests.conftest import DatabaseFactory, make_test_app
from tests.core.fault_setup import form_of, logged_in_client, quiz_setup

MESSAGE = "tus datos están a salvo"


def _sqlite_file(url: str) -> str:
    return url.removeprefix("sqlite:///")


def _state(path: str, attempt_id: int) -> tuple[str, int, int]:
    with sqlite3.connect(path) as conn:
        state = conn.execute("SELECT state FROM quiz_attempts WHERE id = ?", (attempt_id,)).fetchone()[0]
        events = conn.execute("SELECT count(*) FROM attempt_events WHERE attempt_id = ?", (attempt_id,)).fetchone()[0]
        keys = conn.execute("SELECT count(*) FROM idempotency_keys").fetchone()[0]
    return state, events, keys


def _state_of(url: str, attempt_id: int) -> tuple[str, int, int]:
    """(attempt state, its history rows, idempotency keys) read directly, on either database."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            state = conn.execute(text("SELECT state FROM quiz_attempts WHERE id = :a"), {"a": attempt_id}).scalar()
            events = conn.execute(text("SELECT count(*) FROM attempt_events WHERE attempt_id = :a"), {"a": attempt_id}).scalar()
            keys = conn.execute(text("SELECT count(*) FROM idempotency_keys")).scalar()
    finally:
        engine.dispose()
    return state, events, keys


def _read_only(url: str) -> str:
    """The same database, opened read-only: SQLite's ``mode=ro``; PostgreSQL sessions whose transactions are read-only."""
    if url.startswith("sqlite"):
        return f"sqlite:///file:{_sqlite_file(url)}?mode=ro&uri=true"
    return make_url(url).update_query_dict({"options": "-c default_transaction_read_only=on"}).render_as_string(hide_password=False)


@pytest.fixture
def sqlite_files(tmp_path_factory):
    """SQLite files whatever database the suite runs on: the embedded default's file behaviour (a full disk)
    is tested in both runs of the suite."""
    factory = DatabaseFactory(tmp_path_factory.mktemp("sqlite-files"))
    factory.server = None
    return factory


def test_read_only_database_answers_503_to_writes_and_keeps_serving_reads(databases, tmp_path):
    setup = quiz_setup(databases, tmp_path / "rw", "readonly")
    writer = logged_in_client(setup.app, setup.agent_emails[0])
    read_only = make_test_app(_read_only(setup.url), tmp_path)
    client = read_only.test_client()
    client.set_cookie("session", writer.get_cookie("session").value)
    attempt = setup.attempt_ids[0]

    page = client.get(f"/attempts/{attempt}")
    assert page.status_code == 200 and "Enviar el intento" in page.get_data(as_text=True)

    response = client.post(f"/attempts/{attempt}/submit", data=form_of(setup.values[0], "clave-ro-0001"))
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert MESSAGE in response.get_data(as_text=True)
    as_json = client.post(f"/attempts/{attempt}/save", data=setup.values[0], headers={"Accept": "application/json"})
    assert as_json.status_code == 503 and MESSAGE in as_json.get_json()["message"]
    assert client.get(f"/attempts/{attempt}").status_code == 200  # reads go on after the failed writes
    assert _state_of(setup.url, attempt) == ("in_progress", 1, 0)  # nothing was written
    get_db(read_only).engine.dispose()

    # the same key through the writable site: the submission happens once, as if the 503 never was
    done = writer.post(f"/attempts/{attempt}/submit", data=form_of(setup.values[0], "clave-ro-0001"))
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/attempts/{attempt}/review?submitted=1")
    get_db(setup.app).engine.dispose()


def _fill(path: str, pages: int, other_attempt: int) -> None:
    """Use up the last bytes of the history table at the page limit: rows of shrinking size until not even the
    smallest fits (they belong to another attempt)."""
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute(f"PRAGMA max_page_count={pages}")
        size = 4000
        while True:
            try:
                conn.execute("INSERT INTO attempt_events (attempt_id, actor_id, kind, at, data) VALUES (?, NULL, 'x', "
                             "'2026-01-01 00:00:00.000000', ?)", (other_attempt, '"' + "x" * size + '"'))
            except sqlite3.OperationalError as exc:
                assert "full" in str(exc)
                if size == 0:
                    return
                size //= 2


def test_disk_full_answers_503_writes_nothing_and_recovers_without_restart(sqlite_files, tmp_path):
    setup = quiz_setup(sqlite_files, tmp_path, "diskfull", agents=2)
    path = _sqlite_file(setup.url)
    disk = {"pages": 2_000_000}
    engine = get_db(setup.app).engine

    @event.listens_for(engine, "checkout")
    def _full_disk(dbapi_connection, _record, _proxy):
        dbapi_connection.execute(f"PRAGMA max_page_count={disk['pages']}")

    client = logged_in_client(setup.app, setup.agent_emails[0])  # sign in before the disk fills (it writes its audit row)
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute("VACUUM")  # no free page left
        disk["pages"] = conn.execute("PRAGMA page_count").fetchone()[0]
    _fill(path, disk["pages"], setup.attempt_ids[1])
    attempt = setup.attempt_ids[0]

    response = client.post(f"/attempts/{attempt}/submit", data=form_of(setup.values[0], "clave-full-0001"))
    assert response.status_code == 503, response.get_data(as_text=True)[:500]
    assert MESSAGE in response.get_data(as_text=True) and response.headers["Retry-After"]
    assert _state(path, attempt) == ("in_progress", 1, 0)  # neither the key, nor the state, nor an event
    assert client.get(f"/attempts/{attempt}").status_code == 200  # reads still work

    disk["pages"] = 2_000_000  # space freed: the same process, the same key, now it goes through
    retried = client.post(f"/attempts/{attempt}/submit", data=form_of(setup.values[0], "clave-full-0001"))
    assert retried.status_code == 302 and retried.headers["Location"].endswith(f"/attempts/{attempt}/review?submitted=1")
    state, events, keys = _state(path, attempt)
    assert state == "graded" and keys == 1
    engine.dispose()


def test_postgresql_away_answers_503_not_500_and_json_for_the_api(tmp_path, client, auth, agent):
    auth.login_as(agent)  # on the test database; the cookie then goes to a site whose database is away
    # nothing listens on this port (the helper's own range): every connection is refused
    app = make_test_app("postgresql://postgres@127.0.0.1:8149/lms_nowhere", tmp_path)
    anonymous = app.test_client()
    assert anonymous.get("/login").status_code == 200  # a page that needs no database still works
    response = anonymous.post("/login", data={"email": "a@example.com", "password": "x" * 12})
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert MESSAGE in response.get_data(as_text=True)
    signed_in = app.test_client()
    signed_in.set_cookie("session", client.get_cookie("session").value)
    home = signed_in.get("/")
    assert home.status_code == 503 and MESSAGE in home.get_data(as_text=True)
    api = anonymous.get("/api/v1/users", headers={"Authorization": "Bearer lms_whatever"})
    assert api.status_code == 503 and api.is_json
    assert api.get_json()["error"] == "service_unavailable" and MESSAGE in api.get_json()["message"]


def test_only_unavailability_is_a_503_a_real_bug_stays_a_500():
    from sqlalchemy.exc import OperationalError, ProgrammingError

    assert not is_database_unavailable(ProgrammingError("SELECT nope", {}, Exception("no such column: nope")))
    assert is_database_unavailable(OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full")))
    assert is_database_unavailable(OperationalError("BEGIN", {}, sqlite3.OperationalError("database is locked")))


@pytest.fixture
def postgresql_url(databases, tmp_path_factory):
    """A migrated PostgreSQL database: the suite's own server in its PostgreSQL run, otherwise the local one (CI runs
    PostgreSQL beside the SQLite run too)."""
    factory = databases
    if not factory.is_postgresql:
        factory = DatabaseFactory(tmp_path_factory.mktemp("pg"))
        factory.server = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        probe = create_engine(factory.server)
        try:
            probe.connect().close()
        except Exception as exc:  # (a machine with no PostgreSQL at all, as the embedded default allows; CI has one)
            pytest.skip(f"no PostgreSQL server at 127.0.0.1:5432 to test the pool's checkout against: {exc}")
        finally:
            probe.dispose()
    url = factory.create("dropped")
    yield url
    if factory is not databases:
        factory.drop_all()


def test_postgresql_connection_the_server_ended_is_replaced_before_a_request_uses_it(postgresql_url, tmp_path):
    app = make_test_app(postgresql_url, tmp_path)
    engine = get_db(app).engine
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    # the connection is idle in the pool; the server ends it (a restart or a failover does the same to every one)
    admin = create_engine(postgresql_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
        for _ in range(100):
            if not conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid}).scalar():
                break
            time.sleep(0.05)
    admin.dispose()
    # a request that reads the database: an unknown account's sign-in is the form again, not a 503
    response = app.test_client().post("/login", data={"email": "nadie@example.com", "password": "x" * 12})
    assert response.status_code == 200, response.status_code
    assert MESSAGE not in response.get_data(as_text=True)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    engine.dispose()


def test_postgresql_checkout_sends_nothing_to_the_server(postgresql_url, tmp_path, monkeypatch):
    """The liveness check of a pooled connection is a poll of its socket, not a statement (``pool_pre_ping``'s
    ``SELECT 1`` cost a round trip and the worker's CPU on every request)."""
    app = make_test_app(postgresql_url, tmp_path)
    engine = get_db(app).engine
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    sent = []
    import psycopg

    original = psycopg.Cursor.execute

    def counting(self, query, *args, **kwargs):  # (the driver's cursor: a ping bypasses SQLAlchemy's events)
        sent.append(query)
        return original(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counting)
    with engine.connect() as conn:
        conn.execute(text("SELECT 2"))
    monkeypatch.undo()
    assert [str(q) for q in sent] == ["SELECT 2"], sent
    engine.dispose()
