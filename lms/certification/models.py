from __future__ import annotations

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import Base


class CertificationDefinition(Base):
    """What a certification requires and how long it is valid (from the content files)."""

    __tablename__ = "certification_definitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    #: producto | proceso | tecnica | soft-skills | liderazgo
    area: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    track_slug: Mapped[str | None] = mapped_column(String(100))
    validity_months: Mapped[int] = mapped_column(Integer)
    #: [{type, …}] as validated by the requirement registry
    requirements: Mapped[list] = mapped_column(JSON)
    sources: Mapped[list] = mapped_column(JSON)
    #: bumped whenever the definition changes; records keep the version they were issued under
    version: Mapped[int] = mapped_column(Integer, default=1)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_path: Mapped[str] = mapped_column(String(300))
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)

    def __repr__(self) -> str:
        return f"<CertificationDefinition {self.id} {self.slug} v{self.version}>"
