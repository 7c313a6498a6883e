"""Shared helpers: a submitted practice, and a real SMTP server (aiosmtpd) on 127.0.0.1."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lms.core import outbox
from lms.notifications.models import Notification
from lms.roleplays import services as roleplays
from tests.smtp import Inbox, free_port

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)


def submitted_practice(session, agent, now=T0):
    scenario = roleplays.get_scenario(session, "chat-retraso")
    submission = roleplays.start_practice(session, agent, scenario, now=now)
    for n, text in enumerate(("Hola, Ana. Soy Luis. Reviso tu pedido ahora.", "Lo paso a Logística y mañana te escribo. Gracias.")):
        roleplays.reply(session, submission, agent, thread="ana", text=text, now=now + timedelta(seconds=20 * (n + 1)))
    roleplays.submit(session, submission, agent, escalation=None, now=now + timedelta(minutes=1))
    return submission


def grade(session, submission, trainer, action, *, level=3, reason="", now=T0):
    current = roleplays.grade_for(session, submission)
    return roleplays.save_grade(session, submission, actor=trainer, levels={"tiempo": level}, comments={}, overall="Bien", inline=[],
                                action=action, expected_revision=current.revision if current else 0, reason=reason,
                                now=now + timedelta(minutes=5))


def notifications_of(session, user, kind=None):
    stmt = select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return list(session.scalars(stmt))


def emails_to(session, user, prefix=""):
    return [m for m in session.scalars(select(outbox.OutboxMessage).where(outbox.OutboxMessage.kind == "email").order_by(outbox.OutboxMessage.id))
            if m.payload["to"] == user.email and m.dedupe_key.startswith(prefix)]


class SmtpServer:
    """A real SMTP server that can be stopped and started again on the same port."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.inbox, self.port = Inbox(), free_port()
        self._controller_class = Controller
        self.controller = None

    def start(self):
        self.controller = self._controller_class(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
