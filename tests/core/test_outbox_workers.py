"""Two workers (two threads, two sessions, a real database) delivering the same pending messages: every message
is sent exactly once. PostgreSQL: each worker claims rows FOR UPDATE SKIP LOCKED, so they share the work;
SQLite: the worker's transaction takes the write lock at BEGIN (BEGIN IMMEDIATE), so they take turns."""
from __future__ import annotations

import threading
import time
from collections import Counter

from sqlalchemy import func, select

from lms.core import outbox
from lms.core.clock import now_utc
from lms.core.db import Database, write_intent
from tests.concurrency import run_at_once

MESSAGES = 240


def test_two_workers_send_every_message_exactly_once(databases, tmp_path):
    from tests.conftest import make_test_app

    url = databases.create("outbox_workers")
    app = make_test_app(url, tmp_path)
    db = Database(url)
    with app.app_context():
        with db.sessionmaker() as session:
            for n in range(MESSAGES):
                outbox.enqueue(session, kind="email", dedupe_key=f"workers:{n}", payload={"n": n}, now=now_utc())
            session.commit()

        sent: list[int] = []
        by_worker: Counter = Counter()
        lock = threading.Lock()

        def worker(i: int) -> str:
            name = "ab"[i]

            def send(payload: dict) -> None:
                time.sleep(0.002)  # a slow receiver widens the window in which the other worker could take the same row
                with lock:
                    sent.append(payload["n"])
                    by_worker[name] += 1

            token = write_intent.set(True)  # as flask --app lms worker runs it (lms.core.db.transaction)
            try:
                idle = 0
                while idle < 2:
                    with db.sessionmaker() as session:
                        try:
                            done, failed = outbox.deliver_due(session, {"email": send}, now=now_utc())
                            session.commit()
                        except Exception:
                            session.rollback()
                            raise
                    idle = idle + 1 if done + failed == 0 else 0
                return "ok"
            finally:
                write_intent.reset(token)

        outcomes = run_at_once(worker, 2, timeout=60)
        assert outcomes == ["ok", "ok"], outcomes
        duplicates = [n for n, times in Counter(sent).items() if times > 1]
        assert not duplicates, f"sent more than once: {duplicates[:10]}"
        assert sorted(sent) == list(range(MESSAGES))
        with db.sessionmaker() as session:
            assert session.scalar(select(func.count()).select_from(outbox.OutboxMessage)
                                  .where(outbox.OutboxMessage.status == "sent", outbox.OutboxMessage.attempts == 1)) == MESSAGES
        if db.engine.dialect.name == "postgresql":
            assert by_worker["a"] > 0 and by_worker["b"] > 0, by_worker  # SKIP LOCKED: they worked side by side
    db.engine.dispose()
    from lms.core.db import get_db

    get_db(app).engine.dispose()
