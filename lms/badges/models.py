from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.certification.models import CertificationRecord
from lms.core.db import Base, UTCDateTime


class BadgeSigningKey(Base):
    """An Ed25519 key that signs Open Badges 3.0 credentials.  One is active; rotated keys stay
    published (the issuer document lists them all) so that what they signed still verifies."""

    __tablename__ = "badge_signing_keys"
    __table_args__ = (UniqueConstraint("active_marker"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Multikey ``publicKeyMultibase`` (z6Mk…); also the fragment of the verification method's id
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    #: PKCS#8 PEM, encrypted with the application's SECRET_KEY
    private_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: 1 for the active key, NULL for retired ones (at most one active key, even with two workers at once)
    active_marker: Mapped[int | None] = mapped_column(Integer, default=1)
    #: set when the key was withdrawn as compromised (not only retired): what it signed from ``compromised_since``
    #: on fails verification, and it is no longer an assertion method of the issuer
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    compromised_since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<BadgeSigningKey {self.id} {self.public_key[:12]}… {'active' if self.active_marker else 'retired'}>"


class BadgeStatusList(Base):
    """The signed revocation status list (Open Badges 3.0), kept as signed: it is signed again only when the set of
    revoked records (``digest``) changes or its key is withdrawn, so its ``validFrom`` is the moment it changed."""

    __tablename__ = "badge_status_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: SHA-256 of the revoked record ids the document lists
    digest: Mapped[str] = mapped_column(String(64))
    #: the signed BitstringStatusListCredential, as served (JSON text)
    document: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BadgeAssertion(Base):
    """A certification record published as an Open Badge: the opaque id of its hosted assertion and
    the salt of its hashed recipient, both fixed the first time the record is published."""

    __tablename__ = "badge_assertions"

    record_id: Mapped[int] = mapped_column(ForeignKey("certification_records.id", ondelete="CASCADE"), primary_key=True)
    #: the hosted assertion's URL segment (not the verification code: the revocation list is public)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    salt: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    record: Mapped[CertificationRecord] = relationship()

    def __repr__(self) -> str:
        return f"<BadgeAssertion record={self.record_id} {self.public_id}>"
