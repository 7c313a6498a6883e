"""Banks, questions and their versions, quizzes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import Base, UTCDateTime, utcnow
from lms.core.markdown import keep_rendered


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
    #: the Markdown fields' HTML, stored when written (lms.core.markdown.keep_rendered)
    html: Mapped[dict | None] = mapped_column(JSON, nullable=True)
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
    #: the Markdown fields' HTML, stored when written (lms.core.markdown.keep_rendered)
    html: Mapped[dict | None] = mapped_column(JSON, nullable=True)
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


def _text_to_store(data: dict) -> str | None:
    from lms.quizzes.question_types import text_with_placeholders

    return text_with_placeholders(data)


keep_rendered(QuestionVersion, text=("data", _text_to_store),
              situation=("data", lambda data: data.get("situation")),
              explanation=("data", lambda data: data.get("explanation")))
keep_rendered(Quiz, description="description")


class Accommodation(Base):
    """Extra time or attempts granted to a person; applies to every quiz they take."""

    __tablename__ = "accommodations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    #: time limits are multiplied by this (1.5 = 50% more time)
    time_multiplier: Mapped[float] = mapped_column(Float, default=1.0)
    #: attempts added to every quiz's allowance
    extra_attempts: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(500), default="")
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Accommodation {self.id} user={self.user_id} x{self.time_multiplier} +{self.extra_attempts}>"


class QuizAttempt(Base):
    """One attempt of one agent at one quiz; its lifecycle is in :mod:`lms.quizzes.states`."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (
        UniqueConstraint("quiz_id", "user_id", "number"),
        Index("ix_quiz_attempts_user_quiz", "user_id", "quiz_id"),
        CheckConstraint("state IN ('in_progress', 'submitted', 'graded', 'abandoned')", name="state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: (looked up by the unique constraint's index, which starts with it: no index of its own)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: 1 for the first attempt of this agent at this quiz
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="in_progress")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the server-side time limit (None = untimed); extra time already applied
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: points earned / possible (None until graded), and the percentage
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    percent: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    #: the pass mark in force when the attempt started
    pass_mark: Mapped[float] = mapped_column(Float)
    #: seed of the random draws (questions, choice order, numbers)
    seed: Mapped[int] = mapped_column(Integer)
    #: bumped on every change of state or grade (optimistic locking for graders) and on every auto-save of answers (a
    #: submission that read the attempt knows from it alone whether the answers it read are still the stored ones)
    revision: Mapped[int] = mapped_column(Integer, default=1)

    slots: Mapped[list["AttemptSlot"]] = relationship(back_populates="attempt", order_by="AttemptSlot.position",
                                                      cascade="all, delete-orphan")
    quiz: Mapped[Quiz] = relationship()

    def __repr__(self) -> str:
        return f"<QuizAttempt {self.id} quiz={self.quiz_id} user={self.user_id} #{self.number} {self.state}>"


class QuizSummary(Base):
    """One agent's standing in one quiz, kept up to date whenever one of their attempts changes,
    so dashboards over thousands of agents never read every attempt."""

    __tablename__ = "quiz_summaries"
    __table_args__ = (UniqueConstraint("user_id", "quiz_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    graded: Mapped[int] = mapped_column(Integer, default=0)
    #: submitted, waiting for a trainer (essays)
    pending: Mapped[int] = mapped_column(Integer, default=0)
    #: the quiz grade by its grade method (highest, last, average), None until an attempt is graded
    grade: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: when the first passing attempt was graded (burn-up charts)
    first_passed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<QuizSummary user={self.user_id} quiz={self.quiz_id} grade={self.grade}>"


class AttemptSlot(Base):
    """One question of an attempt: the version given, how it was shown, the answer and its marks."""

    __tablename__ = "attempt_slots"
    __table_args__ = (UniqueConstraint("attempt_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: (looked up by the unique constraint's index, which starts with it: no index of its own)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    question_version_id: Mapped[int] = mapped_column(ForeignKey("question_versions.id"), index=True)
    #: presentation of this attempt (choice order, drawn numbers)
    layout: Mapped[dict] = mapped_column(JSON, default=dict)
    answer: Mapped[dict | None] = mapped_column(JSON)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    points: Mapped[float] = mapped_column(Float)
    #: points earned (None while a trainer has to grade it)
    score: Mapped[float | None] = mapped_column(Float)
    #: trainer's comment (essays, overrides)
    feedback: Mapped[str | None] = mapped_column(Text)

    attempt: Mapped[QuizAttempt] = relationship(back_populates="slots")
    question_version: Mapped[QuestionVersion] = relationship()

    def __repr__(self) -> str:
        return f"<AttemptSlot {self.id} attempt={self.attempt_id} #{self.position}>"


class AttemptEvent(Base):
    """The attempt's history: start, submit, abandon, grading, every override (before, after, why)."""

    __tablename__ = "attempt_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: started | submitted | abandoned | graded | manual_grade | override
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    def __repr__(self) -> str:
        return f"<AttemptEvent {self.id} attempt={self.attempt_id} {self.kind}>"
