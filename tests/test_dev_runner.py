"""`make run` (scripts/dev.py): the site and the background worker start together and one Ctrl-C stops both; the
setup it runs (`flask demo prepare`) leaves nothing for a newcomer to run by hand."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

from tests.conftest import PROJECT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_make_run_starts_the_site_and_the_worker_and_one_ctrl_c_stops_both(tmp_path):
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'dev.sqlite3'}", SECRET_KEY="dev-runner-test-" + "k" * 32,
               DEV_MAILBOX_DIR=str(tmp_path / "mailbox"), PYTHONUNBUFFERED="1")
    subprocess.run([sys.executable, "-m", "flask", "--app", "lms", "db", "upgrade"], env=env, cwd=PROJECT, check=True,
                   capture_output=True)
    port = _free_port()
    runner = subprocess.Popen([sys.executable, "scripts/dev.py", "--skip-setup", "--port", str(port), "--worker-interval", "1"],
                              cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(runner.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        pids, site_up, worker_ran = {}, False, False
        deadline = time.monotonic() + 90  # generous: a shared, busy machine; the test waits for states, not for time
        while time.monotonic() < deadline and not (len(pids) == 2 and site_up and worker_ran):
            for line in list(lines):
                for name in ("site", "worker"):
                    if line.startswith(f"{name}: pid "):
                        pids[name] = int(line.split()[-1])
            worker_ran = any(line.startswith("worker: expired 0, recertifications opened") for line in lines)
            try:
                site_up = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5).status == 200  # nosec B310
            except OSError:
                site_up = False
            time.sleep(0.3)
        assert len(pids) == 2 and site_up and worker_ran, "".join(lines)
        assert all(_alive(pid) for pid in pids.values())
        assert "/manage/mailbox" in "".join(lines)
        assert not any(line.strip().endswith("sent 0, failed 0") for line in lines)  # idle passes are not echoed

        runner.send_signal(signal.SIGINT)  # what one Ctrl-C does
        assert runner.wait(timeout=60) == 0
        reader.join(timeout=10)
        assert "site and worker stopped" in "".join(lines)
        assert not any(_alive(pid) for pid in pids.values())
    finally:
        if runner.poll() is None:
            runner.kill()


def test_if_the_site_cannot_start_the_worker_is_stopped_too(tmp_path):
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'dev.sqlite3'}", SECRET_KEY="dev-runner-test-" + "k" * 32,
               DEV_MAILBOX_DIR=str(tmp_path / "mailbox"))
    with socket.socket() as taken:  # the port is in use: `flask run` exits at once
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "scripts/dev.py", "--skip-setup", "--port", str(port)], cwd=PROJECT, env=env,
                                capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "stopping the rest" in result.stderr and "site and worker stopped" in result.stdout
    worker = int(next(line for line in result.stdout.splitlines() if line.startswith("worker: pid")).split()[-1])
    assert not _alive(worker)


def test_the_setup_issues_what_is_due_and_asks_the_newcomer_to_run_nothing(app, monkeypatch):
    monkeypatch.setitem(app.config, "CONTENT_ROOT", str(PROJECT))
    result = app.test_cli_runner().invoke(args=["demo", "prepare"])
    assert result.exit_code == 0, result.output
    assert "content: created" in result.output and "demo: " in result.output
    assert "run '" not in result.output and "certification evaluate" not in result.output
