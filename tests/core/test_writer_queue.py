"""SQLite write transactions queue on a lock file, so a waiting writer gets in at the next gap
instead of sleeping through SQLite's growing busy-handler back-off (lms.core.db._WriterQueueConnection)."""
from __future__ import annotations

import datetime
import fcntl
import os
import threading
import time

import pytest
from sqlalchemy import text

from lms.core.db import make_engine, write_intent


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'queue.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    yield engine
    engine.dispose()


@pytest.fixture
def writing():
    token = write_intent.set(True)
    yield
    write_intent.reset(token)


def _lock_is_free(path: str) -> bool:
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_a_write_transaction_holds_the_queue_until_commit_or_rollback(engine, writing, tmp_path):
    lock = str(tmp_path / "queue.sqlite3-writers.lock")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert not _lock_is_free(lock)
    assert _lock_is_free(lock)
    conn = engine.connect()
    trans = conn.begin()
    conn.execute(text("INSERT INTO t VALUES (2)"))
    assert not _lock_is_free(lock)
    trans.rollback()
    assert _lock_is_free(lock)
    conn.close()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM t")).scalars().all() == [1]


def test_reads_do_not_queue(engine, tmp_path):
    lock = str(tmp_path / "queue.sqlite3-writers.lock")
    holder = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        with engine.connect() as conn:  # no write intent: a plain BEGIN, not held up by the queue
            assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 0
    finally:
        os.close(holder)


def test_a_waiting_writer_gets_in_as_soon_as_the_holder_commits(engine, writing):
    first = engine.connect()
    trans = first.begin()
    first.execute(text("INSERT INTO t VALUES (1)"))
    entered = threading.Event()
    waited = []

    def second_writer():
        write_intent.set(True)
        start = time.monotonic()
        with engine.begin() as conn:
            waited.append(time.monotonic() - start)
            entered.set()
            conn.execute(text("INSERT INTO t VALUES (2)"))

    thread = threading.Thread(target=second_writer)
    thread.start()
    assert not entered.wait(0.3)  # queued behind the open write transaction
    trans.commit()
    first.close()
    assert entered.wait(5)
    thread.join(5)
    assert waited[0] >= 0.3
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT n FROM t")).scalars()) == [1, 2]


def test_after_the_busy_timeout_sqlite_decides(engine, tmp_path):
    """A queue held too long (a stuck process) is given up on; SQLite's own lock still guards the write."""
    lock = str(tmp_path / "queue.sqlite3-writers.lock")
    holder = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            raw.queue_for_write(lock, 0.05)
            assert raw._writers_fd is None
    finally:
        os.close(holder)


def test_ending_the_reads_holds_no_lock_during_the_slow_work(engine, tmp_path):
    """begin_writes(end_reads=True) (a sign-in, before its password hash): on SQLite the write lock is taken by the
    first write after it, not at it, so sign-ins at once compute their hashes side by side."""
    from sqlalchemy.orm import Session

    from lms.core.db import begin_writes, reads_first

    lock = str(tmp_path / "queue.sqlite3-writers.lock")
    held = {}

    @reads_first
    def sign_in():
        session = Session(engine, expire_on_commit=False)
        try:
            assert session.execute(text("SELECT count(*) FROM t")).scalar() == 0
            begin_writes(session, end_reads=True)
            held["during the slow work"] = not _lock_is_free(lock) if os.path.exists(lock) else False
            session.execute(text("INSERT INTO t VALUES (7)"))
            held["at the first write"] = not _lock_is_free(lock)
            session.commit()
            held["after the commit"] = not _lock_is_free(lock)
        finally:
            session.close()

    token = write_intent.set(False)
    try:
        sign_in()
    finally:
        write_intent.reset(token)
    assert held == {"during the slow work": False, "at the first write": True, "after the commit": False}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM t")).scalars().all() == [7]


def _statements_of(app, call):
    """(verb, write intent) of every statement ``call()`` runs."""
    from sqlalchemy import event

    from lms.core import db

    seen = []
    engine = db.get_db(app).engine

    def record(conn, cursor, statement, *args):
        seen.append((statement.split()[0].upper(), db.write_intent.get()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = call()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return response, seen


def test_a_reads_first_view_takes_the_write_lock_only_for_its_writes(app, client, auth, session, content, make_user):
    """Starting a quiz (a reads_first view): the rules and the draw are read in a plain transaction, the inserts
    in the write one; no statement before begin_writes() runs in a write transaction."""
    from lms.quizzes.models import QuizAttempt
    from lms.tracks import services as tracks

    agent = make_user("agent")
    tracks.enroll(session, actor=make_user("admin"), agent=agent, track=tracks.find_track(session, "corto"),
                  start_date=datetime.date(2026, 1, 5), now=datetime.datetime(2026, 1, 5, tzinfo=datetime.timezone.utc))
    session.commit()
    auth.login_as(agent)
    response, seen = _statements_of(app, lambda: client.post("/quizzes/evaluacion-a/start"))
    assert response.status_code == 302 and "/attempts/" in response.headers["Location"]
    first_write = next(i for i, (verb, _) in enumerate(seen) if verb in ("INSERT", "UPDATE", "DELETE"))
    assert any(verb == "SELECT" and not intent for verb, intent in seen[:first_write])  # the reads: no write lock
    assert all(intent for _, intent in seen[first_write:])  # the writes: after begin_writes()
    session.expire_all()
    assert session.query(QuizAttempt).filter_by(user_id=agent.id).count() == 1


def test_begin_writes_outside_a_reads_first_view_changes_nothing(session):
    from lms.core import db

    session.execute(text("SELECT 1"))
    assert session.in_transaction()
    db.begin_writes(session)  # a command or a test: its transaction is left alone
    assert session.in_transaction()


def test_saving_and_submitting_read_first(app, client, auth, session, content, make_user):
    """Answer saves and submissions read the attempt, its questions and the answers before the write lock:
    every write (the idempotency key's claim included) comes after begin_writes(), and the outcome is whole."""
    from lms.core.idempotency import IdempotencyKey
    from lms.quizzes import services as quizzes
    from lms.quizzes.models import QuizAttempt
    from lms.quizzes.simulate import answer_attempt
    from lms.tracks import services as tracks

    agent = make_user("agent")
    tracks.enroll(session, actor=make_user("admin"), agent=agent, track=tracks.find_track(session, "corto"),
                  start_date=datetime.date(2026, 1, 5), now=datetime.datetime(2026, 1, 5, tzinfo=datetime.timezone.utc))
    attempt = quizzes.start_attempt(session, agent, quizzes.get_quiz(session, "evaluacion-a"), now=datetime.datetime.now(datetime.timezone.utc))
    import random

    values = answer_attempt(attempt, 1.0, random.Random(1))  # nosec B311
    session.commit()
    auth.login_as(agent)
    for path, data in ((f"/attempts/{attempt.id}/save", values), (f"/attempts/{attempt.id}/submit", dict(values, idempotency_key="clave-lectura-1"))):
        response, seen = _statements_of(app, lambda: client.post(path, data=data))
        assert response.status_code == 302, (path, response.status_code)
        first_write = next(i for i, (verb, _) in enumerate(seen) if verb in ("INSERT", "UPDATE", "DELETE"))
        # the user, the attempt with its quiz, its slots (on PostgreSQL the attempt, its quiz and its slots come with the
        # user, in one statement: lms.accounts.services.read_with_session_user)
        reads = 1 if session.connection().dialect.name == "postgresql" else 3
        assert sum(verb == "SELECT" and not intent for verb, intent in seen[:first_write]) >= reads, (path, seen)
        assert all(intent for _, intent in seen[first_write:]), (path, seen)
    session.expire_all()
    assert session.get(QuizAttempt, attempt.id).state == "graded"
    assert session.query(IdempotencyKey).filter_by(key="clave-lectura-1").one().status == 302
