"""Users, teams and who belongs to which team in what capacity."""
from __future__ import annotations

import enum
import unicodedata
from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, case, func, select
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship, validates

from lms.core.db import Base, UTCDateTime, utcnow


class Role(str, enum.Enum):
    agent = "agent"
    trainer = "trainer"
    manager = "manager"
    admin = "admin"


class MembershipKind(str, enum.Enum):
    #: an agent who belongs to the team
    agent = "agent"
    #: a trainer assigned to the team (grades its agents)
    trainer = "trainer"
    #: a manager responsible for the team
    manager = "manager"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('agent', 'trainer', 'manager', 'admin')", name="role"),
                      # the exports' keyset order (WHERE (name, id) > last ORDER BY name, id LIMIT n): each batch an
                      # index range, not a sort of every user (lms.reporting.services.agents_after)
                      Index("ix_users_name_id", "name", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: login name, stored lower-case
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: display name
    name: Mapped[str] = mapped_column(String(200))
    #: the user's one global role
    role: Mapped[str] = mapped_column(String(16))
    #: argon2id hash; NULL until a password is set
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: inactive users cannot log in and their sessions end
    is_active_user: Mapped[bool] = mapped_column(Boolean, default=True)
    #: preferred interface language, NULL = follow the browser
    locale: Mapped[str | None] = mapped_column(String(8))
    #: IANA time zone the user reads times in (Europe/Madrid), NULL = their team's, else the organisation's
    time_zone: Mapped[str | None] = mapped_column(String(64))
    #: bumped on logout, password change or deactivation: ends every session of the user
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list["TeamMembership"]] = relationship(back_populates="user", cascade="all, delete-orphan")

    # flask-login protocol -------------------------------------------------
    @property
    def is_active(self) -> bool:
        return self.is_active_user

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    # ----------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


TEAM_NAME_MAX = 200


def fold_name(name: str) -> str:
    """A team name as compared for uniqueness, the same on every database: accents and capitals ignored
    ("Equipo ÑANDÚ" = "equipo nandu"), runs of spaces as one."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(TEAM_NAME_MAX), unique=True)
    #: :func:`fold_name` of the name, kept with it; unique, so two names that read the same cannot both exist
    name_key: Mapped[str] = mapped_column(String(400), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: IANA time zone of the team's members who chose none, NULL = the organisation's
    time_zone: Mapped[str | None] = mapped_column(String(64))
    #: the team's agents work Saturdays and Sundays: their due dates may fall on weekends (holidays still skipped)
    works_weekends: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())

    @validates("name")
    def _keep_key(self, _key, value):
        self.name_key = fold_name(value)
        return value

    memberships: Mapped[list["TeamMembership"]] = relationship(back_populates="team", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Team {self.id} {self.name}>"


class TeamMembership(Base):
    __tablename__ = "team_memberships"
    __table_args__ = (
        UniqueConstraint("team_id", "user_id", "kind"),
        CheckConstraint("kind IN ('agent', 'trainer', 'manager')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: capacity in the team: agent, trainer or manager
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[Team] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")

    def __repr__(self) -> str:
        return f"<TeamMembership {self.id} team={self.team_id} user={self.user_id} {self.kind}>"


class LoginResult(str, enum.Enum):
    success = "success"
    bad_password = "bad_password"  # nosec B105  # a result name, not a password
    unknown_user = "unknown_user"
    inactive = "inactive"
    throttled = "throttled"


class LoginAttempt(Base):
    """One sign-in attempt (audit trail): written once, never updated or deleted by the application."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        CheckConstraint("result IN ('success', 'bad_password', 'unknown_user', 'inactive', 'throttled')", name="result"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: the account the e-mail named, when it exists
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    #: the e-mail as typed (truncated); never the password
    email: Mapped[str] = mapped_column(String(254), index=True)
    #: the client address (``request.remote_addr``)
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    result: Mapped[str] = mapped_column(String(16), index=True)

    user: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<LoginAttempt {self.id} {self.email} {self.result}>"


class LoginThrottle(Base):
    """Recent failed sign-ins of one account (normalised e-mail) or one client address, shared by every
    worker and server through the database; ``blocked_until`` refuses further attempts until then."""

    __tablename__ = "login_throttles"
    __table_args__ = (CheckConstraint("scope IN ('account', 'address')", name="scope"),)

    #: "account" or "address"
    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    #: the normalised e-mail or the address
    key: Mapped[str] = mapped_column(String(254), primary_key=True)
    #: failures since ``window_start``
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    #: blocks so far (each doubles the next one, up to the cap); forgotten after a quiet window
    strikes: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    def __repr__(self) -> str:
        return f"<LoginThrottle {self.scope} {self.key} {self.failures} until={self.blocked_until}>"


#: what a user can be told about (in the site always; by e-mail as their preferences say)
NOTIFICATION_EVENTS = (
    "lesson_due_tomorrow",
    "week_overdue",
    "roleplay_graded",
    "roleplay_returned",
    "certificate_issued",
    "certificate_expiring",
    "recertification_open",
)


class NotificationPreference(Base):
    """Whether a user gets one kind of event by e-mail. No row = the default: yes."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    #: one of NOTIFICATION_EVENTS
    event: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<NotificationPreference user={self.user_id} {self.event} email={self.email}>"


class PasswordResetToken(Base):
    """A password-reset link sent by e-mail. Only the SHA-256 of its random token is stored. It works once,
    until ``expires_at``, and only while the user's password is still the one it was issued for."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: hex SHA-256 of the token in the link
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: hex SHA-256 of the user's password hash when the link was issued: any password change (own, by an
    #: admin, by another reset) changes it, and the link stops working
    password_fingerprint: Mapped[str] = mapped_column(String(64))
    #: the client address that asked for it (per-address limit)
    requested_from: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: when the link set a new password (or was voided by another reset); NULL while unused
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<PasswordResetToken {self.id} user={self.user_id} used={self.used_at}>"


class OrganisationSettings(Base):
    """The organisation's own settings: one row (id 1), edited by admins; no row = the configured defaults."""

    __tablename__ = "organisation_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: IANA time zone of everyone whose team and own setting name none
    time_zone: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<OrganisationSettings {self.time_zone}>"


#: the zone the user reads times in, as lms.accounts.zones.zone_of decides it (their own, their first team's, the
#: organisation's; NULL: the configured default), loaded with the signed-in user (no statement of its own)
User.zone_in_effect = column_property(
    func.coalesce(
        User.__table__.c.time_zone,
        select(Team.time_zone).join(TeamMembership, TeamMembership.team_id == Team.id)
        .where(TeamMembership.user_id == User.__table__.c.id, Team.time_zone.isnot(None))
        .order_by(case((TeamMembership.kind == "agent", 0), else_=1), Team.id).limit(1)
        .correlate_except(Team, TeamMembership).scalar_subquery(),
        select(OrganisationSettings.time_zone).where(OrganisationSettings.id == 1).scalar_subquery(),
    ),
    deferred=True,
)
class CsvImportJob(Base):
    """A large CSV import run by the worker in steps (``lms.accounts.imports``): the rows are checked and their
    passwords hashed a chunk at a time (the progress), then everything is written in one transaction (all or
    nothing, unless the admin asked to skip invalid rows)."""

    __tablename__ = "csv_import_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: what is imported: "users"
    kind: Mapped[str] = mapped_column(String(32))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the uploaded text (cleared once the job is finished)
    text: Mapped[str] = mapped_column(Text, default="")
    skip_invalid: Mapped[bool] = mapped_column(Boolean, default=False)
    #: queued → preparing → writing → done | failed
    status: Mapped[str] = mapped_column(String(16), default="queued")
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    #: [[line, message], …]
    errors: Mapped[list] = mapped_column(JSON, default=list)
    rolled_back: Mapped[bool] = mapped_column(Boolean, default=False)
    #: line → password hash, made during the chunked steps (cleared once finished)
    prepared: Mapped[dict] = mapped_column(JSON, default=dict)
    #: the language of the admin who started it: the worker writes the row errors in it
    locale: Mapped[str | None] = mapped_column(String(8))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
