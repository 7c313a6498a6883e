"""Helpers of the xAPI tests."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from lms.core import outbox
from lms.core.outbox import OutboxMessage
from tests.xapi.lrs import PASSWORD, USERNAME

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)
SITE = "https://academia.example"


def configure(app, monkeypatch, endpoint: str | None, **extra) -> None:
    """Point the (shared, session-wide) test app at an LRS for this test only."""
    settings = {"PUBLIC_URL": SITE, "XAPI_ENDPOINT": endpoint, "XAPI_USERNAME": USERNAME, "XAPI_PASSWORD": PASSWORD,
                "XAPI_TOKEN": None, "XAPI_RECORD": False, "XAPI_ACTOR": "account"} | extra
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)


def deliver(app, session, now: datetime | None = None) -> tuple[int, int]:
    """One delivery pass of the worker (by default the day after T0), with the senders the configuration gives."""
    return outbox.deliver_due(session, outbox.configured_senders(app.config), now=now or T0 + timedelta(days=1))


def queued(session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "xapi").order_by(OutboxMessage.id)))


def statements(session) -> list[dict]:
    return [m.payload["statement"] for m in queued(session)]
