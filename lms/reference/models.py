from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import Base, UTCDateTime, utcnow
from lms.core.markdown import keep_rendered


class ReferencePage(Base):
    """One chapter of a source document."""

    __tablename__ = "reference_pages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: stable id "<doc>/<chapter>", what citations point to
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    #: the document's folder name ("manual") and its display title
    document: Mapped[str] = mapped_column(String(100))
    document_title: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    #: file in shared/seeds the text comes from
    source: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    #: the Markdown fields' HTML, stored when written (lms.core.markdown.keep_rendered); read by the page only
    html: Mapped[dict | None] = mapped_column(JSON, nullable=True, deferred=True)
    #: sha256 of the body: lets a sync tell what changed
    content_hash: Mapped[str] = mapped_column(String(64))
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sections: Mapped[list["ReferenceSection"]] = relationship(
        back_populates="page", cascade="all, delete-orphan", order_by="ReferenceSection.position"
    )

    def __repr__(self) -> str:
        return f"<ReferencePage {self.id} {self.slug}>"


keep_rendered(ReferencePage, body="body")


class ReferenceSection(Base):
    """A heading of a page with its text (subsections included)."""

    __tablename__ = "reference_sections"
    __table_args__ = (UniqueConstraint("page_id", "anchor"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("reference_pages.id", ondelete="CASCADE"), index=True)
    anchor: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    level: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    #: the section's Markdown, subsections included
    text: Mapped[str] = mapped_column(Text)
    #: the text's HTML, stored when written (lms.core.markdown.keep_rendered); read by the role-play workspace's
    #: handbook panel only
    html: Mapped[dict | None] = mapped_column(JSON, nullable=True, deferred=True)
    #: sha256 of the normalised text: a citation records it to detect revisions
    text_hash: Mapped[str] = mapped_column(String(64))

    page: Mapped[ReferencePage] = relationship(back_populates="sections")

    def __repr__(self) -> str:
        return f"<ReferenceSection {self.id} {self.anchor}>"


keep_rendered(ReferenceSection, text="text")
