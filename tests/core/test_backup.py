"""``flask db backup`` / ``flask db restore``: rows written, backed up, changed, restored (SQLite and PostgreSQL)."""
from __future__ import annotations

import sqlite3
import threading

from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.core.backup import backup
from lms.core.db import Database, get_db
from tests.conftest import make_test_app


def _names(url: str) -> dict[str, str]:
    db = Database(url)
    try:
        with db.sessionmaker() as session:
            return {u.email: u.name for u in session.scalars(select(User))}
    finally:
        db.engine.dispose()


def test_backup_then_restore_brings_the_rows_back(databases, tmp_path):
    url = databases.create("backup")
    app = make_test_app(url, tmp_path)
    db = Database(url)
    with app.app_context(), db.sessionmaker() as session:
        for n in range(3):
            accounts.create_user(session, email=f"persona{n}@example.com", name=f"Persona {n}", role="agent")
        session.commit()
    before = _names(url)
    runner = app.test_cli_runner()

    def run(*args):  # in this app's context (pytest-flask keeps the suite's app pushed)
        with app.app_context():
            return runner.invoke(args=list(args))

    archive = tmp_path / "copia" / "lms.backup"
    result = run("db", "backup", str(archive))
    assert result.exit_code == 0, result.output
    assert archive.is_file() and "backup written" in result.output

    with app.app_context(), db.sessionmaker() as session:  # the disaster: a row changed, one deleted, one added
        users = {u.email: u for u in session.scalars(select(User))}
        users["persona0@example.com"].name = "Cambiado"
        session.delete(users["persona1@example.com"])
        accounts.create_user(session, email="nuevo@example.com", name="Nuevo", role="agent")
        session.commit()
    db.engine.dispose()
    get_db(app).engine.dispose()
    assert _names(url) != before

    refused = run("db", "restore", str(archive))
    assert refused.exit_code != 0 and "--yes" in refused.output, refused.output  # a database with rows needs the confirmation
    result = run("db", "restore", str(archive), "--yes")
    assert result.exit_code == 0, result.output
    get_db(app).engine.dispose()
    assert _names(url) == before

    # into an empty (migrated, unused) database no confirmation is needed
    empty = databases.create("restored")
    other = make_test_app(empty, tmp_path)
    with other.app_context():
        result = other.test_cli_runner().invoke(args=["db", "restore", str(archive)])
    assert result.exit_code == 0, result.output
    get_db(other).engine.dispose()
    assert _names(empty) == before


def test_sqlite_backup_taken_while_another_thread_writes_is_consistent(databases, tmp_path):
    if databases.is_postgresql:
        return  # pg_dump's snapshot is PostgreSQL's business; the SQLite copy is ours
    url = databases.create("hotbackup")
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE pairs (id INTEGER PRIMARY KEY, half INTEGER)")
    stop = threading.Event()
    written = {"n": 0}

    def writer():
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        while not stop.is_set():
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO pairs (half) VALUES (1)")
            conn.execute("INSERT INTO pairs (half) VALUES (2)")  # a transaction of two rows: a copy holds both or none
            conn.execute("COMMIT")
            written["n"] += 1
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        copies = [backup(url, tmp_path / f"hot-{n}.sqlite3") for n in range(3)]
    finally:
        stop.set()
        thread.join(timeout=30)
    assert written["n"] > 0
    for copy in copies:
        with sqlite3.connect(copy) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            ones, twos = conn.execute("SELECT sum(half = 1), sum(half = 2) FROM pairs").fetchone()
            assert ones == twos  # never half a transaction
            assert conn.execute("SELECT count(*) FROM users").fetchone() is not None  # the whole schema came along
