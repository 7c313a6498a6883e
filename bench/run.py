"""The benchmark of the LMS against its floor: `make bench` (SQLite) or `make bench DB=postgresql`.

Starts the floor (bench/floor_app.py: one primary-key read, one durable insert) and the LMS, both under
gunicorn with 2 sync workers on 127.0.0.1, against the same database (a copy of a cached synthetic
organisation: bench/seed.py), drives them with wrk (bench/wrk.lua) with minted, pre-authenticated
sessions, interleaves floor and LMS runs (3 rounds; medians), prints a table
(figure | LMS | floor | ratio | goal | ok), writes it to bench/results/latest-<db>.md, and exits 1 when a
goal is missed. Python clients are used where wrk cannot express the case: the exam-start spike (200
clients released together by a barrier) and the writers under contention (each writer keeps its own
worst latency and status counts).

    .venv/bin/python bench/run.py [--db sqlite|postgresql] [--small] [--only submit,read,...]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import floor_app, loadgen, seed  # noqa: E402
from bench.loadgen import Result, form, median, percentile, wrk, write_requests  # noqa: E402

SECRET = "bench-secret-" + "k" * 40  # nosec B105  # the throwaway benchmark's signing key
READERS = 500  # agents whose attempt pages the quiz-page figure reads (kept out of the submit rounds)
FIGURES = ("submit", "read", "dashboard", "memory", "spike", "writers", "login", "scale")


@dataclass
class Row:
    figure: str
    lms: str
    floor: str = "—"
    ratio: str = "—"
    goal: str = "—"
    ok: bool | None = None  # None: no goal


def ms(v: float) -> str:
    return "—" if v != v else (f"{v:.1f} ms" if v < 100 else f"{v:.0f} ms")


def log(msg: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {msg}", flush=True)


class Bench:
    def __init__(self, args):
        self.args = args
        self.rows: list[Row] = []
        self.workdir = Path(tempfile.mkdtemp(prefix="lms-bench-"))
        self.sizes = seed.SMALL if args.small else seed.FULL
        self.servers: list[loadgen.Server] = []
        self.floor_read: Result | None = None
        self.read_sample: tuple[int, int] | None = None  # (agent, attempt in progress) of the quiz-page reads
        self._read_attempts: dict[int, int] | None = None  # {reader: their attempt in progress}

    # setup ---------------------------------------------------------------------------------------------
    def setup(self) -> None:
        a = self.args
        self.url = seed.prepare(a.db, self.sizes, SECRET, base_url=a.postgresql_url, workdir=self.workdir, log=log)
        floor_app.prepare(self.url)
        from lms import create_app

        self.app = create_app({"DATABASE_URL": self.url, "SECRET_KEY": SECRET})
        self.env = dict(os.environ, DATABASE_URL=self.url, SECRET_KEY=SECRET, LMS_ENV="development", PYTHONPATH=str(ROOT))
        self.env.pop("FLASK_DEBUG", None)
        self._load_people()

    def _db(self):
        from lms.core.db import get_db

        return get_db(self.app).sessionmaker()

    def _load_people(self) -> None:
        from sqlalchemy import select

        from lms.accounts.models import Team, User
        from lms.quizzes.models import Quiz
        from lms.tracks.models import Enrollment, Module, TrackModule

        with self.app.app_context():
            s = self._db()
            self.quiz_ids = {slug: s.scalar(select(Quiz.id).where(Quiz.slug == slug)) for slug in (seed.LOAD_QUIZ, seed.EXAM_QUIZ)}
            self.eligible = {}
            for slug in (seed.LOAD_QUIZ, seed.EXAM_QUIZ):
                module = s.scalar(select(Quiz.module_slug).where(Quiz.slug == slug))
                self.eligible[slug] = list(s.scalars(
                    select(User.id).join(Enrollment, Enrollment.user_id == User.id)
                    .join(TrackModule, TrackModule.track_id == Enrollment.track_id).join(Module, Module.id == TrackModule.module_id)
                    .where(Module.slug == module, User.role == "agent", User.is_active_user.is_(True)).distinct().order_by(User.id)))
            self.versions = dict(s.execute(select(User.id, User.session_version).where(User.role == "agent")).all())
            self.manager = s.execute(select(User.id, User.session_version).where(User.email == seed.MANAGER)).one()
            self.admin = s.execute(select(User.id, User.session_version).where(User.email == seed.ADMIN)).one()
            self.big_team = s.scalar(select(Team.id).where(Team.name == seed.BIG_TEAM))
            self.agent_emails = dict(s.execute(select(User.id, User.email).where(User.role == "agent")).all())
            s.close()
        log(f"agents eligible for {seed.LOAD_QUIZ}: {len(self.eligible[seed.LOAD_QUIZ])}; "
            f"for {seed.EXAM_QUIZ}: {len(self.eligible[seed.EXAM_QUIZ])}")

    def cookie(self, user_id: int, version: int | None = None) -> tuple[str, str]:
        v = version if version is not None else self.versions.get(user_id, 1)
        return loadgen.mint_session(self.app, f"{user_id}:{v}")

    def start_servers(self, lms_count: int = 1) -> None:
        self.stop_servers()
        self.floor = loadgen.Server("bench.floor_app:app", self.env, self.workdir / "floor.log")
        self.lms = [loadgen.Server("lms:create_app()", self.env, self.workdir / f"lms{i}.log") for i in range(lms_count)]
        self.servers = [self.floor, *self.lms]
        for server in self.servers:  # first requests load templates, translations, pools
            client = loadgen.Client(server.port)
            deadline = time.time() + 60
            ok = 0
            while ok < 4:
                try:
                    status, _, _ = client.request("GET", "/read/1" if server is self.floor else "/login")
                    ok += status == 200
                except OSError:
                    status = 0
                if status != 200:
                    if time.time() > deadline:
                        raise RuntimeError(f"server on port {server.port} does not answer; see {server.log}")
                    time.sleep(0.5)
            client.close()
        for server in self.lms:
            self.warm(server)

    def warm(self, server) -> None:
        """Each page a figure reads, a few times (every worker compiles its templates and statements on first
        use, as the floor's warm-up reads do): the wrk runs then measure the steady state, not a cold start."""
        pages = [(self.manager, f"/manage/dashboard/?team={self.big_team}"), (self.admin, "/manage/dashboard/")]
        if self.eligible.get(seed.LOAD_QUIZ):
            pages.append(((self.eligible[seed.LOAD_QUIZ][0], None), f"/quizzes/{seed.LOAD_QUIZ}"))
        if self.read_sample is not None:
            pages.append(((self.read_sample[0], None), f"/attempts/{self.read_sample[1]}"))
        for (user_id, version), path in pages:
            client = loadgen.Client(server.port, cookie=self.cookie(user_id, version)[0])
            for _ in range(4):
                status, _, _ = client.request("GET", path)
                if status != 200:
                    raise RuntimeError(f"warming {path}: status {status}; see {server.log}")
            client.close()

    def stop_servers(self) -> None:
        for server in self.servers:
            server.stop()
        self.servers = []

    def add(self, *row, **kw) -> None:
        r = Row(*row, **kw)
        self.rows.append(r)
        mark = "" if r.ok is None else ("ok" if r.ok else "MISSED")
        log(f"  {r.figure}: LMS {r.lms} | floor {r.floor} | ratio {r.ratio} | goal {r.goal} {mark}")

    # in-process preparation ----------------------------------------------------------------------------
    def make_attempts(self, user_ids: list[int], slug: str) -> tuple[dict[int, int], list, list]:
        """One in-progress attempt of quiz ``slug`` for each user (the first started by the service, the
        others cloned from it in bulk); returns {user: attempt} and two different valid answer sets."""
        from sqlalchemy import func, insert, select

        from lms.accounts.models import User
        from lms.core.clock import now_utc
        from lms.core.db import refresh_statistics
        from lms.quizzes import services as quizzes
        from lms.quizzes.models import AttemptSlot, QuizAttempt

        with self.app.app_context():
            s = self._db()
            quiz = quizzes.get_quiz(s, slug)
            now = now_utc()
            template = quizzes.start_attempt(s, s.get(User, user_ids[0]), quiz, now=now)
            s.flush()
            slots = [dict(position=x.position, question_version_id=x.question_version_id, points=x.points, layout=x.layout)
                     for x in template.slots]
            attempts = {user_ids[0]: template.id}
            rest = user_ids[1:]
            numbers = {}
            for i in range(0, len(rest), 500):
                numbers.update(s.execute(select(QuizAttempt.user_id, func.max(QuizAttempt.number))
                                         .where(QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id.in_(rest[i:i + 500]))
                                         .group_by(QuizAttempt.user_id)).all())
            for i in range(0, len(rest), 500):
                chunk = rest[i:i + 500]
                rows = [dict(quiz_id=quiz.id, user_id=u, number=numbers.get(u, 0) + 1, state="in_progress", started_at=now,
                             pass_mark=template.pass_mark, seed=template.seed, revision=1, max_score=template.max_score) for u in chunk]
                ids = list(s.scalars(insert(QuizAttempt).returning(QuizAttempt.id, sort_by_parameter_order=True), rows))
                attempts.update(zip(chunk, ids))
                s.execute(insert(AttemptSlot), [dict(slot, attempt_id=a) for a in ids for slot in slots])
            s.commit()
            # a bulk load: the planner's statistics brought up to date, as autovacuum's analyze would within a minute
            # (this machine's PostgreSQL runs with autovacuum off: without it, the draw's "questions seen" read kept
            # the plan of an empty attempt_slots table and scanned all of it on every exam start, 30 ms each)
            refresh_statistics(s)
            s.commit()
            s.close()
        cookie, _ = self.cookie(user_ids[0])
        client = loadgen.Client(self.lms[0].port, cookie)  # through the running server: checks the minted cookie too
        status, headers, page = client.request("GET", f"/attempts/{template.id}")
        client.close()
        if status != 200:
            raise RuntimeError(f"the attempt page answered {status} {headers.get('location', '')}: is the minted session refused?")
        first, last = loadgen.answer_bodies(page.decode())
        if not first:
            raise RuntimeError("no answer fields found on the attempt page")
        return attempts, first, last

    def submitted(self, attempt_ids: list[int]) -> int:
        from sqlalchemy import func, select

        from lms.quizzes.models import QuizAttempt

        with self.app.app_context():
            s = self._db()
            n = 0
            for i in range(0, len(attempt_ids), 500):
                n += s.scalar(select(func.count()).where(QuizAttempt.id.in_(attempt_ids[i:i + 500]),
                                                         QuizAttempt.state.in_(("submitted", "graded"))))
            s.close()
        return n

    # figures -------------------------------------------------------------------------------------------
    def rounds(self, pairs) -> list[tuple[Result, Result]]:
        """Interleave the floor and the LMS: for each round, each (floor_fn, lms_fn) pair in turn."""
        out = [[] for _ in pairs]
        for r in range(self.args.rounds):
            for i, (floor_fn, lms_fn) in enumerate(pairs):
                floor, lms = self._with_cpu(self.floor, floor_fn, r), self._with_cpu(self.lms[0], lms_fn, r)
                log(f"    round {r + 1}: floor {floor.requests} req in {floor.seconds:.1f} s, p95 {ms(floor.p95)}, "
                    f"{floor.cpu_ms:.2f} CPU ms/req, {floor.statuses}; LMS {lms.requests} req in {lms.seconds:.1f} s, "
                    f"p95 {ms(lms.p95)}, {lms.cpu_ms:.2f} CPU ms/req, {lms.statuses}")
                out[i].append((floor, lms))
        return out

    def _with_cpu(self, server, fn, r) -> Result:
        """Run ``fn(r)`` and note the server's worker CPU time per answered request, and on PostgreSQL the database
        server's."""
        before, db_before, waited = server.cpu_seconds(), self._database_cpu(), server.run_queue_seconds()
        result = fn(r)
        if result.requests:
            result.cpu_ms = (server.cpu_seconds() - before) * 1000 / result.requests
            result.wait_ms = (server.run_queue_seconds() - waited) * 1000 / result.requests
            if self.args.db == "postgresql":
                result.db_cpu_ms = (self._database_cpu() - db_before) * 1000 / result.requests
        return result

    def figure_read_and_submit(self) -> None:
        a = self.args
        d, c = a.duration, a.clients
        files = self.workdir
        write_requests(files / "floor-read.txt", [("GET", f"/read/{i}", "", "") for i in range(1, floor_app.READ_ROWS + 1)])
        write_requests(files / "floor-insert.txt", [("POST", "/insert", "", "")])
        pool = [u for u in self.eligible[seed.LOAD_QUIZ] if u not in set(self.reserved)]
        readers = pool[-READERS:]
        if "read" in a.only:
            self.read_requests(readers)
        pairs = []
        if "read" in a.only:
            # cookies minted right before each run: a browser keeps the cookie a page refreshes (its last-seen time,
            # once a minute), wrk replays the file's; minted once, cookies over a minute old were re-signed on every
            # request of the later rounds, work a browser's requests do not repeat
            pairs.append((lambda r: wrk(self.floor.port, files / "floor-read.txt", connections=c, seconds=d),
                          lambda r: wrk(self.lms[0].port, self.read_requests(readers), connections=c, seconds=d)))
        submit_rounds = []
        if "submit" in a.only:
            pool = pool[:-READERS] if "read" in a.only else pool  # the readers' attempts stay in progress
            per_round = min(a.submits, len(pool) // a.rounds)
            log(f"preparing {per_round * a.rounds} attempts in progress ({per_round} a round) …")
            attempts, first, _ = self.make_attempts(pool[:per_round * a.rounds], seed.LOAD_QUIZ)
            round_users = [pool[r * per_round:(r + 1) * per_round] for r in range(a.rounds)]
            submit_rounds = [[attempts[u] for u in users] for users in round_users]

            def submit_requests(r) -> Path:
                """The round's submissions, with session cookies minted right before it (see read_requests)."""
                lines = []
                for u in round_users[r]:
                    cookie, token = self.cookie(u)
                    lines.append(("POST", f"/attempts/{attempts[u]}/submit", cookie, form(csrf_token=token) + "&" + form(first)))
                return write_requests(files / f"lms-submit-{r}.txt", lines)

            def lms_submit(r):
                res = wrk(self.lms[0].port, submit_requests(r), connections=c, seconds=d, once=True)
                done = self.submitted(submit_rounds[r])
                expected = min(res.requests, len(submit_rounds[r]))
                res.errors += max(0, expected - done)  # answered but not recorded: an error
                log(f"    submit round {r + 1}: {res.requests} requests, {done} attempts submitted in the database, "
                    f"statuses {res.statuses}")
                return res
            pairs.append((lambda r: wrk(self.floor.port, files / "floor-insert.txt", connections=c, seconds=d), lms_submit))
        log(f"floor/LMS rounds: {len(pairs)} pair(s) × {a.rounds} rounds × {d} s, {c} connections")
        results = self.rounds(pairs)
        i = 0
        if "read" in a.only:
            floor, lms = self._medians(results[i])
            ratio, rounds_ = self._paired(results[i], "rps")
            self.floor_read = floor
            i += 1
            self.add("2 quiz page throughput (req/s)", f"{lms.rps:.0f}", f"{floor.rps:.0f} (read)", f"{ratio:.2f} ({rounds_})",
                     "≥ 0.35", ratio >= 0.35)
            self.add("2 quiz page worker CPU per request", f"{lms.cpu_ms:.2f} ms", f"{floor.cpu_ms:.2f} ms (read)",
                     f"{lms.cpu_ms / floor.cpu_ms:.1f}", "— (load-robust)", None)
            self._database_cpu_row("2 quiz page", lms, floor, "read")
            self.add("2 quiz page p95 / errors", f"{ms(lms.p95)} / {lms.errors}", f"{ms(floor.p95)} / {floor.errors}",
                     f"{lms.p95 / floor.p95:.1f}", "0 errors", lms.errors == 0 and floor.errors == 0)
        if "submit" in a.only:
            floor, lms = self._medians(results[i])
            ratio, rounds_ = self._paired(results[i], "rps")
            p95, p95_rounds = self._paired(results[i], "p95")
            self.add("1 quiz submit throughput (req/s)", f"{lms.rps:.0f}", f"{floor.rps:.0f} (insert)", f"{ratio:.2f} ({rounds_})",
                     "≥ 0.25", ratio >= 0.25)
            self.add("1 quiz submit p95", ms(lms.p95), ms(floor.p95), f"{p95:.1f} ({p95_rounds})", "≤ 5×", p95 <= 5)
            self.add("1 quiz submit worker CPU per request", f"{lms.cpu_ms:.2f} ms", f"{floor.cpu_ms:.2f} ms (insert)",
                     f"{lms.cpu_ms / floor.cpu_ms:.1f}", "— (load-robust)", None)
            self.add("1 quiz submit worker waiting for a core per request", f"{lms.wait_ms:.2f} ms", f"{floor.wait_ms:.2f} ms (insert)",
                     f"{lms.wait_ms / floor.wait_ms:.1f}" if floor.wait_ms else "—", "— (where the cores went)", None)
            self._database_cpu_row("1 quiz submit", lms, floor, "insert")
            self.add("1 quiz submit errors (all rounds)", str(lms.errors), str(floor.errors), "—", "0",
                     lms.errors == 0 and floor.errors == 0)  # a failing floor is no floor

    def _database_cpu_row(self, figure: str, lms: Result, floor: Result, what: str) -> None:
        """On PostgreSQL: the database server's CPU per request beside the workers' (on 2 cores the two compete)."""
        if self.args.db == "postgresql":
            self.add(f"{figure} database server CPU per request", f"{lms.db_cpu_ms:.2f} ms", f"{floor.db_cpu_ms:.2f} ms ({what})",
                     f"{lms.db_cpu_ms / floor.db_cpu_ms:.1f}" if floor.db_cpu_ms else "—", "— (load-robust)", None)

    def read_requests(self, readers: list[int]) -> Path:
        """The quiz-page reads: each reader's own attempt in progress (its page of 20 questions). The attempts are made
        once; the file is written again on every call with session cookies minted then (see :meth:`cookie`)."""
        path = self.workdir / "lms-read.txt"
        if self._read_attempts is None:
            self._read_attempts, _, _ = self.make_attempts(readers, seed.LOAD_QUIZ)
            self.read_sample = (readers[0], self._read_attempts[readers[0]])
            first = True
        else:
            first = False
        write_requests(path, [("GET", f"/attempts/{self._read_attempts[u]}", self.cookie(u)[0], "") for u in readers])
        if first:
            for server in self.lms:
                self.warm(server)
        return path

    @staticmethod
    def _paired(pairs: list[tuple[Result, Result]], field: str) -> tuple[float, str]:
        """The median of the rounds' own LMS/floor ratios of ``field`` ("rps", "p95"), with every round's ratio as
        text. Each round runs the floor and the LMS back to back, so both meet the host as it is then; the ratio of the
        two sides' separate medians could pair the floor of one round with the LMS of another (until 2026-12-07 the
        tables gave that ratio: a quiz page of 0.39, 0.36 and 0.32 by round was reported as 0.33)."""
        ratios = [getattr(lms, field) / getattr(floor, field) for floor, lms in pairs]
        return median(ratios), " / ".join(f"{r:.2f}" for r in ratios)

    @staticmethod
    def _medians(pairs: list[tuple[Result, Result]]) -> tuple[Result, Result]:
        def med(results: list[Result]) -> Result:
            return Result(requests=int(median([x.rps for x in results]) * 1000), seconds=1000.0,
                          errors=sum(x.errors for x in results), p50=median([x.p50 for x in results]),
                          p95=median([x.p95 for x in results]), p99=median([x.p99 for x in results]),
                          max=max(x.max for x in results), cpu_ms=median([x.cpu_ms for x in results]),
                          db_cpu_ms=median([x.db_cpu_ms for x in results]), wait_ms=median([x.wait_ms for x in results]))
        return med([p[0] for p in pairs]), med([p[1] for p in pairs])

    def figure_dashboard(self) -> None:
        a = self.args
        # cookies minted right before each run, as read_requests does (a browser keeps the cookie a page refreshes)
        def team_file() -> Path:
            cookie, _ = self.cookie(self.manager[0], self.manager[1])
            return write_requests(self.workdir / "team.txt", [("GET", f"/manage/dashboard/?team={self.big_team}", cookie, "")])

        def org_file() -> Path:
            cookie, _ = self.cookie(self.admin[0], self.admin[1])
            return write_requests(self.workdir / "org.txt", [("GET", "/manage/dashboard/", cookie, "")])

        one, eight, sql, org = [], [], [], []
        for r in range(a.rounds):
            one.append(wrk(self.lms[0].port, team_file(), connections=1, seconds=a.duration))
            sql.append(self.hand_written_sql(max(10, min(one[-1].requests, 2000))))
            eight.append(wrk(self.lms[0].port, team_file(), connections=a.clients, seconds=a.duration))
            org.append(wrk(self.lms[0].port, org_file(), connections=1, seconds=max(a.duration, 10)))
            log(f"    dashboards round {r + 1}: team 1 client {ms(one[-1].p95)} ({one[-1].requests} req, {one[-1].statuses}), "
                f"SQL {ms(sql[-1])}, 8 clients {ms(eight[-1].p95)}, org {ms(org[-1].p95)} ({org[-1].requests} req, {org[-1].statuses})")
        p1, p8, ps, po = (median([x.p95 for x in one]), median([x.p95 for x in eight]), median(sql),
                          median([x.p95 for x in org]))
        errors = sum(x.errors for x in one + eight + org)
        self.add("3 team dashboard p95, 1 client (100 agents)", ms(p1), "—", "—", "≤ 20 ms", p1 <= 20 and errors == 0)
        self.add("3 team dashboard p95, 8 clients", ms(p8), "—", "—", "≤ 80 ms", p8 <= 80)
        self.add("3 team dashboard vs hand-written SQL (p95)", ms(p1), f"{ms(ps)} (SQL)", f"{p1 / ps:.1f}", "≤ 5×", p1 / ps <= 5)
        self.add("3 org-wide dashboard p95 (admin, all agents)", ms(po), "—", "—", "≤ 150 ms", po <= 150)
        if errors:
            self.add("3 dashboard errors", str(errors), "—", "—", "0", False)

    def hand_written_sql(self, times: int) -> float:
        """p95 (ms) of one SQL query computing the team dashboard's per-agent figures, run in-process."""
        from sqlalchemy import text

        from lms.core.clock import today

        with self.app.app_context():
            s = self._db()
            sqlite = s.get_bind().dialect.name == "sqlite"
            days = "julianday(:today) - julianday(e.start_date)" if sqlite else "(CAST(:today AS date) - e.start_date)"
            query = text(f"""
                SELECT u.id, u.name, t.title, e.start_date,
                  (SELECT count(*) FROM track_modules tm JOIN lessons l ON l.module_id = tm.module_id
                    WHERE tm.track_id = e.track_id AND NOT l.is_archived) AS steps,
                  (SELECT count(*) FROM lesson_completions lc JOIN lessons l ON l.id = lc.lesson_id
                    JOIN track_modules tm ON tm.module_id = l.module_id AND tm.track_id = e.track_id
                    WHERE lc.user_id = u.id) AS done,
                  (SELECT count(*) FROM track_modules tm JOIN lessons l ON l.module_id = tm.module_id
                    WHERE tm.track_id = e.track_id AND NOT l.is_archived AND tm.start_day + l.day <= {days}
                      AND NOT EXISTS (SELECT 1 FROM lesson_completions lc WHERE lc.user_id = u.id AND lc.lesson_id = l.id)) AS overdue,
                  (SELECT max(lc.completed_at) FROM lesson_completions lc WHERE lc.user_id = u.id) AS last_lesson,
                  (SELECT max(qs.last_activity_at) FROM quiz_summaries qs WHERE qs.user_id = u.id) AS last_quiz,
                  (SELECT avg(qs.grade) FROM quiz_summaries qs WHERE qs.user_id = u.id AND qs.grade IS NOT NULL) AS quiz_average,
                  (SELECT avg(rs.score) FROM roleplay_submissions rs WHERE rs.user_id = u.id AND rs.grade_state = 'released') AS roleplay_average,
                  (SELECT count(*) FROM certification_records cr WHERE cr.user_id = u.id AND cr.status = 'active') AS certifications
                FROM team_memberships m JOIN users u ON u.id = m.user_id
                LEFT JOIN enrollments e ON e.user_id = u.id LEFT JOIN tracks t ON t.id = e.track_id
                WHERE m.team_id = :team AND m.kind = 'agent' ORDER BY u.name""")
            params = {"team": self.big_team, "today": today().isoformat()}
            times_ms = []
            for _ in range(times):
                started = time.perf_counter()
                rows = s.execute(query, params).all()
                times_ms.append((time.perf_counter() - started) * 1000)
            assert len(rows) == seed.BIG_TEAM_SIZE, len(rows)
            s.close()
        return percentile(times_ms, 95)

    def figure_memory(self) -> None:
        a = self.args
        n = a.mem_requests
        log(f"memory: fresh servers, {n} then {5 * n} mixed requests each …")
        self.start_servers()
        users = self.eligible[seed.LOAD_QUIZ][-(16 + 200):-16] or self.eligible[seed.LOAD_QUIZ][:200]
        attempts, first, last = self.make_attempts(users[:50], seed.LOAD_QUIZ) if users else ({}, [], [])
        lms_lines = []
        lessons = self._lesson_slugs(users)
        for k, u in enumerate(users):
            cookie, token = self.cookie(u)
            lms_lines += [("GET", f"/quizzes/{seed.LOAD_QUIZ}", cookie, ""), ("GET", "/tracks", cookie, ""),
                          ("GET", "/", cookie, "")]
            if u in lessons:
                lms_lines.append(("GET", f"/lessons/{lessons[u]}", cookie, ""))
            if u in attempts:
                lms_lines += [("GET", f"/attempts/{attempts[u]}", cookie, ""),
                              ("POST", f"/attempts/{attempts[u]}/save", cookie, form(csrf_token=token) + "&" + form(first if k % 2 else last))]
        floor_lines = [("POST", "/insert", "", "") if i % 10 == 0 else ("GET", f"/read/{i}", "", "") for i in range(1, 1001)]
        figures = {}
        for name, server, lines in (("floor", self.floor, floor_lines), ("lms", self.lms[0], lms_lines)):
            def batch(count, tag):
                path = write_requests(self.workdir / f"mem-{name}-{tag}.txt", [lines[i % len(lines)] for i in range(count)])
                # "once" ends when every request is answered; the duration is only a safety net (≥ 1 req/s)
                res = wrk(server.port, path, connections=a.clients, seconds=120 + count, once=True)
                return res
            r1 = batch(n, "a")
            rss1 = server.worker_rss_mib()
            log(f"    {name}: the largest worker by kind (MiB): {server.worker_rss_kinds()}")
            r2 = batch(4 * n, "b")
            rss2 = server.worker_rss_mib()
            figures[name] = (rss1, rss2, r1.errors + r2.errors, r1.requests + r2.requests)
            log(f"    {name}: {r1.requests} requests → {rss1:.1f} MiB; {r1.requests + r2.requests} → {rss2:.1f} MiB; "
                f"errors {r1.errors + r2.errors}; statuses {r1.statuses} {r2.statuses}")
        (f1, f2, _, _), (l1, l2, lerr, _) = figures["floor"], figures["lms"]
        self.add(f"5 worker RSS after {n:,} mixed requests", f"{l1:.1f} MiB", f"{f1:.1f} MiB", f"{l1 / f1:.2f}", "≤ 1.5×",
                 l1 / f1 <= 1.5)
        self.add(f"5 worker RSS growth {n:,} → {5 * n:,} requests", f"{l2 - l1:+.1f} MiB", f"{f2 - f1:+.1f} MiB", "—", "≤ 8 MiB",
                 l2 - l1 <= 8 and lerr == 0)

    def _lesson_slugs(self, users: list[int]) -> dict[int, str]:
        """A lesson of each user's own track (one they may open)."""
        from sqlalchemy import select

        from lms.tracks.models import Enrollment, Lesson, TrackModule

        with self.app.app_context():
            s = self._db()
            out = {}
            for user_id, slug in s.execute(
                    select(Enrollment.user_id, Lesson.slug).join(TrackModule, TrackModule.track_id == Enrollment.track_id)
                    .join(Lesson, Lesson.module_id == TrackModule.module_id)
                    .where(Enrollment.user_id.in_(users), Lesson.is_archived.is_(False)).order_by(Lesson.id)):
                out.setdefault(user_id, slug)
            s.close()
        return out

    def figure_spike(self) -> None:
        """200 agents starting the exam at the same moment, ``rounds`` times (200 other agents each time: a start on an
        attempt in progress only resumes it); the median round's figures. One spike lasts about a second, so a single
        one is at the mercy of whatever else the host runs in that second (on a slow host, one of three spikes of the
        same commit took 2.1 s, the other two 0.9 and 1.1 s)."""
        from sqlalchemy import func, select

        from lms.quizzes.models import QuizAttempt

        spikes = []
        for r in range(self.args.rounds):
            users = self.eligible[seed.EXAM_QUIZ][200 * r:200 * (r + 1)]
            jobs = []
            for u in users:
                cookie, token = self.cookie(u)
                jobs.append((cookie, f"/quizzes/{seed.EXAM_QUIZ}/start", form(csrf_token=token)))
            since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
            cpu_before = self._spike_cpu()
            wall = time.perf_counter()
            latencies, answers = loadgen.spike(self.lms[0].port, jobs)
            wall = time.perf_counter() - wall
            cpu = {k: v - cpu_before[k] for k, v in self._spike_cpu().items()}
            errors = sum(1 for status, location in answers if status != 302 or "/attempts/" not in location)
            with self.app.app_context():
                s = self._db()
                created = s.scalar(select(func.count()).where(QuizAttempt.quiz_id == self.quiz_ids[seed.EXAM_QUIZ],
                                                              QuizAttempt.user_id.in_(users), QuizAttempt.state == "in_progress",
                                                              QuizAttempt.started_at >= since))
                s.close()
            p99 = percentile(latencies, 99)
            log(f"    spike {r + 1}: {len(users)} starts, statuses {sorted(set(a[0] for a in answers))}, {created} attempts created, "
                f"p50 {ms(percentile(latencies, 50))}, p99 {ms(p99)}, max {ms(max(latencies))}")
            # where the 2 cores went during the spike (CPU seconds, /proc): the LMS's workers, the database server's
            # processes (PostgreSQL), and this process's 200 client threads; against 2 × the wall time available
            log(f"    spike {r + 1} CPU: {wall:.2f} s wall × 2 cores = {2 * wall:.2f} core-s; LMS workers {cpu['workers']:.2f} s, "
                f"database server {cpu['database']:.2f} s, clients (this process) {cpu['clients']:.2f} s")
            spikes.append((p99, wall, cpu, errors, created, len(users)))
            time.sleep(2)  # (the last spike's writes settle)
        p99, wall, cpu, _errors, _created, n = sorted(spikes, key=lambda x: x[0])[len(spikes) // 2]
        errors, created, starts = (sum(x[3] for x in spikes), sum(x[4] for x in spikes), sum(x[5] for x in spikes))
        every = ", ".join(ms(x[0]) for x in spikes)
        if self.args.db == "postgresql":
            split = ", ".join(f"{k[3:]} {v:.2f} s" for k, v in cpu.items() if k.startswith("db "))
            log(f"    spike CPU of the database server by process (the median spike): {split}")
            self.add("6 exam start spike: database server CPU s by process", split, "—", "—", "— (where its time went)", None)
        self.add(f"6 exam start spike: {n} agents at once, p99 (median of {len(spikes)} spikes: {every})", ms(p99), "—", "—",
                 "≤ 2000 ms", p99 <= 2000)
        self.add("6 exam start spike: CPU s (LMS workers / database server / clients)",
                 f"{cpu['workers']:.2f} / {cpu['database']:.2f} / {cpu['clients']:.2f}", "—", "—",
                 f"— ({2 * wall:.2f} core-s in {wall:.2f} s)", None)
        self.add("6 exam start spike: errors / attempts in the database", f"{errors} / {created}", "—", "—",
                 f"0 / {starts}", errors == 0 and created == starts)

    def _spike_cpu(self) -> dict[str, float]:
        """CPU seconds used so far by the LMS's workers, the PostgreSQL server's processes (in all, and by kind) and
        this process."""
        usage = resource.getrusage(resource.RUSAGE_SELF)
        kinds = self._database_cpu_by_kind()
        return {"workers": self.lms[0].cpu_seconds(), "database": sum(kinds.values()),
                "clients": usage.ru_utime + usage.ru_stime, **{f"db {k}": v for k, v in kinds.items()}}

    def _database_cpu(self) -> float:
        """CPU seconds used so far by the PostgreSQL server's processes (0 on SQLite)."""
        return sum(self._database_cpu_by_kind().values())

    def _database_cpu_by_kind(self) -> dict[str, float]:
        """CPU seconds used so far by the PostgreSQL server's processes, by kind (from each one's title: the
        connections' backends, autovacuum, the background writers, the rest), plus what exited ones used (counted
        by the postmaster that reaped them: a closed connection's backend, a finished autovacuum worker). Empty on
        SQLite."""
        if self.args.db != "postgresql":
            return {}
        ticks = os.sysconf("SC_CLK_TCK")
        kinds = {"backends": 0, "autovacuum": 0, "writers": 0, "other": 0, "exited": 0}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if not (entry / "comm").read_text().strip().startswith("postgres"):
                        continue
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue
                own, children = int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])
                kinds["exited"] += children
                if "autovacuum" in title:
                    kinds["autovacuum"] += own
                elif any(w in title for w in ("checkpointer", "background writer", "walwriter", "wal writer")):
                    kinds["writers"] += own
                elif "postgres: " in title and any(w in title for w in ("idle", "SELECT", "INSERT", "UPDATE", "DELETE",
                                                                         "BEGIN", "COMMIT", "127.0.0.1", "[local]")):
                    kinds["backends"] += own
                else:
                    kinds["other"] += own
        return {k: v / ticks for k, v in kinds.items()}

    def figure_writers(self) -> None:
        a = self.args
        users = self.eligible[seed.LOAD_QUIZ][-16:]
        attempts, first, last = self.make_attempts(users, seed.LOAD_QUIZ)
        jobs = []
        for u in users:
            cookie, token = self.cookie(u)
            path = f"/attempts/{attempts[u]}/save"
            jobs.append((cookie, [(path, form(csrf_token=token) + "&" + form(first)), (path, form(csrf_token=token) + "&" + form(last))]))
        locked_before = self.lms[0].log_count("database is locked")
        log(f"writers: 16 writers saving answers for {a.writers_duration} s …")
        latencies, statuses = loadgen.writers(self.lms[0].port, jobs, a.writers_duration)
        locked = self.lms[0].log_count("database is locked") - locked_before
        bad = sum(n for status, n in statuses.items() if status >= 400)
        worst = max(latencies) if latencies else float("nan")
        log(f"    writers: {len(latencies)} saves ({len(latencies) / a.writers_duration:.0f}/s), statuses {statuses}, "
            f"p95 {ms(percentile(latencies, 95))}, max {ms(worst)}, 'database is locked' in the log: {locked}")
        self.add("6 16 writers: errors (locked / 4xx-5xx)", f"{locked} / {bad}", "—", "—", "0 / 0", locked == 0 and bad == 0)
        self.add("6 16 writers: max latency", ms(worst), "—", "—", "< 1000 ms", worst < 1000)

    def figure_login(self) -> None:
        from sqlalchemy import delete, func, select

        from lms.accounts.models import LoginAttempt, LoginThrottle
        from lms.demo.generate import PASSWORD

        a = self.args
        users = self.eligible[seed.LOAD_QUIZ][:400]
        lines = []
        for u in users:
            cookie, token = loadgen.mint_session(self.app, None)
            lines.append(("POST", "/login", cookie, form(csrf_token=token, email=self.agent_emails[u], password=PASSWORD)))
        path = write_requests(self.workdir / "login.txt", lines)
        with self.app.app_context():
            s = self._db()
            before = dict(s.execute(select(LoginAttempt.result, func.count()).group_by(LoginAttempt.result)).all())
            s.close()
        runs = [wrk(self.lms[0].port, path, connections=a.clients, seconds=a.duration) for _ in range(a.rounds)]
        with self.app.app_context():
            s = self._db()
            after = dict(s.execute(select(LoginAttempt.result, func.count()).group_by(LoginAttempt.result)).all())
            s.close()
        failed = sum(after.get(k, 0) - before.get(k, 0) for k in after if k != "success")
        p95 = median([r.p95 for r in runs])
        errors = sum(r.errors for r in runs) + failed
        log(f"    logins: {[r.requests for r in runs]} requests, statuses {[r.statuses for r in runs]}, refused {failed}")
        self.add(f"7 login p95, {a.clients} concurrent", ms(p95), "—", "—", "≤ 300 ms", p95 <= 300 and errors == 0)
        # the rate-limited answer: block one account (5 failures), then hammer it
        victim = self.agent_emails[users[-1]]
        client = loadgen.Client(self.lms[0].port)
        cookie, token = loadgen.mint_session(self.app, None)
        client.cookie = cookie
        for _ in range(6):
            client.request("POST", "/login", form(csrf_token=token, email=victim, password="wrong password"))
        client.close()
        blocked = write_requests(self.workdir / "login-429.txt",
                                 [("POST", "/login", cookie, form(csrf_token=token, email=victim, password="wrong password"))])
        runs = [wrk(self.lms[0].port, blocked, connections=a.clients, seconds=max(2, a.duration // 2)) for _ in range(a.rounds)]
        with self.app.app_context():
            s = self._db()
            s.execute(delete(LoginThrottle))  # unblock the address for the rest of the run
            s.commit()
            s.close()
        p95 = median([r.p95 for r in runs])
        not429 = sum(r.requests - r.statuses["s429"] for r in runs)
        floor_p95 = self.floor_read.p95 if self.floor_read else float("nan")
        ratio = p95 / floor_p95 if floor_p95 == floor_p95 else float("nan")
        log(f"    rate-limited logins: {[r.requests for r in runs]} requests, statuses {[r.statuses for r in runs]}")
        self.add("7 rate-limited login (429) p95", ms(p95), f"{ms(floor_p95)} (read)", f"{ratio:.1f}", "≤ 10×",
                 (ratio <= 10 if ratio == ratio else None) if not429 == 0 else False)
        if not429:
            self.add("7 rate-limited logins not answered 429", str(not429), "—", "—", "0", False)

    def figure_scale(self) -> None:
        a = self.args
        log("two app servers: quiz page reads, one server vs two (same total connections) …")
        self.start_servers(lms_count=2)
        readers = [u for u in self.eligible[seed.LOAD_QUIZ] if u not in set(self.reserved)][-READERS:]
        one, two = [], []
        for _ in range(a.rounds):
            path = self.read_requests(readers)  # fresh cookies for each run
            one.append(wrk(self.lms[0].port, path, connections=a.clients, seconds=a.duration).rps)
            procs = [subprocess.Popen([sys.executable, "-c", "import sys, json; sys.path.insert(0, sys.argv[1]);"
                                       "from bench.loadgen import wrk; from pathlib import Path;"
                                       "r = wrk(int(sys.argv[2]), Path(sys.argv[3]), connections=int(sys.argv[4]), seconds=float(sys.argv[5]));"
                                       "print(r.rps, r.errors)",
                                       str(ROOT), str(server.port), str(path), str(max(1, a.clients // 2)), str(a.duration)],
                                      stdout=subprocess.PIPE, text=True) for server in self.lms]
            outputs = [p.communicate()[0].split() for p in procs]
            two.append(sum(float(o[0]) for o in outputs))
        r1, r2 = median(one), median(two)
        self.add("scaling: quiz page req/s, 2 servers vs 1", f"{r2:.0f}", f"{r1:.0f} (1 server)", f"{r2 / r1:.2f}")

    # output --------------------------------------------------------------------------------------------
    def machine(self) -> list[tuple[str, str]]:
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), platform.processor())
        pg = "—"
        try:
            import psycopg

            with psycopg.connect(self.args.postgresql_url.rstrip("/") + "/postgres", connect_timeout=3) as conn:
                pg = conn.execute("show server_version").fetchone()[0]
        except Exception:  # noqa: BLE001 - not reachable: not reported
            pass
        return [("CPU", f"{cpu}, {os.cpu_count()} cores"), ("kernel", platform.release()),
                ("Python", platform.python_version()), ("SQLite", sqlite3.sqlite_version), ("PostgreSQL", pg),
                ("load average at start", self.load_at_start),
                ("date", dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))]

    def table(self) -> tuple[str, str]:
        head = ("figure", "LMS", "floor", "ratio", "goal", "ok")
        cells = [(r.figure, r.lms, r.floor, r.ratio, r.goal, "—" if r.ok is None else ("ok" if r.ok else "MISSED")) for r in self.rows]
        widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(head)]
        text_lines = [" | ".join(h.ljust(w) for h, w in zip(head, widths)), "-+-".join("-" * w for w in widths)]
        text_lines += [" | ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
        md = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(row) + " |" for row in cells]
        return "\n".join(text_lines), "\n".join(md)

    def report(self) -> None:
        text, md = self.table()
        print("\n" + text + "\n", flush=True)
        a = self.args
        size = "small" if a.small else "full"
        out = ROOT / "bench" / "results" / f"latest-{a.db}{'-small' if a.small else ''}.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        machine = "\n".join(f"- {k}: {v}" for k, v in self.machine())
        out.write_text(
            f"# Benchmark: {a.db}, {size} organisation\n\n"
            f"Organisation: {self.sizes.agents:,} agents in {self.sizes.teams} teams (+ a {seed.BIG_TEAM_SIZE}-agent team), "
            f"{self.sizes.attempts:,} quiz attempts, {self.sizes.submissions:,} role-play submissions.\n"
            f"Load: wrk, {a.clients} connections, {a.duration} s a run, {a.rounds} interleaved rounds (medians); "
            f"gunicorn, 2 sync workers, 127.0.0.1.\n\n{md}\n\nMachine:\n{machine}\n\n"
            f"Command: `{' '.join(['bench/run.py'] + sys.argv[1:])}`\n")
        log(f"written to {out.relative_to(ROOT)}")

    def run(self) -> int:
        a = self.args
        self.load_at_start = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        loadgen.ensure_wrk()
        try:
            self.setup()
            # users kept out of the submit rounds: the writers' own attempts and the memory mix
            self.reserved = self.eligible[seed.LOAD_QUIZ][-(16 + 200):]
            self.start_servers()
            if "read" in a.only or "submit" in a.only:
                self.figure_read_and_submit()
            if "dashboard" in a.only:
                self.figure_dashboard()
            if "spike" in a.only:
                self.figure_spike()
            if "writers" in a.only:
                self.figure_writers()
            if "login" in a.only:
                self.figure_login()
            if "memory" in a.only:
                self.figure_memory()
            if "scale" in a.only and a.servers >= 2:
                self.figure_scale()
        finally:
            self.stop_servers()
            if not a.keep:
                seed.drop_run_database(a.db, a.postgresql_url)
                for p in self.workdir.glob("*"):
                    p.unlink()
                self.workdir.rmdir()
            else:
                log(f"kept {self.workdir} (logs, request files, the SQLite copy)")
        self.report()
        missed = [r.figure for r in self.rows if r.ok is False]
        if missed:
            log(f"{len(missed)} goal(s) missed: {'; '.join(missed)}")
        return 1 if missed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Figures: " + ", ".join(FIGURES))
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgresql-url", default=os.environ.get("BENCH_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432/"),
                        help="the server where the benchmark creates (and drops) its databases")
    parser.add_argument("--small", action="store_true", help="1,000 agents in 50 teams, 100,000 attempts (quick checks)")
    parser.add_argument("--duration", type=int, default=None, help="seconds of each wrk run (default 10; 5 with --small)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved floor/LMS rounds (medians)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections")
    parser.add_argument("--submits", type=int, default=3000, help="at most this many distinct attempts submitted a round")
    parser.add_argument("--writers-duration", type=int, default=60, help="seconds of the 16 concurrent writers")
    parser.add_argument("--mem-requests", type=int, default=None,
                        help="mixed requests before the first RSS reading; the second is after 5× as many (default 10,000; 2,000 with --small)")
    parser.add_argument("--servers", type=int, default=1, choices=(1, 2), help="2: also the scaling figure with two app servers")
    parser.add_argument("--only", default=",".join(FIGURES), help="comma-separated figures to run (default: all)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory and the run database")
    args = parser.parse_args(argv)
    args.only = set(args.only.split(","))
    unknown = args.only - set(FIGURES)
    if unknown:
        parser.error(f"unknown figures: {', '.join(sorted(unknown))}")
    if args.duration is None:
        args.duration = 5 if args.small else 10
    if args.mem_requests is None:
        args.mem_requests = 2_000 if args.small else 10_000
    if "login" in args.only and "read" not in args.only:
        log("note: the rate-limited login is compared with the floor's read p95; without 'read' it has no ratio")
    return Bench(args).run()


if __name__ == "__main__":
    sys.exit(main())
