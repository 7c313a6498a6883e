"""Large CSV imports as background jobs: the upload is stored as a :class:`CsvImportJob` and the worker runs it
through the durable outbox (kind ``csv-import``) in steps, so no request waits on it and the admin sees progress:

1. *prepare*, :data:`CHUNK` rows at a time (one outbox message each, its own transaction): each row's password is
   checked against the policy and hashed — the slow part of an import (argon2) — and the progress is saved;
2. *write*: :func:`lms.accounts.services.import_users_csv` with the prepared hashes, in one transaction: every
   row or none (unless the admin chose to skip invalid rows); the result (imported, errors) is kept on the job.

Other kinds (enrollments, registered by lms.tracks with :func:`register_writer`) have no prepare step: their
write step runs the import in one transaction the same way.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.accounts import services
from lms.accounts.models import CsvImportJob
from lms.core import outbox
from lms.core.db import get_session
from lms.core.errors import NotFound
from lms.core.security import hash_password, password_problem

KIND = "csv-import"
#: rows prepared per step
CHUNK = 100
#: imports with more data rows than this run as a job (CSV_IMPORT_INLINE_ROWS)
INLINE_ROWS = 200


#: kind → writer(session, job, now) → CsvImportResult, for the kinds other domains import (all or nothing)
WRITERS: dict[str, Callable] = {}


def register_writer(kind: str, writer: Callable) -> None:
    WRITERS[kind] = writer


def data_rows(text: str) -> int:
    """About how many data rows ``text`` has (its lines less the header): decides inline or job."""
    return max(0, len([line for line in text.splitlines() if line.strip()]) - 1)


def start_users_import(session: Session, text: str, *, skip_invalid: bool, actor, now: datetime,
                       locale: str | None = None) -> CsvImportJob:
    rows, _problems = services.read_csv(text, ("email", "name", "role"), ("team", "password"))
    job = CsvImportJob(kind="users", created_by_id=actor.id if actor else None, created_at=now, text=text,
                       skip_invalid=skip_invalid, status="queued", total=len(rows), processed=0, imported=0, errors=[],
                       prepared={}, rolled_back=False, locale=locale)
    session.add(job)
    session.flush()
    _queue(session, job, 0, now)
    return job


def start_import(session: Session, kind: str, text: str, *, skip_invalid: bool, actor, now: datetime,
                 locale: str | None = None) -> CsvImportJob:
    """A background import of ``kind`` (a registered writer), queued for the worker."""
    job = CsvImportJob(kind=kind, created_by_id=actor.id if actor else None, created_at=now, text=text,
                       skip_invalid=skip_invalid, status="queued", total=data_rows(text), processed=0, imported=0, errors=[],
                       prepared={}, rolled_back=False, locale=locale)
    session.add(job)
    session.flush()
    _queue(session, job, 0, now)
    return job


def _queue(session: Session, job: CsvImportJob, offset: int, now: datetime) -> None:
    outbox.enqueue(session, kind=KIND, dedupe_key=f"{KIND}:{job.id}:{offset}", payload={"job_id": job.id, "offset": offset},
                   now=now)


def get_job(session: Session, job_id: int) -> CsvImportJob:
    job = session.get(CsvImportJob, job_id)
    if job is None:
        raise NotFound("import job")
    return job


def run_step(session: Session, job_id: int, offset: int, *, now: datetime) -> None:
    """One step of a job: prepare the rows from ``offset`` (then queue the next step), or write everything."""
    job = session.get(CsvImportJob, job_id)
    if job is None or job.status in ("done", "failed"):
        return
    rows, problems = (services.read_csv(job.text, ("email", "name", "role"), ("team", "password")) if job.kind == "users"
                      else ([], []))
    if offset < len(rows) and not problems:
        job.status = "preparing"
        prepared = dict(job.prepared or {})
        for line, row in rows[offset:offset + CHUNK]:
            password = row.get("password")
            if password and password_problem(password, email=row.get("email", ""), name=row.get("name", "")) is None:
                prepared[str(line)] = hash_password(password)
        job.prepared = prepared
        job.processed = min(len(rows), offset + CHUNK)
        _queue(session, job, offset + CHUNK, now)
        session.flush()
        return
    job.status = "writing"
    from flask_babel import force_locale

    with force_locale(job.locale or "es"):  # the row errors in the language of the person who started it
        if job.kind == "users":
            result = services.import_users_csv(session, job.text, skip_invalid=job.skip_invalid,
                                               password_hashes=job.prepared or {})
        else:
            result = WRITERS[job.kind](session, job, now)
    job.imported, job.errors, job.rolled_back = result.imported, [list(e) for e in result.errors], result.rolled_back
    job.processed = job.total
    job.status, job.finished_at = ("failed" if result.rolled_back else "done"), now
    job.text, job.prepared = "", {}  # the upload (addresses, passwords) is not kept once done
    session.flush()


def recent_jobs(session: Session, kind: str = "users", limit: int = 10) -> list[CsvImportJob]:
    return list(session.scalars(select(CsvImportJob).where(CsvImportJob.kind == kind).order_by(CsvImportJob.id.desc()).limit(limit)))


def sender_factory(config) -> outbox.Sender:
    def send(payload: dict) -> None:
        from lms.core.clock import now_utc

        run_step(get_session(), int(payload["job_id"]), int(payload["offset"]), now=now_utc())

    return send
