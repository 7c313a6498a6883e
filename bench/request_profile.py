"""Load-robust figures of the quiz hot paths: SQL statements, CPU seconds and Python function calls per request.

Runs the LMS in-process (Flask test client, no server, no network) against a temporary SQLite file or the given
database, with agents each taking a 20-question quiz, and measures for every agent in turn
  * start   POST /quizzes/<slug>/start
  * attempt GET  /attempts/<id>          (the page of 20 questions, some answered)
  * reload  GET  /attempts/<id>          (the same page again)
  * save    POST /attempts/<id>/save     (auto-save of three answers)
  * submit  POST /attempts/<id>/submit
the statements issued (an engine listener), the CPU time of this process (``time.process_time``, which a busy
machine hardly changes, unlike wall-clock time) and, with --profile, the function calls counted by cProfile and
the top functions by cumulative time. CPU time includes the database only for SQLite (in-process).

    .venv/bin/python bench/request_profile.py [--database-url URL] [--agents 30] [--profile]
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SLUG = "evaluacion-semana-1"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def prepare(database_url: str, n_agents: int) -> None:
    from bench.quiz_submit import prepare as prepare_quiz

    prepare_quiz(database_url, n_agents, "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--agents", type=int, default=30)
    parser.add_argument("--profile", action="store_true", help="also count function calls and list the top functions")
    parser.add_argument("--statements", action="store_true", help="also list the statements of the last request of each kind")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="lms-profile-"))
    url = args.database_url or f"sqlite:///{workdir / 'profile.sqlite3'}"
    try:
        prepare(url, args.agents)
        return measure(url, args.agents, args.profile, args.statements)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def rss_mib() -> float:
    """This process's resident memory (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def right_answers(app, attempt_id: int) -> dict[str, list[str]]:
    """The form values of a right answer to every question (built outside the measured requests)."""
    from lms.core.db import get_db
    from lms.quizzes import services
    from lms.quizzes.simulate import answer_attempt

    with app.app_context():
        session = get_db(app).sessionmaker()
        try:
            return answer_attempt(services.get_attempt(session, attempt_id), 1.0)
        finally:
            session.close()


def measure(url: str, n_agents: int, profile: bool, show_statements: bool = False) -> int:
    from sqlalchemy import event

    from lms import create_app
    from lms.core.db import get_db

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-" + "k" * 40, "WTF_CSRF_ENABLED": False})
    engine = get_db(app).engine
    rss_at_start = rss_mib()
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cursor, statement, *a: statements.append(statement))
    figures: dict[str, list[tuple[int, float, int]]] = {k: [] for k in ("start", "attempt", "reload", "save", "submit")}
    last_statements: dict[str, list[str]] = {}
    profilers = {k: cProfile.Profile() for k in figures}

    def timed(name, call):
        statements.clear()
        profiler = profilers[name] if profile else None
        started = time.process_time()
        if profiler:
            profiler.enable()
        response = call()
        if profiler:
            profiler.disable()
        cpu = time.process_time() - started
        assert response.status_code in (200, 302, 303), (name, response.status_code, response.get_data(as_text=True)[:300])
        count = sum(1 for s in statements if not s.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")))
        figures[name].append((count, cpu, 0))
        last_statements[name] = list(statements)
        return response

    for n in range(n_agents):
        client = app.test_client()
        client.post("/login", data={"email": f"bench{n}@example.com", "password": "benchmark password"})
        response = timed("start", lambda: client.post(f"/quizzes/{SLUG}/start", data={}))
        path = response.headers["Location"]
        path = path[path.index("/attempts/"):]
        values = right_answers(app, int(path.rsplit("/", 1)[1]))
        first = {k: v for k, v in values.items() if k.split("-")[0] in ("q0", "q1", "q2")}
        timed("save", lambda: client.post(path + "/save", data=first))
        timed("attempt", lambda: client.get(path))
        timed("reload", lambda: client.get(path))  # the same page again (a reload, a tab re-opened)
        timed("submit", lambda: client.post(path + "/submit", data=values))

    compiled = engine._compiled_cache
    print(f"RSS after the run {rss_mib():.1f} MiB (after create_app {rss_at_start:.1f} MiB); "
          f"SQLAlchemy statement cache: {len(compiled) if compiled is not None else 0} entries")
    print(f"{n_agents} agents, 20-question attempts, {url.split('@')[-1].split('?')[0]}")
    print(f"{'request':10} {'statements':>10} {'CPU ms (median)':>16} {'CPU ms (mean)':>14} {'calls/request':>14}")
    for name, rows in figures.items():
        rows = rows[1:] or rows  # the first request of each kind warms caches (templates, statements)
        calls = ""
        if profile:
            stats = pstats.Stats(profilers[name])
            calls = f"{stats.total_calls // n_agents:14d}"
        print(f"{name:10} {max(r[0] for r in rows):10d} {statistics.median(r[1] for r in rows) * 1000:16.1f} "
              f"{statistics.mean(r[1] for r in rows) * 1000:14.1f} {calls}")
    if show_statements:
        for name, listed in last_statements.items():
            print(f"\n=== {name}: {len(listed)} statements ===")
            for statement in listed:
                print("  " + " ".join(statement.split())[:160])
    if profile:
        for name, profiler in profilers.items():
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(int(os.environ.get("PROFILE_TOP", "25")))
            print(f"\n=== {name}: top functions by cumulative time ===")
            print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:6000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
