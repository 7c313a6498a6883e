"""The general audit log and the list of append-only tables.

Every grade, override, certificate issue/revoke, role change and content publish leaves a row in an audit
table.  Domain histories keep their own (``attempt_events``, ``roleplay_grade_events``,
``certification_events``, ``login_attempts``); what has no home of its own (role changes, content
publishes) goes to ``audit_events`` through :func:`record`.

These tables are append-only: the migration 8a1e0b7c2d03 installs triggers (SQLite ``RAISE(ABORT)``,
PostgreSQL a PL/pgSQL function) that refuse every UPDATE and DELETE (and TRUNCATE on PostgreSQL), whoever
sends it, the application included.  One exception, deliberate: the database's own ``ON DELETE SET NULL``
of the acting person's column (:data:`APPEND_ONLY_TABLES` names it) may blank it, so deleting an account
in the database keeps its audit rows.  Deleting a quiz attempt, role-play grade or certification record
that has history is refused (its history cascades and the triggers stop it): the application never does.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from lms.core.db import Base, UTCDateTime

#: table → the one column the database may set to NULL (ON DELETE SET NULL of a person), or None
APPEND_ONLY_TABLES: dict[str, str | None] = {
    "audit_events": None,
    "attempt_events": "actor_id",
    "roleplay_grade_events": "actor_id",
    "certification_events": "actor_id",
    "login_attempts": "user_id",
}


class AuditEvent(Base):
    """One audited action with no history table of its own (role change, content publish)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: role_changed | content_published
    kind: Mapped[str] = mapped_column(String(40), index=True)
    #: the person who acted (no foreign key: the row outlives the account); None for commands and HR feeds
    actor_id: Mapped[int | None] = mapped_column(Integer)
    #: what the action was about, e.g. "user:12" or "content"
    subject: Mapped[str] = mapped_column(String(200), index=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.kind} {self.subject}>"


def record(session: Session, *, kind: str, subject: str, actor_id: int | None, data: dict, now: datetime) -> AuditEvent:
    """Add an audit row in the caller's transaction (flush only)."""
    event = AuditEvent(kind=kind, subject=subject, actor_id=actor_id, data=data, at=now)
    session.add(event)
    session.flush()
    return event


def events(session: Session, *, kind: str | None = None, subject: str | None = None) -> list[AuditEvent]:
    from sqlalchemy import select

    stmt = select(AuditEvent).order_by(AuditEvent.id)
    if kind:
        stmt = stmt.where(AuditEvent.kind == kind)
    if subject:
        stmt = stmt.where(AuditEvent.subject == subject)
    return list(session.scalars(stmt))
