"""The benchmark's database: a synthetic organisation, generated once and cached.

The seed is keyed by the migration head and files, the generator's source, the content files and the sizes,
so a rerun with nothing changed reuses it:
  * SQLite: .cache/bench/seed-<key>.sqlite3, copied to a scratch file for each run;
  * PostgreSQL: a database lms_bench_seed_<key> kept on the server, cloned for each run with
    CREATE DATABASE ... TEMPLATE (the run's database is dropped at the end).

On top of lms/demo/generate.py's organisation (prefix "bench") the seed adds what the figures need:
  * a 100-agent team ("bench equipo grande", agents moved from their generated teams) and its manager;
  * an admin (the organisation-wide dashboard);
  * two quizzes opened for repeated attempts (no attempt limit, no delay, no time limit): the load quiz
    (20 questions drawn) and the exam of the start spike.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "bench"
SEED_VERSION = "3"  # bump when this file changes what it writes (the key does not hash this file)
LOAD_QUIZ = "evaluacion-semana-1"
EXAM_QUIZ = "evaluacion-semana-2"
BIG_TEAM = "bench equipo grande"
BIG_TEAM_SIZE = 100
MANAGER = "bench-gerente-grande@example.com"
ADMIN = "bench-admin@example.com"


@dataclass(frozen=True)
class Sizes:
    agents: int
    teams: int
    attempts: int
    submissions: int


FULL = Sizes(10_000, 500, 1_000_000, 100_000)
SMALL = Sizes(1_000, 50, 100_000, 10_000)


def migration_head() -> str:
    from alembic.script import ScriptDirectory

    from lms.migrations import HERE, alembic_config

    cfg = alembic_config("sqlite://")
    cfg.set_main_option("script_location", str(HERE))
    return ",".join(sorted(ScriptDirectory.from_config(cfg).get_heads()))


def seed_key(sizes: Sizes) -> str:
    digest = hashlib.sha256()
    digest.update(f"{SEED_VERSION}|{migration_head()}|{json.dumps(asdict(sizes))}".encode())
    # the migration files themselves too: a placeholder revision filled in later keeps its id but changes the schema
    for path in [ROOT / "lms/demo/generate.py", *sorted((ROOT / "lms/migrations/versions").glob("*.py"))] + sorted(
            p for d in ("courses", "quizzes", "roleplays") for p in (ROOT / d).rglob("*")
            if p.is_file() and "calibration" not in p.parts):  # the pre-check's calibration set is never loaded
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _seed(url: str, sizes: Sizes, secret: str) -> None:
    """Migrate an empty database and write the organisation into it."""
    from sqlalchemy import select, text, update

    from lms import create_app
    from lms.accounts import services as accounts
    from lms.accounts.models import Team, TeamMembership, User
    from lms.content import sync
    from lms.core.clock import now_utc
    from lms.core.db import get_db
    from lms.demo.generate import Sizes as GenSizes, generate
    from lms.migrations import upgrade
    from lms.quizzes import services as quizzes
    from lms.quizzes.models import Question, QuestionBank

    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": secret})
    with app.app_context():
        session = get_db(app).sessionmaker()
        problems, _ = sync(session, ROOT)
        if problems:
            raise RuntimeError(f"content problems: {problems}")
        now = now_utc()
        generate(session, GenSizes(sizes.agents, sizes.teams, sizes.attempts, sizes.submissions), now=now, prefix="bench")
        # the two quizzes of the load: unlimited attempts, no delay, no time limit; 20 questions in the load quiz
        for slug in (LOAD_QUIZ, EXAM_QUIZ):
            quiz = quizzes.get_quiz(session, slug)
            settings = dict(quiz.settings, attempts_allowed=None, delay_between_attempts_minutes=None, time_limit_minutes=None)
            if slug == LOAD_QUIZ:
                bank = session.scalar(select(QuestionBank.slug).join(Question, Question.bank_id == QuestionBank.id)
                                      .group_by(QuestionBank.slug).order_by(text("count(*) desc")).limit(1))
                settings["draw"] = [{"bank": bank, "count": 20, "tags": []}]
            quiz.settings = settings
        # a 100-agent team with its own manager, and an admin
        team = Team(name=BIG_TEAM, created_at=now)
        session.add(team)
        manager = accounts.create_user(session, email=MANAGER, name="Gerente Grande", role="manager")
        admin = accounts.create_user(session, email=ADMIN, name="Admin Bench", role="admin")
        session.flush()
        session.add(TeamMembership(team_id=team.id, user_id=manager.id, kind="manager", created_at=now))
        movers = list(session.scalars(select(User.id).where(User.role == "agent", User.email.like("bench-agente%"))
                                      .order_by(User.id).limit(BIG_TEAM_SIZE)))
        session.execute(update(TeamMembership).where(TeamMembership.user_id.in_(movers), TeamMembership.kind == "agent")
                        .values(team_id=team.id))
        for user in (manager, admin):
            user.session_version = 1
        session.commit()
        session.close()
        get_db(app).engine.dispose()


def _pg_admin(base_url: str):
    import psycopg

    return psycopg.connect(base_url.replace("postgresql+psycopg://", "postgresql://").rstrip("/") + "/postgres", autocommit=True)


def prepare(kind: str, sizes: Sizes, secret: str, *, base_url: str, workdir: Path, log=print) -> str:
    """A fresh copy of the seeded database for one run; returns its URL."""
    key = seed_key(sizes)
    CACHE.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        seed = CACHE / f"seed-{key}.sqlite3"
        if not seed.exists():
            for old in [*CACHE.glob("seed-*.sqlite3*"), *CACHE.glob("building-*.sqlite3*")]:
                old.unlink()
            scratch = CACHE / f"building-{key}.sqlite3"
            log(f"seeding {sizes} into {seed.name} (once; cached) …")
            started = time.perf_counter()
            _seed(f"sqlite:///{scratch}", sizes, secret)
            conn = sqlite3.connect(scratch)  # fold the WAL into the file (closing the last connection removes it)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            scratch.rename(seed)
            log(f"seeded in {time.perf_counter() - started:.0f} s")
        else:
            log(f"reusing the cached seed {seed.name}")
        target = workdir / "bench.sqlite3"
        shutil.copyfile(seed, target)
        return f"sqlite:///{target}"
    # PostgreSQL
    seed_db, run_db = f"lms_bench_seed_{key}", "lms_bench_run"
    with _pg_admin(base_url) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (seed_db,)).fetchone()
        if not exists:
            for (old,) in conn.execute("select datname from pg_database where datname like 'lms_bench_seed_%%' "
                                       "or datname like 'lms_bench_building_%%'").fetchall():
                conn.execute(f'DROP DATABASE IF EXISTS "{old}"')
            building = f"lms_bench_building_{key}"
            conn.execute(f'DROP DATABASE IF EXISTS "{building}"')
            conn.execute(f'CREATE DATABASE "{building}"')
            log(f"seeding {sizes} into {seed_db} (once; kept as a template) …")
            started = time.perf_counter()
            _seed(_pg_url(base_url, building), sizes, secret)
            _vacuum(base_url, building, log)
            conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{seed_db}"')
            log(f"seeded in {time.perf_counter() - started:.0f} s")
        else:
            log(f"reusing the seed database {seed_db}")
            _vacuum(base_url, seed_db, log, only_if_never=True)
        conn.execute(f'DROP DATABASE IF EXISTS "{run_db}"')
        conn.execute(f'CREATE DATABASE "{run_db}" TEMPLATE "{seed_db}"')
    return _pg_url(base_url, run_db)


def _vacuum(base_url: str, name: str, log, *, only_if_never: bool = False) -> None:
    """VACUUM (FREEZE, ANALYZE) the seeded database, as autovacuum would have left an organisation's database of that
    age: the visibility map set (index-only scans, such as the dashboard's covering indexes, read no table pages),
    hint bits set and rows frozen (the first reads of each run's copy write nothing), statistics current. Without it,
    every run's copy of a freshly written database paid for all three during its figures (the team dashboard's
    released scores: a bitmap heap scan of 716 pages instead of an index-only scan). ``only_if_never``: a seed kept
    from before this step is vacuumed once (its largest table has no all-visible page yet)."""
    import psycopg

    url = base_url.replace("postgresql+psycopg://", "postgresql://").rstrip("/") + f"/{name}"
    with psycopg.connect(url, autocommit=True) as conn:
        if only_if_never:
            visible = conn.execute("select relallvisible from pg_class where relname = 'quiz_attempts'").fetchone()
            if visible and visible[0] > 0:
                return
        log(f"VACUUM (FREEZE, ANALYZE) {name} …")
        conn.execute("VACUUM (FREEZE, ANALYZE)")


def drop_run_database(kind: str, base_url: str) -> None:
    if kind == "postgresql":
        with _pg_admin(base_url) as conn:
            conn.execute('DROP DATABASE IF EXISTS "lms_bench_run" WITH (FORCE)')


def _pg_url(base_url: str, name: str) -> str:
    base = base_url.replace("postgresql://", "postgresql+psycopg://", 1).rstrip("/")
    return f"{base}/{name}"
