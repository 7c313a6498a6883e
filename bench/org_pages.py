"""Benchmark: the manager's pages on a synthetic organisation (generated once per database file).

    .venv/bin/python bench/org_pages.py [--database-url URL] [--agents 10000 --teams 500 --attempts 1000000 --submissions 100000]

Prints the median and p95 time of each page (in-process test client, 20 runs each) and the page size, then
streams the organisation-wide CSV exports as an admin and prints their time, rows and peak memory
(tracemalloc: Python allocations while streaming) next to the same export for one team.
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
    args = parser.parse_args()

    from sqlalchemy import select, text

    from lms import create_app
    from lms.content import sync
    from lms.core.clock import now_utc
    from lms.core.db import get_db
    from lms.demo.generate import PASSWORD, Sizes, generate
    from lms.migrations import upgrade

    upgrade(args.database_url)
    app = create_app({"DATABASE_URL": args.database_url, "SECRET_KEY": "bench-" + "k" * 40, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        session = get_db(app).sessionmaker()
        if session.execute(text("select count(*) from users where email like 'bench-%'")).scalar() == 0:
            print(f"generating {args.agents} agents, {args.attempts} attempts, {args.submissions} role-plays …", flush=True)
            started = time.perf_counter()
            problems, _ = sync(session, ROOT)
            assert not problems
            generate(session, Sizes(args.agents, args.teams, args.attempts, args.submissions), now=now_utc(), prefix="bench")
            session.commit()
            print(f"generated in {time.perf_counter() - started:.0f} s")
        team = session.execute(text("select tm.team_id from team_memberships tm join users u on u.id = tm.user_id "
                                    "where u.email = 'bench-gerente1@example.com' and tm.kind = 'manager' limit 1")).scalar()
        agent = session.execute(text(f"select user_id from team_memberships where team_id = {team} and kind = 'agent' limit 1")).scalar()
        agents_in_team = session.execute(text(f"select count(*) from team_memberships where team_id = {team} and kind = 'agent'")).scalar()
        session.close()
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

    with app.app_context():
        from lms.accounts import services as accounts

        session = get_db(app).sessionmaker()
        if accounts.find_user_by_email(session, "bench-admin@example.com") is None:
            accounts.create_user(session, email="bench-admin@example.com", name="Bench Admin", role="admin", password=PASSWORD)
            session.commit()
        session.close()
    client.post("/logout")
    assert client.post("/login", data={"email": "bench-admin@example.com", "password": PASSWORD}).status_code == 302
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


if __name__ == "__main__":
    sys.exit(main())
