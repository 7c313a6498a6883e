"""What the agent keeps beside a practice: per-conversation drafts, the ticket and the knowledge-base lookups."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import Base, UTCDateTime, utcnow


class PracticeDraft(Base):
    """The unsent text of one conversation (or the hand-off form), saved while the agent types."""

    __tablename__ = "roleplay_drafts"
    __table_args__ = (UniqueConstraint("submission_id", "thread"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("roleplay_submissions.id", ondelete="CASCADE"), index=True)
    #: a customer id of the scenario, or "_handoff" for the escalation hand-off form
    thread: Mapped[str] = mapped_column(String(50))
    #: {"text": ...} for a reply; the hand-off's fields for "_handoff"
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PracticeTicket(Base):
    """The ticket the agent opens and keeps up to date for one conversation (the handbook's ticket fields)."""

    __tablename__ = "roleplay_tickets"
    __table_args__ = (UniqueConstraint("submission_id", "thread"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("roleplay_submissions.id", ondelete="CASCADE"), index=True)
    thread: Mapped[str] = mapped_column(String(50))
    cliente: Mapped[str] = mapped_column(String(200), default="")
    asunto: Mapped[str] = mapped_column(String(200), default="")
    descripcion: Mapped[str] = mapped_column(Text, default="")
    #: Crítica | Alta | Media | Baja
    prioridad: Mapped[str] = mapped_column(String(16))
    #: Abierto | En Progreso | Resuelto | Cerrado
    estado: Mapped[str] = mapped_column(String(16))
    agente: Mapped[str] = mapped_column(String(200), default="")
    #: every save: [{at, prioridad, estado}]
    history: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PracticeLookup(Base):
    """A search or a section the agent read in the knowledge base during the practice."""

    __tablename__ = "roleplay_lookups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("roleplay_submissions.id", ondelete="CASCADE"), index=True)
    #: search | read
    kind: Mapped[str] = mapped_column(String(10))
    #: the words searched, or the page read ("manual/gestion-de-quejas")
    query: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
