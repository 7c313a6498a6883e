"""A worker's resident memory after the memory figure's request mix, in-process (no server, no network).

Like a gunicorn worker of ``make bench``'s figure 5: a fresh process runs ``create_app()``, warms the pages the
benchmark warms (the admin's dashboard, the quiz page, an attempt page), then serves the mixed requests of the
figure through the Flask test client — quiz page, /tracks, /, a lesson, the attempt page and answer saves (two
answer sets in turn) of agents logged in with minted session cookies, as the benchmark's — and prints VmRSS
after ``create_app()``, after the warm-up and after the requests. The database (a small generated one: agents
enrolled in a track, a 20-question quiz, one attempt in progress each) is prepared by a separate process first.

    .venv/bin/python bench/memory_probe.py [--requests 10000] [--agents 50] [--floor] [--modules]

--floor measures the floor app (bench/floor_app.py: 9 reads to 1 insert) the same way; --modules lists the
top-level packages the worker imported after ``create_app()``. At the end: glibc's heap, SQLite's own memory, the
statement and template caches, and what ``malloc_trim`` and a full collection would give back. With PROBE_TRACE=N
in the environment, tracemalloc (N frames) lists what the requests left allocated, by file and by the innermost
line of the LMS (slow for N > 10). Figures of one machine and Python only: compare before and after a change with
the same command. The in-process floor is larger than under gunicorn (the test client, this script's imports):
compare the LMS's figures between versions, and the ratio with the benchmark's floor.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SLUG = "evaluacion-semana-1"
SECRET = "bench-" + "k" * 40
from bench.request_profile import rss_mib  # noqa: E402  (stdlib only at its top: the start figure stays the process's)

#: a function called with the app right after create_app (an analysis script's hook)
AFTER_APP = None


def prepare(url: str, n_agents: int, out: Path) -> None:
    """The database, and the attempts in progress: in this (separate) process."""
    from sqlalchemy import select

    from bench.quiz_submit import prepare as prepare_quiz
    from lms import create_app
    from lms.accounts.models import User
    from lms.core.clock import now_utc
    from lms.core.db import get_db
    from lms.quizzes import services as quizzes
    from lms.tracks.models import Enrollment, Lesson, TrackModule

    prepare_quiz(url, n_agents, "")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET})
    with app.app_context():
        s = get_db(app).sessionmaker()
        users = list(s.scalars(select(User).where(User.role == "agent").order_by(User.id)))
        admin = s.scalar(select(User).where(User.role == "admin"))
        quiz = quizzes.get_quiz(s, SLUG)
        attempts = {}
        for user in users:
            attempts[user.id] = quizzes.start_attempt(s, user, quiz, now=now_utc())
        s.flush()
        lesson = s.scalar(select(Lesson.slug).join(TrackModule, TrackModule.module_id == Lesson.module_id)
                          .join(Enrollment, Enrollment.track_id == TrackModule.track_id)
                          .where(Lesson.is_archived.is_(False)).order_by(Lesson.id).limit(1))
        data = {"users": [[u.id, u.session_version] for u in users], "admin": [admin.id, admin.session_version],
                "attempts": {str(k): v.id for k, v in attempts.items()}, "lesson": lesson}
        s.commit()
        s.close()
    out.write_text(json.dumps(data))


def measure_lms(url: str, data: dict, n_requests: int, show_modules: bool) -> None:
    from bench import loadgen

    before_modules = set(sys.modules)
    rss_start = rss_mib()
    from lms import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET})
    from lms.core.db import get_db

    if AFTER_APP is not None:
        AFTER_APP(app)
    if (ROOT / "gunicorn.conf.py").exists():  # as its post_worker_init does in each benchmark worker
        import gc

        gc.collect()
        gc.freeze()
    rss_app = rss_mib()
    if os.environ.get("PROBE_MALLOCSTATS"):
        _pymalloc_summary("after create_app")
    app_modules = set(sys.modules)
    if os.environ.get("PROBE_TRACE"):
        import tracemalloc

        tracemalloc.start(int(os.environ["PROBE_TRACE"]))
    environ = {"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": loadgen.USER_AGENT}

    def client_for(user):
        cookie, token = loadgen.mint_session(app, f"{user[0]}:{user[1]}")
        client = app.test_client()
        client.environ_base.update(environ)
        name, _, value = cookie.partition("=")
        client.set_cookie(name, value, domain="localhost")
        return client, token

    def get(client, path):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.headers.get("Location"))
        return response

    admin, _ = client_for(data["admin"])
    users = [tuple(u) for u in data["users"]]
    clients = {u: client_for(u) for u in users}
    attempts = {int(k): v for k, v in data["attempts"].items()}
    first_user = users[0]
    for _ in range(4):  # the benchmark's warm-up: dashboard, quiz page, attempt page
        get(admin, "/manage/dashboard/")
        get(clients[first_user][0], f"/quizzes/{SLUG}")
        page = get(clients[first_user][0], f"/attempts/{attempts[first_user[0]]}").get_data(as_text=True)
    first, last = loadgen.answer_bodies(page)
    rss_warm = rss_mib()
    if os.environ.get("PROBE_TRACE"):
        current, peak = tracemalloc.get_traced_memory()
        print(f"traced after warm-up: {current / 2**20:.1f} MiB, peak {peak / 2**20:.1f} MiB")

    lines = []
    for k, user in enumerate(users):
        lines += [("GET", f"/quizzes/{SLUG}", user), ("GET", "/tracks", user), ("GET", "/", user),
                  ("GET", f"/lessons/{data['lesson']}", user), ("GET", f"/attempts/{attempts[user[0]]}", user),
                  ("POST", (f"/attempts/{attempts[user[0]]}/save", first if k % 2 else last), user)]
    checkpoints = {}
    for i in range(n_requests):
        method, target, user = lines[i % len(lines)]
        client, token = clients[user]
        if method == "GET":
            get(client, target)
        else:
            path, answers = target
            response = client.post(path, data=loadgen.form([("csrf_token", token), *answers]),
                                   content_type="application/x-www-form-urlencoded")
            assert response.status_code in (200, 204, 302, 303), (path, response.status_code)
        if i + 1 in (n_requests // 10, n_requests // 2):
            checkpoints[i + 1] = rss_mib()
    rss_end = rss_mib()
    if os.environ.get("PROBE_MALLOCSTATS"):
        _pymalloc_summary("after the requests")
    import ctypes
    import gc

    info = _mallinfo()
    try:
        sqlite_lib = ctypes.CDLL("libsqlite3.so.0")
        sqlite_lib.sqlite3_memory_used.restype = ctypes.c_int64
        sqlite_used = sqlite_lib.sqlite3_memory_used() / 2**20
    except OSError:
        sqlite_used = float("nan")
    pool = get_db(app).engine.pool
    print(f"malloc: heap {info.arena / 2**20:.1f} MiB (in use {info.uordblks / 2**20:.1f}, free {info.fordblks / 2**20:.1f}), "
          f"mmap {info.hblkhd / 2**20:.1f} MiB; SQLite {sqlite_used:.1f} MiB; pool: {pool.status()}")
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    print(f"after malloc_trim: RSS {rss_mib():.1f} MiB")
    print(f"gc counts {gc.get_count()}, frozen {gc.get_freeze_count()}; a full collection finds {gc.collect()} objects "
          f"→ RSS {rss_mib():.1f} MiB")
    print("RSS by kind: " + ", ".join(_status_kinds()) + "; largest mappings: "
          + ", ".join(f"{name} {mib:.1f}" for name, mib in _largest_mappings(10)))
    print(f"LMS: start {rss_start:.1f} MiB; after create_app {rss_app:.1f}; after warm-up {rss_warm:.1f}; "
          + "; ".join(f"after {n:,} requests {v:.1f}" for n, v in checkpoints.items())
          + f"; after {n_requests:,} requests {rss_end:.1f} MiB")
    if os.environ.get("PROBE_TRACE"):
        import tracemalloc

        snap = tracemalloc.take_snapshot()
        from collections import Counter

        by_lms = Counter()
        for trace in snap.traces:
            frames = [f for f in trace.traceback if "/lms/" in f.filename and "/site-packages/" not in f.filename][::-1]
            key = f"{frames[0].filename.replace(str(ROOT), '')}:{frames[0].lineno}" if frames else "(no lms frame)"
            inner = trace.traceback[-1]
            by_lms[(key, inner.filename.split("site-packages/")[-1].split("python3.11/")[-1])] += trace.size
        print(f"--- traced after create_app: {sum(by_lms.values()) / 2**20:.1f} MiB in all; by library: "
              + ", ".join(f"{name} {size / 2**20:.1f}" for name, size in _by_library(snap).most_common(8)))
        if os.environ.get("PROBE_LIBRARY"):
            library = os.environ["PROBE_LIBRARY"]
            by_caller = Counter()
            for trace in snap.traces:
                frames = [f for f in trace.traceback if not f.filename.startswith("<frozen")]
                if frames and f"/{library}/" in frames[-1].filename:
                    ours = [f for f in frames if "/lms/" in f.filename and "/site-packages/" not in f.filename]
                    mine = (f"{ours[-1].filename.split('/lms/')[-1]}:{ours[-1].lineno}" if ours else "-")
                    by_caller[(mine, f"{frames[-1].filename.split('/site-packages/')[-1]}:{frames[-1].lineno}")] += trace.size
            print(f"--- {library}'s allocations by innermost lms frame and line:")
            for (mine, line), size in by_caller.most_common(40):
                print(f"  {size / 1024:8.0f} KiB  {mine}  <- {line}")
        print("--- traced after create_app, by innermost lms frame and allocating file:")
        for (key, inner), size in by_lms.most_common(40):
            print(f"  {size / 1024:8.0f} KiB  {key}  <- {inner}")
        for kind in ("filename", "lineno"):
            print(f"--- traced after create_app, by {kind}:")
            for stat in snap.statistics(kind)[:30]:
                print(f"  {stat.size / 1024:8.0f} KiB {stat.count:7d}  {stat.traceback[0].filename.replace(str(ROOT), '')}:{stat.traceback[0].lineno if kind == 'lineno' else ''}")
    print(f"SQLAlchemy compiled cache: {len(get_db(app).engine._compiled_cache)} entries; "
          f"Jinja cache: {len(app.jinja_env.cache) if app.jinja_env.cache is not None else 0} templates")
    from lms.quizzes import versions

    fragments = list(versions.FRAGMENTS._entries.items())
    size = sum(sys.getsizeof(html) + sum(sys.getsizeof(part) for part in key) for key, html in fragments)
    html_size = sum(sys.getsizeof(html) for _, html in fragments)
    print(f"question fragments: {len(fragments)} of {versions.FRAGMENTS.maxsize} ({size / 2**20:.2f} MiB, keys and HTML; "
          f"HTML {html_size / 2**20:.2f}); "
          f"versions: {len(versions.CACHE)}")
    print(f"modules: {len(before_modules)} at start, {len(app_modules)} after create_app, {len(sys.modules)} at the end")
    if show_modules:
        from collections import Counter

        def tops(names):
            return Counter(n.split(".")[0] if not n.startswith("lms.") else ".".join(n.split(".")[:2]) for n in names)

        print("imported by create_app:", sorted(tops(app_modules - before_modules).items()))
        print("imported by requests:  ", sorted(tops(set(sys.modules) - app_modules).items()))


def _by_library(snap):
    """Traced sizes by the package of the innermost frame outside the import machinery."""
    from collections import Counter

    sizes = Counter()
    for trace in snap.traces:
        frames = [f.filename for f in trace.traceback if not f.filename.startswith("<frozen")]
        name = frames[-1] if frames else "(import)"
        if "/site-packages/" in name:
            name = name.split("/site-packages/")[1].split("/")[0]
        elif "/lms/" in name:
            name = "lms." + name.split("/lms/")[1].split("/")[0].removesuffix(".py")
        else:
            name = name.rsplit("/", 1)[-1]
        sizes[name] += trace.size
    return sizes


def _mallinfo():
    """glibc's heap figures (mallinfo2): arena (the heap's size), uordblks (in use), fordblks (free), hblkhd (mmap)."""
    import ctypes

    class MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                                                    "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    return libc.mallinfo2()


def _pymalloc_summary(when: str) -> None:
    """Python's object allocator (pymalloc) in a line: its arenas, and how much of them holds live objects."""
    with tempfile.TemporaryFile(mode="w+") as f:
        fd = os.dup(2)
        try:
            os.dup2(f.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(fd, 2)
            os.close(fd)
        f.seek(0)
        text = f.read()
    keep = ("arenas allocated current", "arenas highwater mark", "bytes in allocated blocks", "bytes in available blocks",
            "unused pools", "bytes lost to quantization")
    figures = []
    for line in text.splitlines():
        name, _, value = line.rpartition("=")
        if any(k in name for k in keep):
            figures.append(f"{name.strip(' #')}: {int(value.replace(',', '').strip()) / (2**20 if 'bytes' in name or 'pools' in name else 1):.1f}")
    info = _mallinfo()
    print(f"pymalloc {when}: " + "; ".join(figures) + f"; malloc heap {info.arena / 2**20:.1f} MiB (in use "
          f"{info.uordblks / 2**20:.1f}), mmap {info.hblkhd / 2**20:.1f} MiB; RSS {rss_mib():.1f} MiB")


def _status_kinds() -> list[str]:
    """Anonymous memory (the heap: Python's objects) against file pages (shared libraries' code and data)."""
    with open("/proc/self/status") as f:
        return [f"{k} {int(v.split()[0]) / 1024:.1f} MiB" for k, v in (line.split(":", 1) for line in f)
                if k in ("RssAnon", "RssFile")]


def _largest_mappings(n: int) -> list[tuple[str, float]]:
    """The mappings holding the most resident memory, by file name ("[anon]" for the heap and anonymous ones)."""
    sizes: dict[str, float] = {}
    name = "[anon]"
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split()
            if head and "-" in head[0] and not line.startswith(("Rss", "Size")) and ":" not in head[0]:
                name = os.path.basename(head[5]) if len(head) > 5 else "[anon]"
            elif line.startswith("Rss:"):
                sizes[name] = sizes.get(name, 0.0) + int(head[1]) / 1024
    return sorted(sizes.items(), key=lambda item: -item[1])[:n]


def measure_floor(url: str, n_requests: int) -> None:
    os.environ["DATABASE_URL"] = url
    from bench import floor_app

    floor_app.prepare(url)
    rss_start = rss_mib()
    app = floor_app.create_app()
    client = app.test_client()
    for i in range(1, 5):
        client.get(f"/read/{i}")
    for i in range(n_requests):
        response = client.post("/insert") if i % 10 == 0 else client.get(f"/read/{i % 1000 + 1}")
        assert response.status_code in (200, 201), response.status_code
    print(f"floor: start {rss_start:.1f} MiB; after {n_requests:,} requests {rss_mib():.1f} MiB")
    print("RSS by kind: " + ", ".join(_status_kinds()) + "; largest mappings: "
          + ", ".join(f"{name} {mib:.1f}" for name, mib in _largest_mappings(10)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--floor", action="store_true", help="also measure the floor app (in its own process)")
    parser.add_argument("--modules", action="store_true", help="list the packages imported by create_app and by the requests")
    parser.add_argument("--keep", default=None, help="a folder to keep (and reuse) the prepared database in")
    parser.add_argument("--_measure", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--_prepare", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--_floor", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._prepare:
        url, out = args._prepare.split("|")
        prepare(url, args.agents, Path(out))
        return 0
    if args._measure:
        url, out = args._measure.split("|")
        measure_lms(url, json.loads(Path(out).read_text()), args.requests, args.modules)
        return 0
    if args._floor:
        measure_floor(args._floor, args.requests)
        return 0
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="lms-memory-"))
    workdir.mkdir(parents=True, exist_ok=True)
    url, out = f"sqlite:///{workdir / 'probe.sqlite3'}", workdir / "probe.json"
    me = [sys.executable, str(Path(__file__).resolve()), "--agents", str(args.agents), "--requests", str(args.requests)]
    try:
        if not out.exists():
            subprocess.run([*me, "--_prepare", f"{url}|{out}"], check=True, cwd=ROOT)
        subprocess.run([*me, "--_measure", f"{url}|{out}", *(["--modules"] if args.modules else [])], check=True, cwd=ROOT)
        if args.floor:
            subprocess.run([*me, "--_floor", f"sqlite:///{workdir / 'floor.sqlite3'}"], check=True, cwd=ROOT)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
