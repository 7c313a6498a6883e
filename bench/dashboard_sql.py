"""Benchmark: the manager dashboards against a hand-written SQL query for the same figures.

    .venv/bin/python bench/dashboard_sql.py [--database-url URL] [--runs 40] [--clients 8]

Uses the organisation bench/org_pages.py generates (run that first, same --database-url). For the first
manager's team, all of their teams and (as an admin) the organisation-wide page, prints the page's median and
p95 with one client and with ``--clients`` clients at once (threads, each its own test client), then the same
figures (per agent: first track, start, progress, state, overdue steps, last activity, quiz and role-play
averages, active certificates) computed by one hand-written SQL statement over the same tables, and the ratio.
Wall times on a shared machine are noisy: the CPU time of the single-client runs is printed too.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: the figures of DashboardRow for the agents of some teams (SQLite json_each; PostgreSQL json_array_elements)
SQL = """
WITH agents AS (
    SELECT DISTINCT u.id, u.name FROM users u JOIN team_memberships tm ON tm.user_id = u.id
    WHERE tm.kind = 'agent' AND tm.team_id IN ({teams}) ORDER BY u.name LIMIT :page
), ranked AS (
    SELECT ep.*, t.title, ROW_NUMBER() OVER (PARTITION BY ep.user_id ORDER BY ep.start_date, ep.enrollment_id) AS n,
           CASE WHEN ep.steps_total > 0 AND ep.steps_done = ep.steps_total THEN 5 WHEN ep.start_date > :today THEN 4
                WHEN ep.first_pending_due < :late THEN 1 WHEN ep.first_pending_due < :today THEN 2 ELSE 3 END AS state_rank
    FROM enrollment_progress ep JOIN tracks t ON t.id = ep.track_id WHERE ep.user_id IN (SELECT id FROM agents)
), per_agent AS (
    SELECT user_id, MIN(state_rank) AS state_rank, MAX(last_activity_at) AS last_activity FROM ranked GROUP BY user_id
), quiz AS (
    SELECT user_id, ROUND(AVG(grade), 1) AS quiz_average FROM (
        SELECT DISTINCT r.user_id, j.key AS quiz_id, CAST(j.value AS FLOAT) AS grade FROM ranked r, {each_object}) g
    GROUP BY user_id
), roleplay AS (
    SELECT user_id, ROUND(AVG(score), 1) AS roleplay_average FROM roleplay_submissions
    WHERE grade_state = 'released' AND score IS NOT NULL AND user_id IN (SELECT id FROM agents) GROUP BY user_id
), certs AS (
    SELECT user_id, COUNT(*) AS active FROM certification_records
    WHERE status = 'active' AND expires_at > :now AND user_id IN (SELECT id FROM agents) GROUP BY user_id
)
SELECT a.id, a.name, f.title, f.start_date,
       CASE WHEN f.steps_total > 0 THEN f.steps_done * 100 / f.steps_total ELSE 0 END AS percent,
       p.state_rank, (SELECT COUNT(*) FROM {each_array} WHERE CAST(d.value AS INTEGER) < :today_ordinal - f.start_ordinal) AS overdue,
       p.last_activity, q.quiz_average, r.roleplay_average, COALESCE(c.active, 0)
FROM agents a
LEFT JOIN (SELECT *, {start_ordinal} AS start_ordinal FROM ranked WHERE n = 1) f ON f.user_id = a.id
LEFT JOIN per_agent p ON p.user_id = a.id LEFT JOIN quiz q ON q.user_id = a.id
LEFT JOIN roleplay r ON r.user_id = a.id LEFT JOIN certs c ON c.user_id = a.id
ORDER BY a.name
"""


def hand_written(dialect: str, team_ids: list[int]) -> str:
    if dialect == "postgresql":
        each_object, each_array = "json_each_text(r.quiz_grades) j", "json_array_elements_text(f.pending_days) d"
        start_ordinal = "(start_date - DATE '0001-01-01' + 1)"
    else:
        each_object, each_array = "json_each(r.quiz_grades) j", "json_each(f.pending_days) d"
        start_ordinal = "CAST(julianday(start_date) - 1721424.5 AS INTEGER)"
    return SQL.format(teams=", ".join(str(int(t)) for t in team_ids), each_object=each_object, each_array=each_array,
                      start_ordinal=start_ordinal)


def timed(fn, runs: int) -> tuple[float, float, float]:
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    walls.sort()
    return statistics.median(walls) * 1000, walls[max(0, int(len(walls) * 0.95) - 1)] * 1000, statistics.median(cpus) * 1000


def concurrent(app, login, url: str, clients: int, runs: int) -> tuple[float, float]:
    walls: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def one():
        client = login(app.test_client())
        barrier.wait()
        for _ in range(runs):
            started = time.perf_counter()
            assert client.get(url).status_code == 200
            with lock:
                walls.append(time.perf_counter() - started)

    threads = [threading.Thread(target=one) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    walls.sort()
    return statistics.median(walls) * 1000, walls[max(0, int(len(walls) * 0.95) - 1)] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="sqlite:////tmp/lms-bench-org.sqlite3")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    from sqlalchemy import text

    from lms import create_app
    from lms.accounts import services as accounts
    from lms.core.db import get_db
    from lms.demo.generate import PASSWORD

    app = create_app({"DATABASE_URL": args.database_url, "SECRET_KEY": "bench-" + "k" * 40, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        session = get_db(app).sessionmaker()
        if accounts.find_user_by_email(session, "bench-gerente1@example.com") is None:
            print("no synthetic organisation here: run bench/org_pages.py first")
            return 1
        if accounts.find_user_by_email(session, "bench-admin@example.com") is None:
            accounts.create_user(session, email="bench-admin@example.com", name="Bench Admin", role="admin", password=PASSWORD)
            session.commit()
        manager = accounts.find_user_by_email(session, "bench-gerente1@example.com")
        teams = accounts.supervised_team_ids(session, manager)
        all_teams = list(session.scalars(text("select id from teams")))
        sizes = {t: len(accounts.supervised_agent_ids(session, manager, t, team_ids=teams)) for t in teams[:1]}
        dialect = session.get_bind().dialect.name
        session.close()

    def login_as(email):
        def login(client):
            assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
            return client
        return login

    today = datetime.now(timezone.utc).date()
    now = datetime.now(timezone.utc)
    params = {"today": today, "late": today - timedelta(days=2), "now": now, "today_ordinal": today.toordinal()}
    # the organisation-wide page shows the first page of agents by name (and the teams' table, not in the SQL)
    cases = [(f"team dashboard ({sizes[teams[0]]} agents)", "bench-gerente1@example.com", f"/manage/dashboard/?team={teams[0]}", teams[:1], 10**6),
             ("all the manager's teams", "bench-gerente1@example.com", "/manage/dashboard/", teams, 10**6),
             ("organisation-wide (admin, paginated)", "bench-admin@example.com", "/manage/dashboard/", all_teams, 100)]
    print(f"{'page':40} {'1 client p50/p95 ms':>20} {'cpu ms':>7} {f'{args.clients} clients p50/p95':>20} {'SQL ms':>7} {'rows':>6} {'ratio':>6}")
    for label, email, url, team_ids, page in cases:
        client = login_as(email)(app.test_client())
        client.get(url)
        p50, p95, cpu = timed(lambda: client.get(url), args.runs)
        c50, c95 = concurrent(app, login_as(email), url, args.clients, max(3, args.runs // args.clients))
        statement = text(hand_written(dialect, team_ids))
        with app.app_context():
            connection = get_db(app).engine.connect()
            rows = connection.execute(statement, params | {"page": page}).all()
            s50, _s95, _ = timed(lambda: connection.execute(statement, params | {"page": page}).all(), max(5, args.runs // 4))
            connection.close()
        print(f"{label:40} {p50:9.1f} /{p95:8.1f} {cpu:7.1f} {c50:9.1f} /{c95:8.1f} {s50:7.1f} {len(rows):6d} {p50 / s50:6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
