"""The durable outbox: messages of a kind without a configured sender wait without spending attempts."""
from datetime import datetime, timezone

from sqlalchemy import select

from lms.core import outbox

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)


def test_mail_waits_until_a_mail_server_is_configured(session):
    assert outbox.enqueue(session, kind="email", dedupe_key="t:1", payload={"to": "a@example.com", "subject": "s", "body": "b"}, now=T0)
    assert outbox.enqueue(session, kind="email", dedupe_key="t:1", payload={}, now=T0) is False  # same key: queued once
    senders = outbox.configured_senders({"SMTP_HOST": None})
    assert "email" not in senders
    assert outbox.deliver_due(session, senders, now=T0) == (0, 0)
    message = session.scalar(select(outbox.OutboxMessage).where(outbox.OutboxMessage.dedupe_key == "t:1"))
    assert message.status == "pending" and message.attempts == 0
    assert "email" in outbox.configured_senders({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": 25})
