"""Tracks, modules, lessons, enrollments and completions."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import Base, UTCDateTime, utcnow
from lms.core.markdown import keep_rendered


class Track(Base):
    """An onboarding programme (4 weeks, 3 months)."""

    __tablename__ = "tracks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: stable id from the content file
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    #: Markdown
    description: Mapped[str] = mapped_column(Text, default="")
    #: the Markdown fields' HTML, stored when written (lms.core.markdown.keep_rendered)
    html: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)

    track_modules: Mapped[list["TrackModule"]] = relationship(
        back_populates="track", cascade="all, delete-orphan", order_by="TrackModule.position"
    )

    @property
    def duration_days(self) -> int:
        return max((tm.due_day for tm in self.track_modules), default=0) + 1

    def __repr__(self) -> str:
        return f"<Track {self.id} {self.slug}>"


class Module(Base):
    """A week or a month of lessons; may be shared by several tracks."""

    __tablename__ = "modules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    #: the Markdown fields' HTML, stored when written (lms.core.markdown.keep_rendered)
    html: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    #: citations [{ref, quote, section_title, text_hash}]
    sources: Mapped[list] = mapped_column(JSON, default=list)
    content_hash: Mapped[str] = mapped_column(String(64))
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)

    lessons: Mapped[list["Lesson"]] = relationship(back_populates="module", order_by="Lesson.position")

    def __repr__(self) -> str:
        return f"<Module {self.id} {self.slug}>"


class TrackModule(Base):
    """A module's place in a track and its day offsets from the agent's start date."""

    __tablename__ = "track_modules"
    __table_args__ = (
        UniqueConstraint("track_id", "module_id"),
        CheckConstraint("start_day >= 0 AND due_day >= start_day", name="offsets"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    #: days after the start date when the module opens
    start_day: Mapped[int] = mapped_column(Integer)
    #: days after the start date when the module must be done
    due_day: Mapped[int] = mapped_column(Integer)

    track: Mapped[Track] = relationship(back_populates="track_modules")
    module: Mapped[Module] = relationship()

    def __repr__(self) -> str:
        return f"<TrackModule {self.id} track={self.track_id} module={self.module_id}>"


class Lesson(Base):
    __tablename__ = "lessons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"), index=True)
    #: order within the module
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    #: days after the module's start when the lesson is due
    day: Mapped[int] = mapped_column(Integer)
    minutes: Mapped[int] = mapped_column(Integer)
    objectives: Mapped[list] = mapped_column(JSON, default=list)
    #: citations [{ref, quote, section_title, text_hash}]
    sources: Mapped[list] = mapped_column(JSON, default=list)
    #: house rules where sources are silent or disagree [{text, sources}]; shown to staff
    house_rules: Mapped[list] = mapped_column(JSON, default=list)
    #: Markdown, rendered through the sanitizer
    body: Mapped[str] = mapped_column(Text)
    #: the Markdown fields' HTML, stored when written (lms.core.markdown.keep_rendered); read by the lesson's page
    #: only (``undefer``), not by the pages that list lessons
    html: Mapped[dict | None] = mapped_column(JSON, nullable=True, deferred=True)
    #: the content file it was loaded from (shown to staff)
    source_path: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64))
    #: removed from the files: hidden from learners, completions kept
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    module: Mapped[Module] = relationship(back_populates="lessons")

    def __repr__(self) -> str:
        return f"<Lesson {self.id} {self.slug}>"


def _rule_texts(rules) -> list:
    return [rule.get("text") for rule in rules or []]


keep_rendered(Track, description="description")
keep_rendered(Module, summary="summary")
keep_rendered(Lesson, body="body", house_rules=("house_rules", _rule_texts))


class Enrollment(Base):
    """An agent following a track from a start date."""

    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("user_id", "track_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    #: who enrolled the agent (a manager or an admin)
    enrolled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    track: Mapped[Track] = relationship()

    def __repr__(self) -> str:
        return f"<Enrollment {self.id} user={self.user_id} track={self.track_id} {self.start_date}>"


class LessonCompletion(Base):
    """An agent marked a lesson complete (kept even if the lesson is archived)."""

    __tablename__ = "lesson_completions"
    __table_args__ = (UniqueConstraint("user_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"), index=True)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<LessonCompletion {self.id} user={self.user_id} lesson={self.lesson_id}>"


class CalendarFeed(Base):
    """A personal iCalendar feed: a secret URL (only its hash is kept), revocable; one live feed per user."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<CalendarFeed {self.id} user={self.user_id}{' revoked' if self.revoked_at else ''}>"


class EnrollmentProgress(Base):
    """Summary of one enrollment's progress, maintained on write (lesson completed, quiz standing changed,
    enrolled or start date moved, track content synced) so dashboards over thousands of agents read one
    row per enrollment instead of every completion and quiz standing. Nothing here depends on today's
    date: due dates are stored (as day offsets from ``start_date``) and "overdue"/"behind" is decided at read
    time (in SQL from ``first_pending_due``, or in Python from ``pending_days``)."""

    __tablename__ = "enrollment_progress"
    __table_args__ = (
        # covers the per-agent state GROUP BY of the organisation-wide dashboard (no read of the wide JSON rows)
        # and leads with user_id for the per-agent reads
        Index("ix_enrollment_progress_user_state", "user_id", "start_date", "first_pending_due", "steps_done", "steps_total"),
    )

    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    #: lessons and quizzes of the track, and how many are done (quiz: passed)
    steps_total: Mapped[int] = mapped_column(Integer, default=0)
    steps_done: Mapped[int] = mapped_column(Integer, default=0)
    modules_total: Mapped[int] = mapped_column(Integer, default=0)
    #: how many modules from the first one on are complete (the certification funnel: week 1, week 4)
    modules_done_in_order: Mapped[int] = mapped_column(Integer, default=0)
    #: the earliest due date of a step not done (None: nothing pending)
    first_pending_due: Mapped[date | None] = mapped_column(Date)
    #: due days (offsets from start_date) of the steps not done, ascending: overdue count = those before today
    pending_days: Mapped[list] = mapped_column(JSON, default=list)
    #: due days of every step and done days of the done ones (lesson completed, quiz first passed), ascending: burn-up chart
    due_days: Mapped[list] = mapped_column(JSON, default=list)
    done_days: Mapped[list] = mapped_column(JSON, default=list)
    #: {quiz id: grade} of the track's quizzes with a grade
    quiz_grades: Mapped[dict] = mapped_column(JSON, default=dict)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<EnrollmentProgress enrollment={self.enrollment_id} {self.steps_done}/{self.steps_total}>"


class NonWorkingDay(Base):
    """A day of the organisation's calendar nobody works (a public holiday): nothing falls due on it."""

    __tablename__ = "non_working_days"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    #: what it is ("Día de la Hispanidad"), shown to admins
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<NonWorkingDay {self.day} {self.name}>"
