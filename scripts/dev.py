#!/usr/bin/env python3
"""`make run`: the site and its background worker (e-mails, reminders, expiry and recertification jobs) in one
command, both stopped by one Ctrl-C.

1. prepares the database: `flask db upgrade`, then `flask demo prepare` (courseware, demo data, and the
   certifications the agents already meet);
2. starts `flask run` and `flask worker`, each in its own process group, so that Ctrl-C reaches only this
   supervisor, which stops both cleanly; if either stops on its own, the other is stopped too;
3. without an SMTP server, e-mails go to the local mailbox the site shows at /manage/mailbox (DEV_MAILBOX=1).

Usage: python scripts/dev.py [--host 127.0.0.1] [--port 5000] [--skip-setup]
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess  # nosec B404  # runs this project's own flask commands
import sys
import threading
import time

STOP_SECONDS = 10
BANNER = """
  Academia de Atención is running at {url}
  Demo logins (password for all: demo-lms-2026):
    agente@demo.lms     agent (4-week track)   agente2@demo.lms  agent (3-month track)
    formador@demo.lms   trainer                gerente@demo.lms  manager
    admin@demo.lms      admin
    agente8@demo.lms    one lesson from a certificate   agente9@demo.lms  recertification open
  E-mails the site sends: {url}/manage/mailbox (as admin@demo.lms){smtp}
  The background worker delivers them and runs the reminder and certification jobs.
  Press Ctrl-C once to stop the site and the worker.
"""


def flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "lms", *args]


def relay(stream) -> None:
    """The worker's output, without its idle passes ("sent 0, failed 0" every few seconds)."""
    for line in iter(stream.readline, ""):
        if line.strip() != "sent 0, failed 0":
            print(f"worker: {line}", end="", flush=True)


def stop(processes: dict[str, subprocess.Popen]) -> None:
    """SIGTERM to every process still running, then SIGKILL to those still there after STOP_SECONDS."""
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", default=os.environ.get("PORT", "5000"))
    parser.add_argument("--skip-setup", action="store_true", help="Do not upgrade the database nor load the demo.")
    parser.add_argument("--worker-interval", default="5", help="Seconds between the worker's delivery passes.")
    args = parser.parse_args(argv)

    url = f"http://{args.host}:{args.port}"
    env = dict(os.environ)
    env.setdefault("DEV_MAILBOX", "1")
    env.setdefault("PUBLIC_URL", url)
    if not args.skip_setup:
        for step in (flask("db", "upgrade"), flask("demo", "prepare")):
            if subprocess.call(step, env=env) != 0:  # nosec B603  # fixed argument lists, no shell
                return 1
    smtp = f"\n  (an SMTP server is configured, {env['SMTP_HOST']}: e-mails go out through it)" if env.get("SMTP_HOST") else ""
    print(BANNER.format(url=url, smtp=smtp), flush=True)

    stopping = {"signal": None}

    def on_signal(signum, _frame):
        stopping["signal"] = signum

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    processes = {
        "site": subprocess.Popen(flask("run", "--host", args.host, "--port", str(args.port)), env=env,  # nosec B603
                                 start_new_session=True),
        "worker": subprocess.Popen(flask("worker", "--interval", str(args.worker_interval)), env=env,  # nosec B603
                                   start_new_session=True, stdout=subprocess.PIPE, text=True),
    }
    threading.Thread(target=relay, args=(processes["worker"].stdout,), daemon=True).start()
    for name, process in processes.items():
        print(f"{name}: pid {process.pid}", flush=True)
    code = 0
    try:
        while stopping["signal"] is None:
            ended = {name: p.returncode for name, p in processes.items() if p.poll() is not None}
            if ended:
                for name, returncode in ended.items():
                    print(f"{name} stopped (exit code {returncode}); stopping the rest", file=sys.stderr, flush=True)
                code = next(iter(ended.values())) or 1
                break
            time.sleep(0.2)
    finally:
        stop(processes)
    print("site and worker stopped", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
