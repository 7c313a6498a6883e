"""What the site changed in the published content since the files were last synced."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import Base, UTCDateTime


class ContentSiteEdit(Base):
    """A content file whose item was published in the site (not from the files) since the last sync.

    ``content sync`` compares the file with the site's version of it: when they differ it reports a conflict
    instead of overwriting the site's edit (``--prefer files`` / ``--prefer site`` decide). A sync that
    takes the files, or finds them equal to the site, clears the row.
    """

    __tablename__ = "content_site_edits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the file (relative to the content root) as ``content export`` writes it
    path: Mapped[str] = mapped_column(String(300), unique=True)
    #: lesson, bank, quiz, rubric, scenario, certification, module
    kind: Mapped[str] = mapped_column(String(20))
    slug: Mapped[str] = mapped_column(String(100))
    #: the file text as published in the site
    text: Mapped[str] = mapped_column(Text)
    #: who published it (no foreign key: the row outlives the account)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<ContentSiteEdit {self.path}>"
