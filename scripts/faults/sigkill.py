#!/usr/bin/env python3
"""Fault drill: a gunicorn worker killed with SIGKILL in the middle of quiz submissions.

The site runs under gunicorn (2 sync workers) on 127.0.0.1 with a throw-away database; client threads
submit quiz attempts, each with the idempotency key its page rendered, and retry with the same key on
connection errors. Once some submissions are acknowledged, one worker is killed with SIGKILL (gunicorn
starts another). At the end every acknowledged submission must be in the database exactly once.

    .venv/bin/python scripts/faults/sigkill.py [--db sqlite|postgresql] [--port 8141] [--agents 60]

Prints the figures and a verdict; exits 1 on failure. Bounded by --seconds (default 180).

The kills all fall in the first half of the submissions (:func:`kill_targets`), and after each one the drill waits
for gunicorn's replacement worker rather than a fixed pause: on a fast machine the submissions used to be over
before the last kill, and the drill failed its own kill count.
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as common  # noqa: E402


def kill_targets(agents: int, kills: int) -> list[int]:
    """After how many acknowledged submissions each kill comes: spread over the first half of the submissions, so
    that at least half of them are still to come at the last kill however fast the machine is."""
    return [max(1, (agents // 2) * (n + 1) // (kills + 1)) for n in range(kills)]


def wait_for_replacement(server, victim: int, workers: int, deadline: float) -> None:
    """Until gunicorn has replaced the killed worker (or the deadline)."""
    while time.monotonic() < deadline:
        current = server.workers()
        if victim not in current and len(current) >= workers:
            return
        time.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres", help="local PostgreSQL server (admin URL)")
    parser.add_argument("--port", type=int, default=8141)
    parser.add_argument("--agents", type=int, default=60, help="submissions (one attempt per agent)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--kills", type=int, default=3, help="workers to SIGKILL during the load")
    parser.add_argument("--seconds", type=int, default=180)
    args = parser.parse_args()
    deadline = time.monotonic() + args.seconds

    database = common.Database(args.db, args.pg)
    server = None
    try:
        common.log(f"preparing {args.agents} agents on {args.db}")
        plan = common.prepare(database.url, args.agents)
        answers = common.answers_for(database.url, [a for _e, a in plan.attempts])
        server = common.Server(database.url, args.port, database.tmp)
        common.log(f"gunicorn on {server.base}, workers {server.workers()}")

        stats = common.Stats()
        progress = threading.Event()
        acknowledged = {"n": 0}

        def on_progress():
            acknowledged["n"] += 1
            progress.set()

        work = [(email, attempt, answers[attempt]) for email, attempt in plan.attempts]
        shares = [work[i::args.clients] for i in range(args.clients)]
        threads = [threading.Thread(target=common.client_run, args=(server.base, share, stats, deadline, on_progress))
                   for share in shares]
        for thread in threads:
            thread.start()

        killed = []
        for target in kill_targets(args.agents, args.kills):
            # let the load get going, then kill one worker a few milliseconds after a submission was sent: the
            # request dies in the middle, the client retries its key
            while acknowledged["n"] < target and time.monotonic() < deadline and any(t.is_alive() for t in threads):
                time.sleep(0.02)
            stats.submitting.clear()
            if not stats.submitting.wait(timeout=max(0.1, deadline - time.monotonic())):
                break
            time.sleep(random.uniform(0.002, 0.03))  # nosec B311  # timing jitter, not security
            workers = server.workers()
            if not workers:
                break
            victim = random.choice(workers)  # nosec B311
            os.kill(victim, signal.SIGKILL)
            killed.append((victim, acknowledged["n"]))
            common.log(f"SIGKILL worker {victim} after {acknowledged['n']} acknowledged submissions")
            wait_for_replacement(server, victim, len(workers), min(deadline, time.monotonic() + 30))
        for thread in threads:
            thread.join(timeout=max(1, deadline - time.monotonic()))
        common.log(f"workers now {server.workers()}")

        ok, lines = common.verify(database.url, stats)
        complete = len(stats.acknowledged) == args.agents
        for line in lines:
            print(line)
        print(f"workers killed: {len(killed)} of {args.kills} {killed}")
        if len(killed) < args.kills:
            print("the submissions were over before every kill: raise --agents")
        if not complete:
            print(f"only {len(stats.acknowledged)} of {args.agents} submissions were acknowledged before the deadline")
        verdict = ok and complete and len(killed) == args.kills
        print(f"VERDICT: {'PASS' if verdict else 'FAIL'} (sigkill, {args.db})")
        return 0 if verdict else 1
    finally:
        if server is not None:
            server.stop()
        database.drop()


if __name__ == "__main__":
    sys.exit(main())
