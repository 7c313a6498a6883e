"""The one table reporting owns: organisation exports prepared in the background (see lms.reporting.jobs)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import Base, UTCDateTime, utcnow


class ExportJob(Base):
    """A large export written to a file by the worker, a step of agents at a time (keyset cursor kept here), for
    the person who asked for it to download until it expires."""

    __tablename__ = "export_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: "progress" or "certifications"
    kind: Mapped[str] = mapped_column(String(16))
    #: lms.reporting.exports: "standard" or "excel"
    format: Mapped[str] = mapped_column(String(16))
    #: one team, or None: every team the requester supervises (their rights are checked again at every step)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the requester's language and zone: the Excel format's titles, states and moments
    locale: Mapped[str] = mapped_column(String(8), default="es")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    #: queued → running → done | failed; done → expired (file deleted)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    #: agents in the scope when asked, agents written so far, lines written (header excluded)
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    #: the keyset cursor: the last agent written (name, id)
    cursor_name: Mapped[str | None] = mapped_column(String(200))
    cursor_id: Mapped[int | None] = mapped_column(Integer)
    #: the file in the exports folder, and how many of its bytes belong to committed steps
    file_name: Mapped[str] = mapped_column(String(100), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
