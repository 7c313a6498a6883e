"""Benchmark: quiz submission under concurrent load, against the floor of the same server.

Starts the floor app and the LMS under gunicorn (2 sync workers) on 127.0.0.1,
prepares agents with a 20-question attempt in progress each (authenticated, with
their CSRF token), then, for the same number of concurrent clients, measures
  * floor: POST /insert (one durable row)
  * LMS:   POST /attempts/<id>/submit (answers saved, graded, audit rows, one transaction)
and prints requests/s, p50 and p95 latency for both and the ratios.

    .venv/bin/python bench/quiz_submit.py [--database-url URL] [--clients 8] [--requests 400]

Figures vary ±25% between runs on shared machines: compare the ratios, not the absolute numbers.
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start")


def gunicorn(app: str, port: int, env: dict) -> subprocess.Popen:
    exe = str(Path(sys.executable).parent / "gunicorn")
    return subprocess.Popen([exe, "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning", app],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def prepare(database_url: str, n_agents: int, instance: str) -> None:
    """Migrate, load the content, create agents, and a 20-question quiz."""
    from lms import create_app
    from lms.accounts import services as accounts
    from lms.content import sync
    from lms.core.clock import now_utc
    from lms.core.db import get_db
    from lms.core.security import hash_password
    from lms.migrations import upgrade
    from lms.quizzes import services as quizzes
    from lms.tracks import services as tracks

    upgrade(database_url)
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench-" + "k" * 40})
    with app.app_context():
        session = get_db(app).sessionmaker()
        problems, _ = sync(session, ROOT)
        assert not problems
        admin = accounts.create_user(session, email="bench-admin@example.com", name="Admin", role="admin")
        quiz = quizzes.get_quiz(session, "evaluacion-semana-1")
        quiz.settings = dict(quiz.settings, draw=[{"bank": "fundamentos-procesos-y-canales", "count": 20, "tags": []}],
                             attempts_allowed=None, delay_between_attempts_minutes=None, time_limit_minutes=None)
        track = tracks.find_track(session, "onboarding-4-semanas")
        hashed = hash_password("benchmark password")
        for n in range(n_agents):
            agent = accounts.create_user(session, email=f"bench{n}@example.com", name=f"Agente {n}", role="agent")
            agent.password_hash = hashed
            tracks.enroll(session, actor=admin, agent=agent, track=track, start_date=date.today() - timedelta(days=3), now=now_utc())
        session.commit()
        session.close()
        get_db(app).engine.dispose()


class Client:
    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), "Accept-Language": "es"}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return response.status, dict(response.getheaders()), text


CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def login_and_start(port: int, n: int) -> tuple[Client, str, str]:
    client = Client(port)
    _, _, page = client.request("GET", "/login")
    token = CSRF.search(page).group(1)
    status, _, _ = client.request("POST", "/login", {"email": f"bench{n}@example.com", "password": "benchmark password", "csrf_token": token})
    assert status == 302, status
    _, _, page = client.request("GET", "/quizzes/evaluacion-semana-1")
    token = CSRF.search(page).group(1)
    status, headers, _ = client.request("POST", "/quizzes/evaluacion-semana-1/start", {"csrf_token": token})
    assert status == 302, (status, headers)
    attempt_path = urllib.parse.urlparse(headers["Location"]).path
    _, _, page = client.request("GET", attempt_path)
    token = CSRF.search(page).group(1)
    return client, attempt_path, token


def run(label: str, jobs: list, clients: int) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    index = iter(range(len(jobs)))

    def worker():
        nonlocal errors
        while True:
            with lock:
                i = next(index, None)
            if i is None:
                return
            started = time.perf_counter()
            try:
                status = jobs[i]()
            except Exception:  # noqa: BLE001 - counted as an error response
                status = 599
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                errors += status >= 400

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = time.perf_counter() - started
    latencies.sort()
    return {"label": label, "requests": len(latencies), "errors": errors, "rps": len(latencies) / total,
            "p50": statistics.median(latencies) * 1000, "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="lms-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    print(f"preparing {args.requests} agents with an attempt each on {url.split('@')[-1]} …", flush=True)
    prepare(url, args.requests, str(workdir))
    from bench import floor_app

    floor_app.prepare(url)
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench-" + "k" * 40, LMS_ENV="development", PYTHONPATH=str(ROOT))
    floor_port, lms_port = free_port(), free_port()
    servers = [gunicorn("bench.floor_app:app", floor_port, env), gunicorn("lms:create_app()", lms_port, env)]
    try:
        wait_until_up(floor_port)
        wait_until_up(lms_port)
        sessions = [login_and_start(lms_port, n) for n in range(args.requests)]
        floor_client = Client(floor_port)
        floor_jobs = [lambda: floor_client.request("POST", "/insert", {})[0] for _ in range(args.requests)]

        def submit_job(client, path, token):
            return lambda: client.request("POST", path + "/submit",
                                          {"csrf_token": token, "q0": "0", "q1": "1", "q2": "0"})[0]

        lms_jobs = [submit_job(*s) for s in sessions]
        floor = run("floor: insert one row", floor_jobs, args.clients)
        lms = run("LMS: submit a 20-question attempt", lms_jobs, args.clients)
        print()
        print(f"{'':36} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}")
        for r in (floor, lms):
            print(f"{r['label']:36} {r['rps']:8.1f} {r['p50']:8.1f} {r['p95']:8.1f} {r['errors']:7d}")
        print()
        print(f"throughput ratio LMS/floor: {lms['rps'] / floor['rps']:.2f}   p95 ratio LMS/floor: {lms['p95'] / floor['p95']:.2f}")
        return 1 if lms["errors"] else 0
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(timeout=20)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
