from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import Base, UTCDateTime


class CertificationDefinition(Base):
    """What a certification requires and how long it is valid (from the content files)."""

    __tablename__ = "certification_definitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    #: producto | proceso | tecnica | soft-skills | liderazgo
    area: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    track_slug: Mapped[str | None] = mapped_column(String(100))
    validity_months: Mapped[int] = mapped_column(Integer)
    #: [{type, …}] as validated by the requirement registry
    requirements: Mapped[list] = mapped_column(JSON)
    sources: Mapped[list] = mapped_column(JSON)
    #: bumped whenever the definition changes; records keep the version they were issued under
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: {window_days, requirements} or NULL: what renews a record as it nears expiry
    recertification: Mapped[dict | None] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_path: Mapped[str] = mapped_column(String(300))
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)

    def __repr__(self) -> str:
        return f"<CertificationDefinition {self.id} {self.slug} v{self.version}>"


class CertificationRecord(Base):
    """A certification issued to an agent, with the evidence it rests on. Never deleted."""

    __tablename__ = "certification_records"
    __table_args__ = (
        # at most one active record per agent and certification (NULL marks every other status)
        UniqueConstraint("definition_id", "user_id", "active_marker"),
        CheckConstraint("status IN ('active', 'expired', 'revoked', 'superseded')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("certification_definitions.id"), index=True)
    #: the definition's version when issued
    definition_version: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: unguessable code for the public verification page
    code: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    #: 1 while active, NULL otherwise (keeps one active record per agent and certification)
    active_marker: Mapped[int | None] = mapped_column(Integer, default=1)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: NULL when issued automatically by the rules engine
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    issue_reason: Mapped[str] = mapped_column(String(500), default="")
    #: [{kind, ref, label, score, at}] the attempts, grades and completions it rests on
    evidence: Mapped[list] = mapped_column(JSON)
    evidence_hash: Mapped[str] = mapped_column(String(64))
    revoked_reason: Mapped[str | None] = mapped_column(String(500))

    definition: Mapped[CertificationDefinition] = relationship()

    def __repr__(self) -> str:
        return f"<CertificationRecord {self.id} def={self.definition_id} user={self.user_id} {self.status}>"


class CertificationEvent(Base):
    """The audit log of certification records: issue, revoke, reinstate, expire, supersede, evidence corrections."""

    __tablename__ = "certification_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("certification_records.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(500), default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class RecertificationPath(Base):
    """What an agent must do to renew a certificate, assigned when its renewal window opens.

    Only evidence dated on or after ``opened_at`` counts.  Completing the path issues a new
    record (the old one is superseded if still active).  One path per record.
    """

    __tablename__ = "recertification_paths"
    __table_args__ = (CheckConstraint("status IN ('open', 'completed', 'closed')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("certification_records.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("certification_definitions.id"))
    #: the requirements as they were when the path opened
    requirements: Mapped[list] = mapped_column(JSON)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: the old record's expiry date
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="open")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    renewed_record_id: Mapped[int | None] = mapped_column(ForeignKey("certification_records.id"))

    definition: Mapped[CertificationDefinition] = relationship()
    record: Mapped[CertificationRecord] = relationship(foreign_keys=[record_id])

    def __repr__(self) -> str:
        return f"<RecertificationPath {self.id} record={self.record_id} {self.status}>"
