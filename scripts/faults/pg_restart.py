#!/usr/bin/env python3
"""Fault drill: the PostgreSQL server restarted while quiz submissions are under way.

The site runs under gunicorn (2 sync workers) on 127.0.0.1 against a throw-away database on the local
PostgreSQL; client threads submit quiz attempts with the idempotency keys their pages rendered, retrying
the same key on 503 and connection errors. Mid-load the cluster is restarted
(``pg_ctlcluster --skip-systemctl-redirect <version> main restart``). The drill checks that the outage
was answered with 503 (never 500), that the site recovered by itself (the same gunicorn, no restart),
and that every acknowledged submission is in the database exactly once.

    .venv/bin/python scripts/faults/pg_restart.py [--port 8143] [--agents 40] [--cluster 15/main]

Restarting PostgreSQL interrupts every other user of the server for a few seconds. Prints the figures
and a verdict; exits 1 on failure. Bounded by --seconds (default 240). Run as root or postgres.
"""
from __future__ import annotations

import argparse
import subprocess  # nosec B404  # pg_ctlcluster/pg_lsclusters with argument lists
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as common  # noqa: E402


def _cluster_default() -> str:
    versions = sorted((p.name for p in Path("/etc/postgresql").iterdir() if p.name.isdigit()), key=int) if Path("/etc/postgresql").exists() else []
    return f"{versions[-1]}/main" if versions else "15/main"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres", help="local PostgreSQL server (admin URL)")
    parser.add_argument("--cluster", default=_cluster_default(), help="version/name for pg_ctlcluster")
    parser.add_argument("--port", type=int, default=8143)
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=240)
    args = parser.parse_args()
    deadline = time.monotonic() + args.seconds
    version, name = args.cluster.split("/")

    database = common.Database("postgresql", args.pg)
    server = None
    try:
        common.log(f"preparing {args.agents} agents on PostgreSQL ({database.name})")
        plan = common.prepare(database.url, args.agents)
        answers = common.answers_for(database.url, [a for _e, a in plan.attempts])
        server = common.Server(database.url, args.port, database.tmp)
        master = server.process.pid
        common.log(f"gunicorn {master} on {server.base}, workers {server.workers()}")

        stats = common.Stats()
        acknowledged = {"n": 0}

        def on_progress():
            acknowledged["n"] += 1

        # a prober watches what the site answers during the outage (a page that reads the database)
        probes = {"503": 0, "500": 0, "other": 0, "refused": 0}
        stop = threading.Event()

        prober_http = requests.Session()
        page = prober_http.get(server.base + "/login", timeout=10)
        email, attempt_id = plan.attempts[-1]
        signed = prober_http.post(server.base + "/login", data={"email": email, "password": common.PASSWORD,
                                                                "csrf_token": common._csrf(page.text)}, allow_redirects=False, timeout=10)
        assert signed.status_code == 302, signed.status_code

        def probe():
            http = prober_http
            while not stop.is_set():
                try:  # a page that needs the database (the signed-in user, the attempt)
                    status = http.get(f"{server.base}/attempts/{attempt_id}", allow_redirects=False, timeout=10).status_code
                    key = str(status) if status in (500, 503) else "other"
                except requests.RequestException:
                    key = "refused"
                probes[key] += 1
                time.sleep(0.2)

        work = [(email, attempt, answers[attempt]) for email, attempt in plan.attempts]
        threads = [threading.Thread(target=common.client_run, args=(server.base, work[i::args.clients], stats, deadline, on_progress))
                   for i in range(args.clients)]
        prober = threading.Thread(target=probe)
        for thread in threads:
            thread.start()

        while acknowledged["n"] < max(1, args.agents // 4) and time.monotonic() < deadline and any(t.is_alive() for t in threads):
            time.sleep(0.05)
        prober.start()
        common.log(f"restarting PostgreSQL {args.cluster} after {acknowledged['n']} acknowledged submissions")
        started = time.monotonic()
        restart = subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart"],  # nosec B603 B607  # fixed command
                                 capture_output=True, text=True, timeout=120)
        common.log(f"restart finished in {time.monotonic() - started:.1f} s (exit {restart.returncode}) {restart.stderr.strip()}")
        for thread in threads:
            thread.join(timeout=max(1, deadline - time.monotonic()))
        stop.set()
        prober.join(timeout=15)
        after = requests.get(server.base + f"/attempts/{plan.attempts[0][1]}", timeout=10, allow_redirects=False).status_code

        ok, lines = common.verify(database.url, stats)
        complete = len(stats.acknowledged) == args.agents
        errors_500 = sum(v for k, v in stats.statuses.items() if k.endswith(" 500")) + probes["500"]
        saw_503 = probes["503"] + sum(v for k, v in stats.statuses.items() if k.endswith(" 503"))
        same_master = server.process.poll() is None and server.process.pid == master
        for line in lines:
            print(line)
        print(f"during the outage the prober saw: 503 x{probes['503']}, 500 x{probes['500']}, other x{probes['other']}, "
              f"no answer x{probes['refused']}")
        print(f"500 answers in total: {errors_500}; 503 answers in total: {saw_503}")
        print(f"recovered without restarting the site: {same_master and complete} (gunicorn {master} still serving; "
              f"a page after the outage answered {after})")
        verdict = (ok and complete and errors_500 == 0 and saw_503 > 0 and same_master and restart.returncode == 0)
        print(f"VERDICT: {'PASS' if verdict else 'FAIL'} (pg_restart)")
        return 0 if verdict else 1
    finally:
        if server is not None:
            server.stop()
        subprocess.run(["pg_lsclusters"], check=False)  # nosec B603 B607  # show that the cluster is online again
        database.drop()


if __name__ == "__main__":
    sys.exit(main())
