"""E-mails the site writes outside a request (expiry reminders, recertification, password resets) are in the
recipient's language: an English reader gets no Spanish, a Spanish reader no English."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from lms.accounts import resets
from lms.certification import services as certs
from lms.core import outbox
from tests.certification.test_reminders import expiring_record

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)


def _payloads(session, prefix):
    rows = session.scalars(select(outbox.OutboxMessage).where(outbox.OutboxMessage.dedupe_key.startswith(prefix))).all()
    return {row.payload["to"]: row.payload for row in rows}


def test_expiry_reminders_are_written_in_each_recipients_language(app, session, content, agent, manager, admin):
    agent.locale, manager.locale = "en", "es"
    expiring_record(session, agent, admin, days_left=20)
    with app.app_context():
        assert certs.queue_expiry_reminders(session, now=T0, base_url="https://academia.example") == 2
    mails = _payloads(session, "cert-expiry:")
    english, spanish = mails[agent.email], mails[manager.email]
    assert english["subject"].startswith("The certification") and "expires on" in english["body"]
    assert "Verification: https://academia.example/verify/" in english["body"] and "caduca" not in english["body"]
    assert spanish["subject"].startswith("La certificación") and "caduca el" in spanish["body"] and "expires" not in spanish["body"]


def test_a_password_reset_is_written_in_the_persons_language(app, session, agent, trainer):
    agent.locale, trainer.locale = "en", None
    session.flush()
    with app.app_context():
        for person in (agent, trainer):
            assert resets.request_reset(session, person.email, address="127.0.0.1", now=T0, base_url="https://academia.example",
                                        limits=resets.ResetLimits(minutes=30, per_account=3, per_address=10))
    mails = _payloads(session, "password-reset:")
    assert mails[agent.email]["subject"] == "Reset your Academia de Atención password"
    assert "within the next 30 minutes" in mails[agent.email]["body"] and "Hola" not in mails[agent.email]["body"]
    assert mails[trainer.email]["subject"] == "Restablece tu contraseña de la Academia de Atención"
    assert "en los próximos 30 minutos" in mails[trainer.email]["body"]


def test_the_certificate_pdf_dates_are_the_holders_days(client, auth, session, content, agent, admin):
    """Issued at 03:00 UTC on 2 March is still 1 March in Bogotá: the PDF prints the holder's day."""
    import io

    from pypdf import PdfReader

    record = certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Prueba",
                                  now=datetime(2026, 3, 2, 3, 0, tzinfo=timezone.utc))
    agent.time_zone = "America/Bogota"
    session.commit()
    auth.login_as(agent)
    response = client.get(f"/certificates/{record.id}.pdf")
    assert response.status_code == 200
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "01/03/2026" in text and "02/03/2026" not in text
