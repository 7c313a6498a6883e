"""In-site notifications: one row per event and person, its text rendered at display time."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import Base, UTCDateTime, utcnow


class Notification(Base):
    """What happened, for whom. The text is not stored: ``kind`` and ``params`` are rendered through gettext
    when shown, so the list reads in the reader's language."""

    __tablename__ = "notifications"
    __table_args__ = (
        # the header's unread counter and the list, newest first
        Index("ix_notifications_user_read", "user_id", "read_at"),
        Index("ix_notifications_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: one of lms.accounts.models.NOTIFICATION_EVENTS
    kind: Mapped[str] = mapped_column(String(32))
    #: what the text needs (titles, dates as ISO strings, numbers)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    #: a path inside the site ("/practice/12/result"), or NULL
    link: Mapped[str | None] = mapped_column(String(500))
    #: the same event never notifies the same person twice
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<Notification {self.id} user={self.user_id} {self.kind}>"
