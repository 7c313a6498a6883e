"""Consistent backups of the database and their restore (``flask --app lms db backup|restore``).

- SQLite: the online backup API copies a consistent snapshot while the site keeps writing (WAL: writers
  are not blocked); the copy is checked with ``PRAGMA integrity_check`` before it replaces PATH. A
  restore copies the backup into the target database through the same API (one transaction).
- PostgreSQL: ``pg_dump -Fc`` (a consistent snapshot, the site keeps running) and ``pg_restore --clean
  --if-exists --single-transaction``. The client programs must be installed (package postgresql-client,
  the server's major version or newer); the password, if any, travels in PGPASSWORD, never on the
  command line.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess  # nosec B404  # pg_dump/pg_restore with an argument list, never a shell
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    """The backup or restore could not be made; the message says why."""


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _pg_command(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise BackupError(f"{program} not found: install the PostgreSQL client programs (apt-get install postgresql-client)")
    return found


def _pg_connection(url: str) -> tuple[list[str], dict]:
    """libpq arguments (no password) and the environment carrying the password."""
    parsed = make_url(url)
    args = []
    if parsed.host:
        args += ["--host", parsed.host]
    if parsed.port:
        args += ["--port", str(parsed.port)]
    if parsed.username:
        args += ["--username", parsed.username]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return args, env


def _run(argv: list[str], env: dict) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=3600)  # nosec B603  # fixed program, argument list
    if result.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")


def backup(url: str, path: str | Path) -> Path:
    """Write a consistent backup of the database at ``url`` to ``path`` (replaced only once complete)."""
    target = Path(path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    dialect = make_url(url).get_backend_name()
    if dialect == "sqlite":
        source_path = _sqlite_path(url)
        if not source_path.exists():
            raise BackupError(f"no database at {source_path}")
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)  # all pages in one step: one consistent snapshot
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            copy.close()
            source.close()
        if verdict != "ok":
            partial.unlink(missing_ok=True)
            raise BackupError(f"the copy failed its integrity check: {verdict}")
    elif dialect == "postgresql":
        args, env = _pg_connection(url)
        _run([_pg_command("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(partial), *args,
              "--dbname", make_url(url).database], env)
    else:
        raise BackupError(f"backups of {dialect} databases are not supported")
    os.replace(partial, target)
    return target


def is_empty(url: str) -> bool:
    """True when no table but alembic_version holds a row (a fresh or migrated-but-unused database)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                if table == "alembic_version":
                    continue
                if conn.execute(text(f'SELECT 1 FROM "{table}" LIMIT 1')).first() is not None:  # nosec B608  # table names from the catalog
                    return False
        return True
    finally:
        engine.dispose()


def restore(url: str, path: str | Path, *, force: bool = False) -> None:
    """Replace the database at ``url`` by the backup at ``path``. Refused on a database holding rows unless ``force``."""
    source = Path(path)
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    if not force and not is_empty(url):
        raise BackupError("the database is not empty: restoring replaces everything in it; repeat with --yes to confirm")
    dialect = make_url(url).get_backend_name()
    if dialect == "sqlite":
        with open(source, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise BackupError(f"{source} is not a SQLite database")
        target_path = _sqlite_path(url)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(target_path, timeout=30)
        try:
            verdict = backup_db.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise BackupError(f"the backup failed its integrity check: {verdict}")
            backup_db.backup(target)
            target.execute("PRAGMA journal_mode=WAL")
        finally:
            target.close()
            backup_db.close()
    elif dialect == "postgresql":
        args, env = _pg_connection(url)
        _run([_pg_command("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
              *args, "--dbname", make_url(url).database, str(source)], env)
    else:
        raise BackupError(f"restoring {dialect} databases is not supported")
