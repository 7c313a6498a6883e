"""Rubrics (versioned) and role-play scenarios."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import Base, UTCDateTime, utcnow


class Rubric(Base):
    __tablename__ = "rubrics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)

    versions: Mapped[list["RubricVersion"]] = relationship(back_populates="rubric", order_by="RubricVersion.version")

    def __repr__(self) -> str:
        return f"<Rubric {self.id} {self.slug} v{self.current_version}>"


class RubricVersion(Base):
    """One immutable version of a rubric; grades point at the version they used."""

    __tablename__ = "rubric_versions"
    __table_args__ = (UniqueConstraint("rubric_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rubric_id: Mapped[int] = mapped_column(ForeignKey("rubrics.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    #: title, description, criteria [{id, title, weight, critical, pass_level, levels, sources}]
    data: Mapped[dict] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rubric: Mapped[Rubric] = relationship(back_populates="versions")

    def __repr__(self) -> str:
        return f"<RubricVersion {self.id} rubric={self.rubric_id} v{self.version}>"


class Scenario(Base):
    __tablename__ = "scenarios"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    #: chat | email | phone | social | surge
    mode: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    rubric_id: Mapped[int] = mapped_column(ForeignKey("rubrics.id"), index=True)
    #: response_standard, case, customers, objectives, escalation, sources, house_rules
    data: Mapped[dict] = mapped_column(JSON)
    #: Markdown the agent reads before starting
    situation: Mapped[str] = mapped_column(Text)
    #: Markdown for trainers only
    exemplar: Mapped[str] = mapped_column(Text)
    source_path: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64))
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)

    rubric: Mapped[Rubric] = relationship()

    def __repr__(self) -> str:
        return f"<Scenario {self.id} {self.slug}>"
