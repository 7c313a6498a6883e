"""End to end with a real SMTP server (aiosmtpd on 127.0.0.1): a trainer releases a grade through the page, the
worker delivers the e-mail; with the server down the next one stays pending (nothing lost) and is delivered once
when the server is back."""
from __future__ import annotations

import email
from datetime import timedelta
from email.header import decode_header, make_header

from sqlalchemy import select

from lms.core import outbox
from lms.core.clock import now_utc
from lms.notifications.models import Notification
from lms.roleplays import services as roleplays
from tests.notifications.conftest import submitted_practice


def parse(raw: str):
    message = email.message_from_string(raw)
    subject = str(make_header(decode_header(message["Subject"])))
    return message, subject, message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")


def test_graded_roleplay_email_through_a_real_smtp_server_survives_an_outage(app, client, auth, session, content, agent, trainer,
                                                                                 smtp, monkeypatch):
    for key, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port, "MAIL_FROM": "academia@example.com",
                       "PUBLIC_URL": "https://academia.example"}.items():
        monkeypatch.setitem(app.config, key, value)
    first = submitted_practice(session, agent, now=now_utc() - timedelta(hours=1))
    second = submitted_practice(session, agent, now=now_utc() - timedelta(hours=1))
    session.commit()

    auth.login_as(trainer)
    response = client.post(f"/manage/roleplays/{first.id}", data={"revision": "0", "level-tiempo": "4", "overall": "Muy bien",
                                                                  "action": "release"})
    assert response.status_code == 302
    runner = app.test_cli_runner()
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent 1, failed 0" in result.output
    [(recipients, raw)] = smtp.inbox.messages
    message, subject, body = parse(raw)
    assert recipients == [agent.email] and message["To"] == agent.email and message["From"] == "academia@example.com"
    assert subject == "Role-play calificado: «Un pedido retrasado»"
    assert "100 sobre 100, aprobada" in body and f"https://academia.example/practice/{first.id}/result" in body
    assert "Para elegir qué avisos recibes por correo: https://academia.example/account/notifications" in body

    # the mail server goes away; the next event's e-mail waits, pending
    smtp.stop()
    response = client.post(f"/manage/roleplays/{second.id}", data={"revision": "0", "level-tiempo": "1", "overall": "Otra vez",
                                                                   "action": "return"})
    assert response.status_code == 302
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0 and "sent 0, failed 1" in result.output, result.output
    session.expire_all()
    waiting = session.scalar(select(outbox.OutboxMessage).where(outbox.OutboxMessage.dedupe_key == f"notification:roleplay-returned:{second.id}"))
    assert waiting.status == "pending" and waiting.attempts == 1 and waiting.last_error

    # back again: delivered once, when due
    smtp.start()
    senders = outbox.configured_senders(app.config)
    later = now_utc() + timedelta(minutes=2)
    assert outbox.deliver_due(session, senders, now=later) == (1, 0)
    assert outbox.deliver_due(session, senders, now=later + timedelta(hours=1)) == (0, 0)
    session.commit()
    [(recipients, raw)] = smtp.inbox.messages[1:]
    _message, subject, body = parse(raw)
    assert recipients == [agent.email] and subject == "Role-play devuelto: «Un pedido retrasado»"
    assert f"https://academia.example/practice/{second.id}/result" in body
    # and the same two events in the site
    kinds = session.scalars(select(Notification.kind).where(Notification.user_id == agent.id).order_by(Notification.id)).all()
    assert kinds == ["roleplay_graded", "roleplay_returned"]
    assert roleplays.get_submission(session, second.id).grade_state == "returned"
