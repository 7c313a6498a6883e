"""LTI 1.3: registered platforms, the tool's signing keys, launch state, and what launches link to."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import Base, UTCDateTime, utcnow


class LtiPlatform(Base):
    """An LMS (Moodle, Canvas…) registered to launch this tool: one (issuer, client_id) pair."""

    __tablename__ = "lti_platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: the platform's ``iss`` (e.g. https://moodle.example.com)
    issuer: Mapped[str] = mapped_column(String(255), index=True)
    #: the ``client_id`` the platform gave this tool (the JWT ``aud``)
    client_id: Mapped[str] = mapped_column(String(255))
    #: the platform's OIDC authentication request URL
    auth_login_url: Mapped[str] = mapped_column(String(500))
    #: the platform's OAuth 2 access token URL (grade passback, roster)
    auth_token_url: Mapped[str] = mapped_column(String(500))
    #: the platform's public keyset URL; or NULL when a public key was pasted
    key_set_url: Mapped[str | None] = mapped_column(String(500))
    #: a pasted platform public key (PEM), used instead of the keyset URL
    public_key_pem: Mapped[str | None] = mapped_column(Text)
    #: the ``aud`` of the token request when the platform wants one (Moodle: none; Canvas: the token URL)
    auth_audience: Mapped[str | None] = mapped_column(String(500))
    #: origins allowed to frame the site for this platform's launches, space separated
    #: (NULL: the origins of the issuer and of the login URL)
    frame_origins: Mapped[str | None] = mapped_column(Text)
    #: learners launched into a lesson/quiz/track they are not enrolled in are enrolled in its track
    auto_enroll: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deployments: Mapped[list["LtiDeployment"]] = relationship(
        back_populates="platform", cascade="all, delete-orphan", order_by="LtiDeployment.id")


class LtiDeployment(Base):
    """A deployment id the platform sends in launches; unknown ones are refused."""

    __tablename__ = "lti_deployments"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"), index=True)
    deployment_id: Mapped[str] = mapped_column(String(255))

    platform: Mapped[LtiPlatform] = relationship(back_populates="deployments")


class LtiToolKey(Base):
    """The tool's RSA key pair. One is active (signs); retired ones stay in the JWKS for a while."""

    __tablename__ = "lti_tool_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(100), unique=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: NULL while active
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LtiStoredValue(Base):
    """pylti1p3's launch data storage (state, nonces, launch data, cached platform keysets), shared by
    every worker through the database."""

    __tablename__ = "lti_stored_values"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class LtiUserLink(Base):
    """A platform user (issuer + ``sub``) and the site's user they launch as."""

    __tablename__ = "lti_user_links"
    __table_args__ = (UniqueConstraint("issuer", "sub"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    sub: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_launch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LtiContext(Base):
    """A course (context) of a platform that has launched the tool."""

    __tablename__ = "lti_contexts"
    __table_args__ = (UniqueConstraint("platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"), index=True)
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(500))
    label: Mapped[str | None] = mapped_column(String(255))
    #: the NRPS memberships URL from the last launch, when the platform offers it
    memberships_url: Mapped[str | None] = mapped_column(String(500))
    #: the team the course roster was imported into (Names and Role Provisioning)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), index=True)
    roster_imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LtiResourceLink(Base):
    """A placement of the tool in a course, and the item of the site it opens."""

    __tablename__ = "lti_resource_links"
    __table_args__ = (UniqueConstraint("platform_id", "resource_link_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"), index=True)
    resource_link_id: Mapped[str] = mapped_column(String(255))
    context_pk: Mapped[int | None] = mapped_column(ForeignKey("lti_contexts.id", ondelete="SET NULL"), index=True)
    title: Mapped[str | None] = mapped_column(String(500))
    #: "lesson:<slug>", "quiz:<slug>", "track:<slug>", "roleplay:<slug>" or NULL (the home page)
    target: Mapped[str | None] = mapped_column(String(200))
    #: AGS claim of the last launch: {"lineitems": url, "lineitem": url, "scope": [...]}
    ags: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_launch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LtiRegistrationInvitation(Base):
    """A one-time link an admin hands to a platform for LTI Dynamic Registration (only its hash is kept)."""

    __tablename__ = "lti_registration_invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: SHA-256 of the token in the link
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: set when a registration used it (or started to: a link works once)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the platform registered with it
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("lti_platforms.id", ondelete="SET NULL"))


class LtiLaunchedLink(Base):
    """A person has launched from this resource link: their scores go to its line item (and to no other
    placement of the same activity)."""

    __tablename__ = "lti_launched_links"
    __table_args__ = (UniqueConstraint("user_id", "resource_link_pk"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    resource_link_pk: Mapped[int] = mapped_column(ForeignKey("lti_resource_links.id", ondelete="CASCADE"), index=True)
    #: the platform user (``sub``) who launched: the score's ``userId``
    sub: Mapped[str] = mapped_column(String(255))
    first_launch_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LtiLinkRequest(Base):
    """A launch whose e-mail matched a staff account (trainer, manager, admin): refused, and kept here for an admin
    to confirm (or not) that this platform user is that person (``linking.confirm_link_request``)."""

    __tablename__ = "lti_link_requests"
    __table_args__ = (UniqueConstraint("platform_id", "sub"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"), index=True)
    sub: Mapped[str] = mapped_column(String(255))
    #: the staff account the launch's e-mail claim named
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: the name the platform sent (for the admin to compare)
    claimed_name: Mapped[str | None] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
