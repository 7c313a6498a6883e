"""Organisation exports prepared in the background: past :data:`BACKGROUND_AGENTS` agents (EXPORT_BACKGROUND_AGENTS)
an export takes more than a few seconds (about 4 s per 10,000 agents on the benchmark machine), so the export link
offers to prepare it instead of holding a request open. The request stores an :class:`ExportJob`; the worker runs
it through the durable outbox (kind ``export``), :data:`STEP` agents per step, each step in its own transaction:

- the rows are read a batch at a time by keyset (lms.reporting.services.agent_batches), from the cursor kept on the
  job (the last agent written), in a read session of their own, and appended to the job's file in the exports
  folder (EXPORTS_FOLDER, the instance folder's ``exports/`` by default: the worker and the site must share it);
- the step commits the cursor, the counts and how many bytes of the file are written; a step that is retried
  (its transaction failed after the file was appended to) first cuts the file back to that size, so no line is
  written twice;
- the last step marks the job done; the requester (or an admin) downloads the file until it expires
  (EXPORT_KEEP_HOURS), after which the periodic jobs delete it.

The requester's rights are read again at every step: a manager who no longer supervises the team gets no rows.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.accounts import services as accounts
from lms.core import outbox
from lms.core.db import get_db, get_session, write_intent
from lms.core.errors import NotFound
from lms.reporting import exports, services
from lms.reporting.models import ExportJob

KIND = "export"
#: "progress": the progress CSV; "certifications": the certifications CSV
KINDS = ("progress", "certifications")
#: agents written per worker step: about 0.2 s of CPU (50,000 agents take about 5 s), so the worker's transaction
#: (on SQLite, the write lock) is never held long, and the progress page moves every few seconds
STEP = 2000
#: scopes with more agents than this are exported in the background (EXPORT_BACKGROUND_AGENTS); 10,000 agents
#: stream in about 4 s, the most a download link should make someone wait
BACKGROUND_AGENTS = 10_000
#: hours a prepared export can be downloaded (EXPORT_KEEP_HOURS)
KEEP_HOURS = 24
ACTIVE = ("queued", "running")


def background_agents(config) -> int:
    value = config.get("EXPORT_BACKGROUND_AGENTS")
    return BACKGROUND_AGENTS if value is None else int(value)


def folder(app=None) -> Path:
    app = app or current_app
    return Path(app.config.get("EXPORTS_FOLDER") or Path(app.instance_path) / "exports")


def start(session: Session, *, kind: str, fmt: str, team_id: int | None, actor, total: int, locale: str, time_zone: str,
          now: datetime) -> ExportJob:
    """Queue an export of ``kind`` for the worker; ``total``: the agents in its scope now (the progress bar's end)."""
    job = ExportJob(kind=kind, format=fmt, team_id=team_id, created_by_id=actor.id, created_at=now, locale=locale,
                    time_zone=time_zone, status="queued", total=total, processed=0, rows=0, size=0, file_name="")
    session.add(job)
    session.flush()
    job.file_name = f"{job.id}-{secrets.token_hex(8)}.csv"
    _queue(session, job, now)
    return job


def _queue(session: Session, job: ExportJob, now: datetime) -> None:
    outbox.enqueue(session, kind=KIND, dedupe_key=f"{KIND}:{job.id}:{job.processed}",
                   payload={"job_id": job.id, "processed": job.processed}, now=now)


def get_job(session: Session, job_id: int) -> ExportJob:
    job = session.get(ExportJob, job_id)
    if job is None:
        raise NotFound("export job")
    return job


def may_download(job: ExportJob, user) -> bool:
    """Only the person who asked for the export, and admins."""
    return user.role == "admin" or job.created_by_id == user.id


def recent_jobs(session: Session, user, limit: int = 5) -> list[ExportJob]:
    return list(session.scalars(select(ExportJob).where(ExportJob.created_by_id == user.id)
                                .order_by(ExportJob.id.desc()).limit(limit)))


def path_of(job: ExportJob, where: Path | None = None) -> Path:
    return (where or folder()) / job.file_name


def run_step(session: Session, job_id: int, *, now: datetime, where: Path, step: int | None = None) -> None:
    """One step: up to ``step`` agents after the job's cursor appended to its file; then the next step is queued,
    or the job is done."""
    job = session.get(ExportJob, job_id)
    if job is None or job.status not in ACTIVE:
        return
    step = step or STEP
    requester = accounts.get_user(session, job.created_by_id)
    team_ids = [t for t in accounts.supervised_team_ids(session, requester) if job.team_id in (None, t)]
    zone = ZoneInfo(job.time_zone)
    from flask_babel import force_locale

    where.mkdir(parents=True, exist_ok=True)
    path = where / job.file_name
    if job.status == "running" and not path.exists():  # the file went missing mid-way: start it again
        job.status, job.processed, job.rows, job.size, job.cursor_name, job.cursor_id = "queued", 0, 0, 0, None, None
    reader = get_db().sessionmaker()  # emptied batch by batch; the job stays in the worker's session
    # the reader only reads: a plain BEGIN (on SQLite, BEGIN IMMEDIATE would wait for the write lock the worker's
    # own transaction holds, for ever)
    reading = write_intent.set(False)
    try:
        with force_locale(job.locale or "es"), open(path, "r+b" if job.status == "running" else "wb") as out:
            style = exports.style_for(job.kind, job.format, zone)
            if job.status == "queued":
                header = services.csv_header(style) if job.kind == "progress" else services.certification_csv_header(style)
                out.write(header.encode())
                job.status, job.size = "running", out.tell()
            out.truncate(job.size)  # a retried step: what the failed one appended is cut off
            out.seek(job.size)
            after = (job.cursor_name, job.cursor_id) if job.cursor_id is not None else None
            today, written, finished = now.astimezone(zone).date(), 0, True
            for agents in services.agent_batches(reader, team_ids, services.EXPORT_BATCH, after):
                if job.kind == "progress":
                    lines = list(services.csv_lines(services.dashboard(reader, agents, today, now), style, header=False))
                else:
                    lines = list(services.certification_lines(reader, agents, now, style))
                out.write("".join(lines).encode())
                job.rows += len(lines)
                job.processed += len(agents)
                job.cursor_name, job.cursor_id = agents[-1].name, agents[-1].id
                written += len(agents)
                if written >= step and len(agents) == services.EXPORT_BATCH:
                    finished = False
                    break
            out.flush()
            job.size = out.tell()
    finally:
        reader.close()
        write_intent.reset(reading)
    if finished:
        job.status, job.finished_at = "done", now
        job.expires_at = now + timedelta(hours=int(current_app.config.get("EXPORT_KEEP_HOURS") or KEEP_HOURS))
        job.total = max(job.total, job.processed)
    else:
        _queue(session, job, now)
    session.flush()


def fail(session: Session, job_id: int, error: str) -> None:
    job = session.get(ExportJob, job_id)
    if job is not None and job.status in ACTIVE:
        job.status, job.error = "failed", error[:2000]
        session.flush()


def expire_due(session: Session, *, now: datetime, where: Path) -> int:
    """Delete the files of the exports past their time (and of failed ones); returns how many were expired."""
    jobs = list(session.scalars(select(ExportJob).where(
        ((ExportJob.status == "done") & (ExportJob.expires_at <= now))
        | ((ExportJob.status == "failed") & (ExportJob.created_at <= now - timedelta(hours=KEEP_HOURS))))))
    for job in jobs:
        if job.file_name:
            (where / job.file_name).unlink(missing_ok=True)
        job.status = "expired"
    session.flush()
    return len(jobs)


def sender_factory(config) -> outbox.Sender:
    def send(payload: dict) -> None:
        from lms.core.clock import now_utc

        session = get_session()
        job_id = int(payload["job_id"])
        try:
            with session.begin_nested():  # a failing step undoes only itself, not the pass's other messages
                run_step(session, job_id, now=now_utc(), where=folder())
        except Exception as exc:  # noqa: BLE001 - recorded on the job (the requester sees it), not retried
            fail(session, job_id, f"{type(exc).__name__}: {exc}")
            raise outbox.Undeliverable(str(exc)) from exc

    return send
