"""API tokens: organisation integrations (HR, reporting) that call /api/v1."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import Base, UTCDateTime


class ApiToken(Base):
    """A bearer token. Only the SHA-256 of the token is kept; the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: what the integration is ("Nóminas", "BI semanal"), shown in listings
    name: Mapped[str] = mapped_column(String(100))
    #: the token's first characters (``lms_AbCd…``): enough to recognise it in a listing, useless to use it
    prefix: Mapped[str] = mapped_column(String(16))
    #: hex SHA-256 of the whole token
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: the scopes granted, e.g. ["users:read", "progress:read"]
    scopes: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: the admin who created it (NULL when created from the command line)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: NULL = no expiry
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: updated at most once a minute
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def status(self, now: datetime) -> str:
        """active | expired | revoked"""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.prefix}… {self.name}>"
