"""Expiry reminders through the durable outbox and a real SMTP server on 127.0.0.1."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import delete, select

from lms.certification import services as certs
from lms.core import outbox
from tests.smtp import Inbox, free_port

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def expiring_record(session, agent, admin, days_left):
    record = certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Prueba", now=T0)
    record.expires_at = T0 + timedelta(days=days_left)
    # the e-mail announcing the certificate (lms.notifications) is not what these tests are about
    session.execute(delete(outbox.OutboxMessage).where(outbox.OutboxMessage.dedupe_key.startswith("notification:certificate-issued:")))
    session.flush()
    return record


def test_reminders_reach_the_agent_and_their_managers_once(session, content, agent, manager, admin, smtp):
    controller, inbox = smtp
    expiring_record(session, agent, admin, days_left=20)
    assert certs.queue_expiry_reminders(session, now=T0, base_url="https://academia.example") == 2  # agent + manager
    assert certs.queue_expiry_reminders(session, now=T0, base_url="https://academia.example") == 0  # never twice
    sender = outbox.smtp_sender({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": controller.port, "MAIL_FROM": "academia@example.com"})
    assert outbox.deliver_due(session, {"email": sender}, now=T0) == (2, 0)
    recipients = sorted(r for rcpts, _ in inbox.messages for r in rcpts)
    assert recipients == sorted([agent.email, manager.email])
    assert "caduca el 29 de enero de 2026" in inbox.messages[0][1] and "https://academia.example/verify/" in inbox.messages[0][1]
    assert outbox.deliver_due(session, {"email": sender}, now=T0) == (0, 0)  # sent messages are not sent again


def test_an_unreachable_mail_server_loses_nothing(session, content, agent, manager, admin, smtp):
    controller, inbox = smtp
    expiring_record(session, agent, admin, days_left=5)
    queued = certs.queue_expiry_reminders(session, now=T0, base_url="http://x")
    assert queued == 4  # the 30-day and the 7-day windows, to the agent and the manager
    down = outbox.smtp_sender({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": 1})  # nothing listens there
    assert outbox.deliver_due(session, {"email": down}, now=T0) == (0, 4)
    pending = session.scalars(select(outbox.OutboxMessage)).all()
    assert all(m.status == "pending" and m.attempts == 1 and m.next_attempt_at == T0 + timedelta(minutes=1) for m in pending)
    assert outbox.deliver_due(session, {"email": down}, now=T0) == (0, 0)  # not due yet: backoff
    up = outbox.smtp_sender({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": controller.port})
    assert outbox.deliver_due(session, {"email": up}, now=T0 + timedelta(minutes=2)) == (4, 0)
    assert len(inbox.messages) == 4


def test_agent_home_shows_the_expiry_notice(client, auth, session, content, agent, admin):
    from lms.core.clock import now_utc

    record = certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Prueba", now=now_utc())
    record.expires_at = now_utc() + timedelta(days=10)
    session.commit()
    auth.login_as(agent)
    assert "caduca el" in client.get("/").get_data(as_text=True)


def test_worker_command_runs_one_pass(app):
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "expired 0, recertifications opened 0, reminders queued 0" in result.output and "sent 0, failed 0" in result.output
