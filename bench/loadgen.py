"""Servers, sessions and load for bench/run.py: gunicorn processes, minted session cookies, wrk runs
(bench/wrk.lua) and the small Python clients used where wrk cannot express the case (a synchronised
spike of 200 clients, writers that measure their own worst latency)."""
from __future__ import annotations

import http.client
import json
import re
import shutil
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "wrk.lua"
USER_AGENT = "lms-bench"  # the session cookies are minted for this user agent and 127.0.0.1 (session_protection="strong")


# servers ---------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A gunicorn with 2 sync workers on 127.0.0.1; its stderr goes to a log file."""

    def __init__(self, app: str, env: dict, log: Path, workers: int = 2):
        self.port = free_port()
        self.log = log
        exe = str(Path(sys.executable).parent / "gunicorn")
        self._log_file = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [exe, "-w", str(workers), "-k", "sync", "-b", f"127.0.0.1:{self.port}", "--log-level", "warning", app],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self._log_file)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{app} exited; see {log}:\n{log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"{app} did not start on port {self.port}")

    def workers(self) -> list[int]:
        pid = self.process.pid
        path = Path(f"/proc/{pid}/task/{pid}/children")
        return [int(p) for p in path.read_text().split()] if path.exists() else []

    def worker_rss_mib(self) -> float:
        """The largest resident set size among the workers (VmRSS, /proc)."""
        sizes = []
        for pid in self.workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        return max(sizes) if sizes else float("nan")

    def worker_rss_kinds(self) -> str:
        """The largest worker's resident memory by kind (/proc/<pid>/status): anonymous (Python's objects, SQLite's
        page cache), file pages (shared libraries), shared memory (SQLite's WAL index)."""
        best: tuple[int, str] = (-1, "")
        for pid in self.workers():
            kinds = {}
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                    kinds[key] = int(value.split()[0])
            if kinds.get("VmRSS", 0) > best[0]:
                best = (kinds["VmRSS"], ", ".join(f"{k} {v / 1024:.1f}" for k, v in kinds.items() if k != "VmRSS"))
        return best[1]

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the workers have used so far (/proc/<pid>/stat): divided by the requests a run
        answered, the work per request, which other processes on the machine hardly change (unlike throughput)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in self.workers():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14 and 15 of stat)
        return total

    def run_queue_seconds(self) -> float:
        """Time the workers have spent so far runnable but waiting for a core (/proc/<pid>/schedstat, its second field):
        on a machine whose cores the database server, the load generator and the workers share, how long the workers
        were kept off the cores by the others."""
        total = 0
        for pid in self.workers():
            try:
                total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue
        return total / 1e9

    def log_count(self, needle: str) -> int:
        return self.log.read_text(errors="replace").count(needle)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()


# sessions --------------------------------------------------------------------------------------------
class _SignedIn:
    is_active = is_authenticated = True
    is_anonymous = False

    def __init__(self, token: str):
        self.token = token
        self.id = int(token.split(":", 1)[0])

    def get_id(self) -> str:
        return self.token


def mint_session(app, user_token: str | None) -> tuple[str, str]:
    """A signed session cookie (logged in as ``user_token`` = "<id>:<session_version>", or anonymous)
    with its CSRF token, exactly as the app would have set them at login from 127.0.0.1 with our user agent."""
    from flask import session
    from flask_login import login_user
    from flask_wtf.csrf import generate_csrf

    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"User-Agent": USER_AGENT}):
        if user_token is not None:
            # flask-login's own login_user (its signal stamps the session's sign-in times), for a stand-in
            # of the user: only its "<id>:<session_version>" id goes into the cookie
            login_user(_SignedIn(user_token))
        token = generate_csrf()
        value = app.session_interface.get_signing_serializer(app).dumps(dict(session))
    return f"{app.config['SESSION_COOKIE_NAME']}={value}", token


# wrk -------------------------------------------------------------------------------------------------
@dataclass
class Result:
    requests: int = 0
    seconds: float = 0.0
    errors: int = 0
    statuses: dict = field(default_factory=dict)
    p50: float = float("nan")
    p95: float = float("nan")
    p99: float = float("nan")
    max: float = float("nan")
    latencies: list = field(default_factory=list)
    #: the server workers' CPU milliseconds per answered request in this run (see Server.cpu_seconds), when measured
    cpu_ms: float = float("nan")
    #: the database server's CPU milliseconds per answered request in this run (PostgreSQL's processes; nan on SQLite,
    #: which runs inside the workers and is counted in cpu_ms)
    db_cpu_ms: float = float("nan")
    #: the workers' milliseconds per answered request runnable but waiting for a core (see Server.run_queue_seconds)
    wait_ms: float = float("nan")

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else float("nan")


def ensure_wrk() -> str:
    exe = shutil.which("wrk")
    if not exe:
        raise SystemExit("The benchmark needs wrk (Debian's package): sudo apt-get install wrk   (make bench installs it when run as root)")
    return exe


def write_requests(path: Path, lines: list[tuple[str, str, str, str]]) -> Path:
    with open(path, "w") as f:
        for method, target, cookie, body in lines:
            f.write(f"{method}\t{target}\t{cookie}\t{body}\n")
    return path


def wrk(port: int, requests_file: Path, *, connections: int, seconds: float, once: bool = False) -> Result:
    """Run wrk against 127.0.0.1:port with the requests of the file (cycled, or each once then stop)."""
    threads = max(1, min(2, connections))
    cmd = [ensure_wrk(), "-t", str(threads), "-c", str(connections), "-d", f"{max(1, int(seconds))}s", "--timeout", "30s",
           "-s", str(LUA), f"http://127.0.0.1:{port}", "--", str(requests_file), "once" if once else "cycle", str(threads)]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, finished = [], 0
    for text_line in process.stdout:  # "once": wrk would wait out the duration; interrupt it when every thread is done
        lines.append(text_line)
        if text_line.startswith("BENCHTHREADDONE"):
            finished += 1
            if finished == threads:
                process.send_signal(signal.SIGINT)
    stderr = process.stderr.read()
    process.wait()
    line = next((x for x in lines if x.startswith("BENCHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {''.join(lines)}\n{stderr}")
    data = json.loads(line[len("BENCHJSON "):])
    statuses = {k: data[k] for k in ("s2xx", "s3xx", "s4xx", "s429", "s5xx")}
    errors = data["connect"] + data["read"] + data["write"] + data["timeout"] + statuses["s4xx"] + statuses["s5xx"]
    return Result(requests=data["requests"], seconds=data["duration_us"] / 1e6, errors=errors, statuses=statuses,
                  p50=data["p50"] / 1000, p95=data["p95"] / 1000, p99=data["p99"] / 1000, max=data["max"] / 1000)


# Python clients ---------------------------------------------------------------------------------------
class Client:
    """One keep-alive HTTP/1.1 connection with fixed cookie and user agent."""

    def __init__(self, port: int, cookie: str = ""):
        self.port, self.cookie = port, cookie
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: str | None = None, accept: str | None = None) -> tuple[int, dict, bytes]:
        headers = {"User-Agent": USER_AGENT, "Accept-Language": "es"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if accept:
            headers["Accept"] = accept
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                return response.status, {k.lower(): v for k, v in response.getheaders()}, data
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered))) - 1))]


def spike(port: int, jobs: list[tuple[str, str, str]]) -> tuple[list[float], list[tuple[int, str]]]:
    """Every job (cookie, path, body) POSTed at once by its own thread, released together by a barrier.
    Returns the latencies (ms) and the (status, location) of each answer."""
    barrier = threading.Barrier(len(jobs))
    latencies: list[float] = [0.0] * len(jobs)
    answers: list[tuple[int, str]] = [(0, "")] * len(jobs)

    def run(i: int, cookie: str, path: str, body: str) -> None:
        client = Client(port, cookie)
        try:
            client.conn.connect()
        except OSError:
            pass
        barrier.wait()
        started = time.perf_counter()
        try:
            status, headers, _ = client.request("POST", path, body)
            answers[i] = (status, headers.get("location", ""))
        except Exception as exc:  # noqa: BLE001 - an error answer
            answers[i] = (599, repr(exc))
        latencies[i] = (time.perf_counter() - started) * 1000
        client.close()

    threads = [threading.Thread(target=run, args=(i, *job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, answers


def writers(port: int, jobs: list[tuple[str, list[tuple[str, str]]]], seconds: float) -> tuple[list[float], dict[int, int]]:
    """Each job (cookie, [(path, body), …]) is one writer looping over its requests for ``seconds``.
    Returns every latency (ms) and the count of each status."""
    stop_at = time.perf_counter() + seconds
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def run(cookie: str, requests: list[tuple[str, str]]) -> None:
        client = Client(port, cookie)
        n = 0
        while time.perf_counter() < stop_at:
            path, body = requests[n % len(requests)]
            n += 1
            started = time.perf_counter()
            try:
                status, _, _ = client.request("POST", path, body, accept="application/json")
            except Exception:  # noqa: BLE001 - an error answer
                status = 599
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
        client.close()

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, statuses


def median(values):
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def form(pairs=(), **fields) -> str:
    return urllib.parse.urlencode(list(pairs) + list(fields.items()))


INPUT = re.compile(r"<(input|textarea|select)\b([^>]*)>", re.I)
ATTR = re.compile(r'([a-zA-Z_-]+)="([^"]*)"')
OPTION = re.compile(r'<option\b[^>]*value="([^"]*)"', re.I)


def answer_bodies(page: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Two complete, different sets of answers (fields q<n>) for the attempt form of ``page``:
    the first and the last option of every choice question; text and numbers for the others."""
    first: dict[str, str] = {}
    last: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for m in INPUT.finditer(page):
        tag, attrs = m.group(1).lower(), dict(ATTR.findall(m.group(2)))
        name = attrs.get("name", "")
        if not re.fullmatch(r"q\d+(\[\]|-\w+)?", name):
            continue
        kind = attrs.get("type", "text").lower()
        if attrs.get("inputmode") in ("decimal", "numeric"):
            kind = "number"
        if tag == "select":
            options = OPTION.findall(page[m.end():page.find("</select>", m.end())])
            options = [o for o in options if o]
            if options:
                first.setdefault(name, options[0])
                last[name] = options[-1]
        elif kind in ("radio", "checkbox"):
            if kind == "checkbox":
                multi.setdefault(name, []).append(attrs.get("value", "on"))
            first.setdefault(name, attrs.get("value", "on"))
            last[name] = attrs.get("value", "on")
        elif kind == "number":
            first.setdefault(name, "1")
            last[name] = "2"
        elif kind in ("text",) or tag == "textarea":
            first.setdefault(name, "respuesta")
            last[name] = "otra respuesta"
    return sorted(first.items()), sorted(last.items())

