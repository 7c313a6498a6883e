"""In-process figures of the team dashboard (issue #22): SQL statements, CPU ms and Python calls per request.

Runs the LMS with the Flask test client (no server) against a seeded organisation (bench/seed.py's, with its
100-agent team "bench equipo grande", its manager and the admin) and measures, for the team dashboard of the big
team (as its manager) and the organisation-wide dashboard (as the admin):
  * statements per request (an engine "before_cursor_execute" listener),
  * CPU ms per request (``time.process_time``: SQLite runs in-process, so it includes the database), and wall ms
    (on PostgreSQL, wall minus CPU is the database server's time and the round trips, one request at a time),
  * with --profile, the calls counted by cProfile and the top functions by cumulative time.

    .venv/bin/python bench/dashboard_profile.py --database-url sqlite:////tmp/seed.sqlite3 [--runs 30] [--profile]
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--statements", action="store_true", help="list the statements of one request of each page")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--times", action="store_true", help="print every request's CPU ms")
    parser.add_argument("--sort", default="cumulative", help="cProfile order: cumulative, tottime, calls…")
    parser.add_argument("--save", help="write the pages' HTML (CSRF token blanked) to <SAVE>-team.html and <SAVE>-org.html")
    args = parser.parse_args()

    from sqlalchemy import event, text

    from bench.loadgen import USER_AGENT, mint_session
    from bench.seed import ADMIN, BIG_TEAM, MANAGER
    from lms import create_app
    from lms.core.db import get_db

    app = create_app({"DATABASE_URL": args.database_url, "SECRET_KEY": "dash-" + "k" * 40})
    with app.app_context():
        engine = get_db(app).engine
        with engine.connect() as conn:
            team = conn.execute(text("select id from teams where name = :n"), {"n": BIG_TEAM}).scalar()
            users = {email: (uid, version) for email, uid, version in conn.execute(
                text("select email, id, session_version from users where email in (:m, :a)"), {"m": MANAGER, "a": ADMIN})}
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cursor, sql, *a: statements.append(sql))
    pages = [("team dashboard (100 agents, manager)", MANAGER, f"/manage/dashboard/?team={team}", "team"),
             ("org-wide dashboard (admin)", ADMIN, "/manage/dashboard/", "org")]
    print(f"{'page':40} {'statements':>10} {'CPU ms median':>14} {'p95':>7} {'wall ms median':>15} {'p95':>7} {'calls':>8} "
          f"{'bytes':>8}")
    for label, email, url, short in pages:
        uid, version = users[email]
        cookie, _ = mint_session(app, f"{uid}:{version}")
        client = app.test_client()
        client.set_cookie(*cookie.split("=", 1))
        headers = {"User-Agent": USER_AGENT}
        environ = {"REMOTE_ADDR": "127.0.0.1"}
        for _ in range(3):  # warm the caches
            response = client.get(url, headers=headers, environ_base=environ)
            assert response.status_code == 200, (url, response.status_code)
        if args.save:
            # the CSRF token changes with every session: blanked, so that two runs' pages compare byte for byte
            Path(f"{args.save}-{short}.html").write_bytes(re.sub(rb'(name="csrf_token" type="hidden" value=")[^"]*', rb"\1", response.data))
        times, walls = [], []
        for _ in range(args.runs):
            statements.clear()
            started, wall = time.process_time(), time.perf_counter()
            response = client.get(url, headers=headers, environ_base=environ)
            times.append((time.process_time() - started) * 1000)
            walls.append((time.perf_counter() - wall) * 1000)
        count, listed = len(statements), list(statements)
        calls = "-"
        report = ""
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(10):
                client.get(url, headers=headers, environ_base=environ)
            profile.disable()
            stream = io.StringIO()
            stats = pstats.Stats(profile, stream=stream)
            calls = str(stats.total_calls // 10)
            stats.sort_stats(args.sort).print_stats(args.top)
            report = stream.getvalue()
        if args.times:
            print(label, " ".join(f"{t:.0f}" for t in times))
        times.sort()
        walls.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        wall_p95 = walls[min(len(walls) - 1, int(len(walls) * 0.95))]
        print(f"{label:40} {count:>10} {statistics.median(times):>14.1f} {p95:>7.1f} {statistics.median(walls):>15.1f} "
              f"{wall_p95:>7.1f} {calls:>8} {len(response.data):>8}")
        if args.statements:
            for sql in listed:
                print("   ", " ".join(sql.split())[:300])
        if report:
            print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
