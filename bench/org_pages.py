"""Benchmark: the manager's pages on a synthetic organisation (generated once per database file).

    .venv/bin/python bench/org_pages.py [--database-url URL] [--agents 10000 --teams 500 --attempts 1000000 --submissions 100000]
    .venv/bin/python bench/org_pages.py --exports-only --agents 50000 --teams 2500 --attempts 5000000 --submissions 500000 \
        --database-url sqlite:////tmp/lms-bench-org-50k.sqlite3

Prints the median and p95 time of each page (in-process test client, 20 runs each) and the page size, then
streams the organisation-wide CSV exports as an admin and prints their time, rows and peak memory
(tracemalloc: Python allocations while streaming) next to the same export for one team.

``--exports-only``: only the whole organisation's progress CSV, both ways, each in a fresh process (so that its
peak RSS is its own): streamed in the request, and prepared by the worker as a background job (lms.reporting.jobs:
the POST that queues it, then worker passes until the file is written, then its download). Prints time, rows,
tracemalloc peak and the process's peak RSS for each.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="sqlite:////tmp/lms-bench-org.sqlite3")
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=500)
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--submissions", type=int, default=100_000)
    parser.add_argument("--exports-only", action="store_true", help="only the organisation export, streamed and as a job")
    parser.add_argument("--export-path", choices=("streaming", "job"), help=argparse.SUPPRESS)  # one path, in this process
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)  # with tracemalloc (slower)
    parser.add_argument("--generate-only", action="store_true", help="only generate the organisation (if not there yet)")
    args = parser.parse_args()
    if args.exports_only and not args.export_path and not args.generate_only:
        return _exports_in_subprocesses(args)

    from sqlalchemy import select, text

    from lms import create_app
    from lms.content import sync
    from lms.core.clock import now_utc
    from lms.core.db import get_db
    from lms.demo.generate import PASSWORD, Sizes, generate
    from lms.migrations import upgrade

    upgrade(args.database_url)
    app = create_app({"DATABASE_URL": args.database_url, "SECRET_KEY": "bench-" + "k" * 40, "WTF_CSRF_ENABLED": False,
                                                    "EXPORTS_FOLDER": "/tmp/lms-bench-exports"})
    with app.app_context():
        session = get_db(app).sessionmaker()
        if session.execute(text("select count(*) from users where email like 'bench-%'")).scalar() == 0:
            print(f"generating {args.agents} agents, {args.attempts} attempts, {args.submissions} role-plays …", flush=True)
            started, cpu = time.perf_counter(), time.process_time()
            problems, _ = sync(session, ROOT)
            assert not problems
            generate(session, Sizes(args.agents, args.teams, args.attempts, args.submissions), now=now_utc(), prefix="bench")
            session.commit()
            import resource

            print(f"generated in {time.perf_counter() - started:.0f} s ({time.process_time() - cpu:.0f} s CPU in this process, "
                  f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)", flush=True)
        team = session.execute(text("select tm.team_id from team_memberships tm join users u on u.id = tm.user_id "
                                    "where u.email = 'bench-gerente1@example.com' and tm.kind = 'manager' limit 1")).scalar()
        agent = session.execute(text(f"select user_id from team_memberships where team_id = {team} and kind = 'agent' limit 1")).scalar()
        agents_in_team = session.execute(text(f"select count(*) from team_memberships where team_id = {team} and kind = 'agent'")).scalar()
        session.close()
    if args.generate_only:
        return 0
    if args.export_path:
        return _export_path(app, args.export_path, traced=args.traced)
    client = app.test_client()
    assert client.post("/login", data={"email": "bench-gerente1@example.com", "password": PASSWORD}).status_code == 302
    pages = [(f"team dashboard ({agents_in_team} agents)", f"/manage/dashboard/?team={team}"),
             ("dashboard of all the manager's teams", "/manage/dashboard/"),
             ("agent timeline", f"/manage/dashboard/agents/{agent}"), ("agent progress", f"/manage/agents/{agent}"),
             ("agent certifications", f"/manage/certifications/agents/{agent}"),
             ("CSV export, the manager's agents", "/manage/dashboard/export.csv")]
    def time_pages(client, pages, runs: int = 20) -> None:
        for label, url in pages:
            times, size = [], 0
            for _ in range(runs):
                started = time.perf_counter()
                response = client.get(url)
                size = len(response.get_data())
                times.append(time.perf_counter() - started)
                assert response.status_code == 200, (url, response.status_code)
            times.sort()
            print(f"{label:45} {statistics.median(times) * 1000:10.1f} {times[int(runs * 0.95) - 1] * 1000:8.1f} {size:9d}")

    print(f"\n{'page':45} {'median ms':>10} {'p95 ms':>8} {'bytes':>9}")
    time_pages(client, pages)

    import tracemalloc

    client.post("/logout")
    _admin_client(app, client)
    # the organisation-wide dashboard: the teams aggregated in SQL and the first page of agents (bench/dashboard_sql.py
    # compares the dashboards with a hand-written SQL query for the same figures and with 8 clients at once)
    time_pages(client, [("organisation-wide dashboard (admin, page 1)", "/manage/dashboard/"),
                        ("organisation-wide, overdue agents only", "/manage/dashboard/?state=overdue")], runs=10)
    print(f"\n{'streamed export (admin)':45} {'seconds':>10} {'rows':>9} {'peak MiB':>9}")
    for label, url in [(f"progress CSV, one team ({agents_in_team} agents)", f"/manage/dashboard/export.csv?team={team}"),
                       ("progress CSV, whole organisation", "/manage/dashboard/export.csv"),
                       ("certifications CSV, whole organisation", "/manage/dashboard/certifications.csv")]:
        tracemalloc.start()
        started = time.perf_counter()
        response = client.get(url, buffered=False)
        rows = sum(chunk.count(b"\n") for chunk in response.response)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        response.close()
        print(f"{label:45} {elapsed:10.1f} {rows - 1:9d} {peak / 2**20:9.1f}")
    return 0


def _admin_client(app, client=None):
    """``client`` (a new test client by default) signed in as the bench's admin (created the first time)."""
    from lms.accounts import services as accounts
    from lms.core.db import get_db
    from lms.demo.generate import PASSWORD

    with app.app_context():
        session = get_db(app).sessionmaker()
        if accounts.find_user_by_email(session, "bench-admin@example.com") is None:
            accounts.create_user(session, email="bench-admin@example.com", name="Bench Admin", role="admin", password=PASSWORD)
            session.commit()
        session.close()
    client = client or app.test_client()
    assert client.post("/login", data={"email": "bench-admin@example.com", "password": PASSWORD}).status_code == 302
    return client


def _exports_in_subprocesses(args) -> int:
    import subprocess  # nosec B404  # runs this same script

    base = [sys.executable, __file__, "--exports-only", "--database-url", args.database_url, "--agents", str(args.agents),
            "--teams", str(args.teams), "--attempts", str(args.attempts), "--submissions", str(args.submissions)]
    subprocess.run(base + ["--generate-only"], check=True)  # nosec B603  # apart, so that no export's peak RSS is the generator's
    print(f"{'organisation progress CSV (admin)':45} {'seconds':>10} {'CPU s':>7} {'rows':>9} {'peak MiB':>9} {'peak RSS MiB':>13} {'server CPU s':>13}", flush=True)
    for path in ("streaming", "job"):
        subprocess.run(base + ["--export-path", path], check=True)  # nosec B603  # our own arguments
    print("… again with tracemalloc on (its peak is the traced column; it slows Python down several times):")
    for path in ("streaming", "job"):
        subprocess.run(base + ["--export-path", path, "--traced"], check=True)  # nosec B603  # our own arguments
    return 0


def _export_path(app, path: str, *, traced: bool) -> int:
    """The whole organisation's progress CSV one way, in this process: time, CPU, rows, peak RSS, and with
    ``traced`` the tracemalloc peak (Python allocations) instead of a time that tracemalloc would inflate."""
    import resource
    import tracemalloc

    from sqlalchemy import select

    from lms.core import outbox
    from lms.core.clock import now_utc
    from lms.core.db import get_db, transaction
    from lms.reporting import jobs
    from lms.reporting.models import ExportJob

    client = _admin_client(app)
    server = _server_cpu(app)
    if traced:
        tracemalloc.start()
    started, cpu = time.perf_counter(), time.process_time()
    if path == "streaming":
        app.config["EXPORT_BACKGROUND_AGENTS"] = 10**9  # streamed whatever the size
        response = client.get("/manage/dashboard/export.csv", buffered=False)
        rows = sum(chunk.count(b"\n") for chunk in response.response) - 1
        response.close()
        label = "streamed in the request"
    else:
        answer = client.post("/manage/dashboard/exports", data={"kind": "progress", "format": "standard"})
        job_id = int(answer.headers["Location"].rsplit("/", 1)[1])
        senders = {jobs.KIND: jobs.sender_factory(app.config)}
        passes = 0
        while True:
            with app.app_context(), transaction() as worker:
                outbox.deliver_due(worker, senders, now=now_utc())
            passes += 1
            with app.app_context():
                with get_db(app).sessionmaker() as session:
                    status = session.scalar(select(ExportJob.status).where(ExportJob.id == job_id))
            if status not in jobs.ACTIVE:
                break
        assert status == "done", status
        response = client.get(f"/manage/dashboard/exports/{job_id}/download", buffered=False)  # read as it is sent
        rows = sum(chunk.count(b"\n") for chunk in response.response) - 1
        response.close()
        with app.app_context(), get_db(app).sessionmaker() as session:
            jobs.path_of(session.get(ExportJob, job_id)).unlink()
        label = f"background job ({passes} worker steps)"
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu  # CPU: this process's (a shared machine's
    peak = f"{tracemalloc.get_traced_memory()[1] / 2**20:9.1f}" if traced else f"{'-':>9}"  # wall time varies with its other load)
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    server_after = _server_cpu(app)
    server_cpu = (f"{sum(t - server.get(pid, 0.0) for pid, t in server_after.items()):13.1f}"
                  if server_after is not None and server is not None else f"{'-':>13}")
    print(f"{label:45} {elapsed:10.1f} {cpu:7.1f} {rows:9d} {peak} {rss:13.0f} {server_cpu}", flush=True)
    return 0


def _server_cpu(app) -> dict[int, float] | None:
    """PostgreSQL on this machine: CPU seconds (user + system) of each server process connected to the bench's
    database, by pid (the export's own connections stay open in the pool until this process ends); None on SQLite
    (its work is this process's CPU) or when the server's processes cannot be read."""
    import os

    from sqlalchemy import text

    from lms.core.db import get_db

    with app.app_context(), get_db(app).sessionmaker() as session:
        if session.get_bind().dialect.name != "postgresql":
            return None
        pids = session.scalars(text("select pid from pg_stat_activity where datname = current_database()")).all()
    ticks, out = os.sysconf("SC_CLK_TCK"), {}
    try:
        for pid in pids:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    except (FileNotFoundError, PermissionError, ProcessLookupError):
        return None
    return out


if __name__ == "__main__":
    sys.exit(main())
