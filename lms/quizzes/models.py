"""Banks, questions and their versions, quizzes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import Base, UTCDateTime, utcnow


class QuestionBank(Base):
    __tablename__ = "question_banks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    source_path: Mapped[str] = mapped_column(String(300))
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)

    questions: Mapped[list["Question"]] = relationship(back_populates="bank", order_by="Question.position")

    def __repr__(self) -> str:
        return f"<QuestionBank {self.id} {self.slug}>"


class Question(Base):
    """A question's identity; its content lives in versions (attempts keep theirs)."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_banks.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    #: the registry key (single_choice, numeric, …) of the current version
    type: Mapped[str] = mapped_column(String(32))
    #: tags of the current version, for drawing
    tags: Mapped[list] = mapped_column(JSON, default=list)
    #: number of the current version (1-based)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)

    bank: Mapped[QuestionBank] = relationship(back_populates="questions")
    versions: Mapped[list["QuestionVersion"]] = relationship(
        back_populates="question", order_by="QuestionVersion.version", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Question {self.id} {self.slug} v{self.current_version}>"


class QuestionVersion(Base):
    """One immutable version of a question, exactly as the content file stated it."""

    __tablename__ = "question_versions"
    __table_args__ = (UniqueConstraint("question_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    #: the validated question (text, choices, key, explanation, sources with section hashes)
    data: Mapped[dict] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    question: Mapped[Question] = relationship(back_populates="versions")

    def __repr__(self) -> str:
        return f"<QuestionVersion {self.id} q={self.question_id} v{self.version}>"


class Quiz(Base):
    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    #: the module (slug) whose progress the quiz completes, and its due day in it
    module_slug: Mapped[str | None] = mapped_column(String(100))
    day: Mapped[int | None] = mapped_column(Integer)
    #: draw rules, shuffling, time limit, attempts, delay, pass mark, grade method, review
    settings: Mapped[dict] = mapped_column(JSON)
    source_path: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64))
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)

    def __repr__(self) -> str:
        return f"<Quiz {self.id} {self.slug}>"
