"""Drafts of content, their review, the authoring permissions and the re-confirmed citations."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import Base, UTCDateTime, utcnow

#: draft → in_review → approved → published; in_review → draft (sent back); any open state → withdrawn
STATES = ("draft", "in_review", "approved", "published", "withdrawn")
OPEN_STATES = ("draft", "in_review", "approved")


class Draft(Base):
    """A proposed version of one content file (or one question of a bank), as the file would state it."""

    __tablename__ = "authoring_drafts"
    __table_args__ = (Index("ix_authoring_drafts_item", "kind", "slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: lesson, question, bank, quiz, rubric, scenario, certification
    kind: Mapped[str] = mapped_column(String(20))
    slug: Mapped[str] = mapped_column(String(100))
    #: the content file it becomes (for a question: its bank's file)
    path: Mapped[str] = mapped_column(String(300))
    title: Mapped[str] = mapped_column(String(200))
    #: the file text (a question: its YAML mapping)
    text: Mapped[str] = mapped_column(Text)
    #: the published text when the draft began (None: a new item)
    base_text: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    #: problems found at the last save: [{field, line, message}]
    problems: Mapped[list] = mapped_column(JSON, default=list)
    #: kind-specific settings (a bank import: skip the invalid questions)
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    publisher_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the site revision number of the item once published (1, 2, … per kind and slug)
    revision: Mapped[int | None] = mapped_column(Integer)

    comments: Mapped[list["DraftComment"]] = relationship(back_populates="draft", order_by="DraftComment.id",
                                                          cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Draft {self.id} {self.kind} {self.slug} {self.state}>"


class DraftComment(Base):
    """A reviewer's (or author's) comment, and the review decisions: submitted, approved, sent back, published."""

    __tablename__ = "authoring_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("authoring_drafts.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: comment | submitted | approved | sent_back | published | withdrawn
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    draft: Mapped[Draft] = relationship(back_populates="comments")


class AuthoringGrant(Base):
    """A permission an admin gave a trainer: ``reviewer`` (review others' drafts) or ``publisher`` (publish)."""

    __tablename__ = "authoring_grants"
    __table_args__ = (UniqueConstraint("user_id", "permission"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    permission: Mapped[str] = mapped_column(String(16))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PassageRevision(Base):
    """A cited reference passage whose text changed in a sync: its old and new text, kept for review."""

    __tablename__ = "authoring_passage_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: "<page id>#<anchor>"
    ref: Mapped[str] = mapped_column(String(300), index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    old_text: Mapped[str] = mapped_column(Text, default="")
    #: None: the passage was removed
    new_text: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    impacts: Mapped[list["Impact"]] = relationship(back_populates="revision", order_by="Impact.id", cascade="all, delete-orphan")


class Impact(Base):
    """An item (lesson, module, question, rubric, scenario, certification) citing a revised passage, until a
    trainer re-confirms it or publishes an edit of it; the certifications resting on it are flagged meanwhile."""

    __tablename__ = "authoring_impacts"
    __table_args__ = (UniqueConstraint("revision_id", "kind", "slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("authoring_passage_revisions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    slug: Mapped[str] = mapped_column(String(100))
    #: slugs of the certifications whose evidence rests on this item
    certifications: Mapped[list] = mapped_column(JSON, default=list)
    #: None while open; confirmed | edited
    resolution: Mapped[str | None] = mapped_column(String(16))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    revision: Mapped[PassageRevision] = relationship(back_populates="impacts")
