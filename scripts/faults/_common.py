"""Shared parts of the fault scripts: a throw-away database with agents half-way through a quiz, the site
under gunicorn on 127.0.0.1, client threads submitting with idempotency keys, and the final check.

Everything runs on 127.0.0.1 only and is bounded in time; the database and the server are removed at the end.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import requests

PROJECT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT))
CONTENT = PROJECT / "tests" / "content"  # the small test courseware: quick to load
PASSWORD = "fault-drill-password-2026"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Database:
    """A fresh database: a SQLite file in a temp folder, or a new database on the local PostgreSQL."""

    def __init__(self, kind: str, server: str):
        self.kind = kind
        self.server = server
        self.tmp = Path(tempfile.mkdtemp(prefix="lms-fault-"))
        self.name = None
        if kind == "sqlite":
            self.url = f"sqlite:///{self.tmp / 'lms.sqlite3'}"
        else:
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            from lms.config import normalise_database_url

            server_url = normalise_database_url(server)
            if make_url(server_url).host not in ("127.0.0.1", "localhost"):
                raise SystemExit("the fault scripts only run against a local PostgreSQL (127.0.0.1)")
            self.name = f"lms_fault_{uuid.uuid4().hex[:8]}"
            admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            admin.dispose()
            self.url = make_url(server_url).set(database=self.name).render_as_string(hide_password=False)

    def drop(self) -> None:
        """Remove the database and the temp folder (gunicorn's log included; FAULT_KEEP=1 keeps the folder)."""
        if not os.environ.get("FAULT_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        if self.name is None:
            return
        from sqlalchemy import create_engine, text

        from lms.config import normalise_database_url

        for _ in range(20):
            try:
                admin = create_engine(normalise_database_url(self.server), isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
                admin.dispose()
                return
            except Exception:  # noqa: BLE001 - the server may still be restarting
                time.sleep(1)


@dataclass
class Plan:
    attempts: list  # [(email, attempt_id)]


def prepare(url: str, agents: int) -> Plan:
    """Migrate, load the courseware, create ``agents`` agents each with one open quiz attempt."""
    from lms import create_app
    from lms.accounts import services as accounts
    from lms.content import sync
    from lms.core.clock import now_utc
    from lms.core.db import Database as Db
    from lms.migrations import upgrade
    from lms.quizzes import services as quizzes
    from lms.tracks import services as tracks

    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x" * 40, "CONTENT_ROOT": str(CONTENT)})
    db = Db(url)
    attempts = []
    with app.app_context(), db.sessionmaker() as session:
        problems, _report = sync(session, CONTENT)
        assert not problems, problems
        admin = accounts.create_user(session, email="admin@example.com", name="Admin", role="admin")
        track, quiz = tracks.find_track(session, "corto"), quizzes.get_quiz(session, "evaluacion-a")
        for n in range(agents):
            agent = accounts.create_user(session, email=f"agente{n}-fault@example.com", name=f"Agente {n}", role="agent", password=PASSWORD)
            tracks.enroll(session, actor=admin, agent=agent, track=track, start_date=date.today(), now=now_utc())
            attempt = quizzes.start_attempt(session, agent, quiz, now=now_utc())
            session.flush()
            attempts.append((agent.email, attempt.id))
        session.commit()
    db.engine.dispose()
    return Plan(attempts)


class Server:
    """gunicorn with 2 sync workers on 127.0.0.1:port (its own process group)."""

    def __init__(self, url: str, port: int, tmp: Path):
        env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=secrets.token_hex(32), CONTENT_ROOT=str(CONTENT),
                   LMS_ENV="development")
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.log_path = tmp / "gunicorn.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [str(gunicorn), "--workers", "2", "--worker-class", "sync", "--bind", f"127.0.0.1:{port}", "--timeout", "30",
             "--graceful-timeout", "5", "lms:create_app()"],
            cwd=str(PROJECT), env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base + "/login", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.3)
        self.stop()
        raise SystemExit(f"gunicorn did not answer on {self.base} (see {self.log_path})")

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.log.close()


@dataclass
class Stats:
    acknowledged: dict = field(default_factory=dict)  # attempt_id -> key
    statuses: Counter = field(default_factory=Counter)
    connection_errors: int = 0
    retries: int = 0
    replays: int = 0
    failures: list = field(default_factory=list)
    #: set while a submission is on its way (the drill kills a worker then)
    submitting: threading.Event = field(default_factory=threading.Event)
    submit_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, what) -> None:
        with self.lock:
            self.statuses[what] += 1


def _csrf(html: str) -> str:
    match = CSRF.search(html)
    if not match:
        raise RuntimeError("no csrf_token in the page")
    return match.group(1) or match.group(2)


def client_run(base: str, work: list, stats: Stats, deadline: float, on_progress=None) -> None:
    """Sign in and submit each (email, attempt) with the key of its page; retry the same key on connection
    errors and 502/503 until acknowledged (302 to the review) or the deadline."""
    for email, attempt_id, values in work:
        http = requests.Session()
        key = None
        signed_in = done = False
        while not done and time.monotonic() < deadline:
            try:
                if not signed_in:
                    page = http.get(base + "/login", timeout=10)
                    stats.count(f"GET /login {page.status_code}")
                    if page.status_code != 200:
                        time.sleep(0.3)
                        continue
                    signin = http.post(base + "/login", data={"email": email, "password": PASSWORD, "csrf_token": _csrf(page.text)},
                                       allow_redirects=False, timeout=10)
                    stats.count(f"POST /login {signin.status_code}")
                    if signin.status_code != 302:
                        http.cookies.clear()
                        time.sleep(0.3)
                        continue
                    signed_in = True
                if key is None:  # the page renders the key once; every retry sends that same key
                    page = http.get(f"{base}/attempts/{attempt_id}", timeout=10)
                    stats.count(f"GET attempt {page.status_code}")
                    if page.status_code != 200:
                        time.sleep(0.3)
                        continue
                    found = KEY.search(page.text)
                    if found is None:  # not signed in after all (the sign-in's answer was lost): again
                        signed_in = False
                        stats.count(f"GET attempt without key ({page.url.rsplit('/', 1)[-1]}, {len(page.text)} chars)")
                        time.sleep(0.3)
                        continue
                    form = {"csrf_token": _csrf(page.text), "idempotency_key": found.group(1)}
                    form.update(values)
                    key = form["idempotency_key"]
                stats.submitting.set()
                try:
                    response = http.post(f"{base}/attempts/{attempt_id}/submit", data=form, allow_redirects=False, timeout=20)
                except requests.RequestException:
                    with stats.lock:
                        stats.submit_errors += 1
                    raise
                stats.count(f"POST submit {response.status_code}")
                if response.status_code == 302 and response.headers["Location"].endswith(f"/attempts/{attempt_id}/review"):
                    with stats.lock:
                        stats.acknowledged[attempt_id] = key
                        if response.headers.get("Idempotent-Replayed"):
                            stats.replays += 1
                    done = True
                    if on_progress:
                        on_progress()
                elif response.status_code in (502, 503, 504):
                    with stats.lock:
                        stats.retries += 1
                    time.sleep(0.5)
                else:
                    with stats.lock:
                        stats.failures.append((attempt_id, response.status_code, response.text[:200]))
                    done = True
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                with stats.lock:
                    stats.connection_errors += 1
                    stats.retries += 1
                time.sleep(0.3)
            except requests.RequestException:
                with stats.lock:
                    stats.retries += 1


def answers_for(url: str, attempt_ids: list[int]) -> dict[int, dict]:
    """The correct answers of each attempt, as a diligent agent would send them."""
    from lms.core.db import Database as Db
    from lms.quizzes import services as quizzes
    from lms.quizzes.simulate import answer_attempt

    db = Db(url)
    try:
        with db.sessionmaker() as session:
            return {a: answer_attempt(quizzes.get_attempt(session, a), 1.0) for a in attempt_ids}
    finally:
        db.engine.dispose()


def verify(url: str, stats: Stats) -> tuple[bool, list[str]]:
    """Every acknowledged submission present exactly once; nothing submitted twice; one key row per submission."""
    from sqlalchemy import func, select

    from lms.core.db import Database as Db
    from lms.core.idempotency import IdempotencyKey
    from lms.quizzes.models import AttemptEvent, QuizAttempt

    db = Db(url)
    lines, ok = [], True
    try:
        with db.sessionmaker() as session:
            submitted = Counter(dict(session.execute(
                select(AttemptEvent.attempt_id, func.count()).where(AttemptEvent.kind == "submitted").group_by(AttemptEvent.attempt_id)).all()))
            states = dict(session.execute(select(QuizAttempt.id, QuizAttempt.state)).all())
            keys = Counter(dict(session.execute(select(IdempotencyKey.key, func.count()).group_by(IdempotencyKey.key)).all()))
    finally:
        db.engine.dispose()
    lost = [a for a in stats.acknowledged if submitted.get(a, 0) == 0 or states.get(a) not in ("submitted", "graded")]
    duplicated = [a for a, n in submitted.items() if n > 1]
    key_dupes = [k for k, n in keys.items() if n > 1]
    missing_keys = [a for a, k in stats.acknowledged.items() if keys.get(k, 0) != 1]
    lines.append(f"acknowledged submissions: {len(stats.acknowledged)}; submitted in the database: {sum(1 for n in submitted.values() if n)}")
    lines.append(f"lost (acknowledged but absent): {len(lost)}; duplicated (submitted twice): {len(duplicated)}; "
                 f"key rows duplicated: {len(key_dupes)}; acknowledged without their key row: {len(missing_keys)}")
    lines.append(f"client retries: {stats.retries} (connection errors {stats.connection_errors}, of them during a submission "
                 f"{stats.submit_errors}); answers replayed from the idempotency key: {stats.replays}")
    lines.append("responses: " + ", ".join(f"{k}: {v}" for k, v in sorted(stats.statuses.items())))
    if stats.failures:
        lines.append(f"unexpected answers: {stats.failures[:5]}")
    ok = not lost and not duplicated and not key_dupes and not missing_keys and not stats.failures
    return ok, lines
