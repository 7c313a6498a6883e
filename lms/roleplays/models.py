"""Rubrics (versioned) and role-play scenarios."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import Base, UTCDateTime, utcnow
from lms.core.markdown import keep_rendered


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
    #: the Markdown fields' HTML, stored when written (lms.core.markdown.keep_rendered)
    html: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    source_path: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64))
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)

    rubric: Mapped[Rubric] = relationship()

    def __repr__(self) -> str:
        return f"<Scenario {self.id} {self.slug}>"


keep_rendered(Scenario, situation="situation", exemplar="exemplar")


class RoleplayAssignment(Base):
    """A trainer asks a team, or one agent, to practise a scenario by a date."""

    __tablename__ = "roleplay_assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    due_date: Mapped[date | None] = mapped_column(Date)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    scenario: Mapped[Scenario] = relationship()


class RoleplaySubmission(Base):
    """One practice of a scenario by an agent (or an anchor transcript for calibration)."""

    __tablename__ = "roleplay_submissions"
    __table_args__ = (
        CheckConstraint("state IN ('in_progress', 'submitted')", name="state"),
        CheckConstraint("grade_state IN ('ungraded', 'draft', 'released', 'returned')", name="grade_state"),
        Index("ix_roleplay_submissions_user_scenario", "user_id", "scenario_id"),
        # covers the dashboards' read of agents' released scores (roleplays.services.released_scores), in the order
        # they are summed (scenario, then submission): answered from the index, without a visit to each
        # submission's wide row and without a sort (issue #22)
        Index("ix_roleplay_submissions_user_released", "user_id", "grade_state", "scenario_id", "id", "score"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id"), index=True)
    #: the agent; NULL for an anchor transcript imported for calibration
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: 1 for the agent's first practice of this scenario
    number: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(16), default="in_progress")
    #: the grading workflow: ungraded → draft → released, or → returned (another try asked for)
    grade_state: Mapped[str] = mapped_column(String(16), default="ungraded")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the rubric version the submission is graded against (fixed at submission)
    rubric_version_id: Mapped[int | None] = mapped_column(ForeignKey("rubric_versions.id"))
    #: email mode: {subject, greeting, body, steps, closing, signature}
    email: Mapped[dict | None] = mapped_column(JSON)
    #: the agent's escalation decision: {level, destination, context, priority, expectations, timeline} or None
    escalation: Mapped[dict | None] = mapped_column(JSON)
    #: the advisory pre-check: {score, criteria, flags}
    precheck: Mapped[dict | None] = mapped_column(JSON)
    #: the simulated customers' side, per thread: {thread: {ending, text, mood, nudges: [turn positions]}}
    conversation: Mapped[dict | None] = mapped_column(JSON)
    #: label of an anchor transcript (calibration), its external id
    anchor_label: Mapped[str | None] = mapped_column(String(200))
    #: the released grade's score, for quick listing and certification
    score: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    revision: Mapped[int] = mapped_column(Integer, default=1)

    scenario: Mapped[Scenario] = relationship()
    turns: Mapped[list["RoleplayTurn"]] = relationship(back_populates="submission", order_by="RoleplayTurn.position",
                                                       cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<RoleplaySubmission {self.id} scenario={self.scenario_id} user={self.user_id} {self.state}/{self.grade_state}>"


class RoleplayTurn(Base):
    """One message of the conversation, with the agent's reply time."""

    __tablename__ = "roleplay_turns"
    __table_args__ = (UniqueConstraint("submission_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("roleplay_submissions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    #: the customer (scenario customer id) whose thread this turn belongs to
    thread: Mapped[str] = mapped_column(String(50))
    #: customer | agent
    speaker: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    #: when the turn was shown (customer) or sent (agent)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: agent turns: seconds between the customer's message being shown and this reply
    seconds: Mapped[float | None] = mapped_column(Float)

    submission: Mapped[RoleplaySubmission] = relationship(back_populates="turns")


class RoleplayGrade(Base):
    """A trainer's rubric grade of a submission (or a blind calibration grade)."""

    __tablename__ = "roleplay_grades"
    __table_args__ = (CheckConstraint("state IN ('draft', 'released', 'returned', 'calibration')", name="state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("roleplay_submissions.id", ondelete="CASCADE"), index=True)
    grader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    rubric_version_id: Mapped[int] = mapped_column(ForeignKey("rubric_versions.id"))
    state: Mapped[str] = mapped_column(String(16), default="draft")
    #: {criterion_id: level 0-4}
    levels: Mapped[dict] = mapped_column(JSON, default=dict)
    #: {criterion_id: comment}
    comments: Mapped[dict] = mapped_column(JSON, default=dict)
    overall_comment: Mapped[str] = mapped_column(Text, default="")
    #: [{turn: position, text}] comments anchored to a reply
    inline_comments: Mapped[list] = mapped_column(JSON, default=list)
    score: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    #: the calibration session this blind grade belongs to
    calibration_id: Mapped[int | None] = mapped_column(ForeignKey("calibration_sessions.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: optimistic locking: bumped on every save
    revision: Mapped[int] = mapped_column(Integer, default=1)

    rubric_version: Mapped[RubricVersion] = relationship()


class CriterionSummary(Base):
    """One agent's released grades, per rubric version and criterion: the sum of the levels and how many.

    Kept on write (``services.refresh_criterion_summary`` whenever a released grade is given, edited or
    withdrawn): the team dashboard's weakest-criteria chart sums a hundred agents' rows instead of decoding
    their thousand grades. ``flask --app lms roleplays rebuild-summaries`` recomputes them."""

    __tablename__ = "roleplay_criterion_summaries"
    __table_args__ = (
        # covers the dashboard's sums over a team's rows (summed_criterion_averages): read from the index alone,
        # without a visit to each row of the table (issue #22)
        Index("ix_roleplay_criterion_summaries_user_sums", "user_id", "rubric_version_id", "criterion_id", "level_sum", "grades"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    rubric_version_id: Mapped[int] = mapped_column(ForeignKey("rubric_versions.id"), primary_key=True)
    criterion_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    level_sum: Mapped[int] = mapped_column(Integer)
    grades: Mapped[int] = mapped_column(Integer)
    #: a random number written on all of the agent's rows, new each time they are rewritten: a page caches the sums of
    #: a set of agents under their stamps (``services.summed_criterion_averages``); 0: rows written before stamps (never cached)
    stamp: Mapped[int] = mapped_column(BigInteger, server_default="0")


class GradeEvent(Base):
    """Every change of a role-play grade: who, when, before, after, why."""

    __tablename__ = "roleplay_grade_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grade_id: Mapped[int] = mapped_column(ForeignKey("roleplay_grades.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(500), default="")


class CalibrationSession(Base):
    """Trainers grade one submission blind; their agreement is measured and an agreed grade recorded."""

    __tablename__ = "calibration_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("roleplay_submissions.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    #: open (trainers grade blind) → closed (agreed grade recorded)
    state: Mapped[str] = mapped_column(String(16), default="open")
    #: an exemplar with an agreed grade, used to qualify new trainers
    is_exemplar: Mapped[bool] = mapped_column(Boolean, default=False)
    #: {criterion_id: level}: the agreed grade
    agreed_levels: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    submission: Mapped[RoleplaySubmission] = relationship()
