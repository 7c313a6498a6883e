"""Every e-mail the site sends links back with absolute addresses, and in development (no SMTP server) the worker
delivers them into the local mailbox an admin can read at /manage/mailbox."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.accounts import resets
from lms.accounts import services as accounts
from lms.certification import services as certification
from lms.content import sync as content_sync
from lms.core import outbox
from lms.core.clock import now_utc, today
from lms.demo import load_demo
from lms.notifications import mailbox
from tests.conftest import PROJECT

LMS = Path(__file__).resolve().parents[2] / "lms"
#: a path written where a link should be: "/certifications" after a space, a colon, a bracket or a quote
RELATIVE = re.compile(r"(?:^|[\s(«\"':])(/[A-Za-z0-9_][^\s)»\"']*)", re.M)
#: where the site queues e-mails; a new place must join the scan below
EMAIL_SOURCES = {"accounts/resets.py": 1, "certification/services.py": 2, "notifications/services.py": 1}


def test_every_place_that_queues_an_email_is_scanned():
    found = {}
    for path in LMS.rglob("*.py"):
        n = len(re.findall(r"enqueue\(\s*session,\s*kind=\"email\"", path.read_text(encoding="utf-8")))
        if n:
            found[str(path.relative_to(LMS))] = n
    assert found == EMAIL_SOURCES


def test_no_email_the_site_sends_has_a_relative_link(app, session, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://academia.example")
    problems, _ = content_sync(session, PROJECT)
    assert not problems
    # the demo: graded role-plays, certificates issued and a recertification opened (without a base URL given)
    load_demo(session, on=today())
    now = now_utc()

    # expiry reminders, the daily notices, and a password reset
    for record in certification.records_of(session, accounts.find_user_by_email(session, "agente9@demo.lms").id):
        record.expires_at = now + timedelta(days=6)
    session.flush()
    assert certification.queue_expiry_reminders(session, now=now, base_url=app.config["PUBLIC_URL"]) > 0
    assert resets.request_reset(session, "agente@demo.lms", address="127.0.0.1", now=now, base_url=app.config["PUBLIC_URL"],
                                limits=resets.ResetLimits.from_config(app.config))
    emails = list(session.scalars(select(outbox.OutboxMessage).where(outbox.OutboxMessage.kind == "email")))
    kinds = {m.dedupe_key.split(":")[0] for m in emails}
    assert {"recert-open", "cert-expiry", "password-reset", "notification"} <= kinds, kinds
    for message in emails:
        body = message.payload["body"]
        assert not RELATIVE.findall(body), (message.dedupe_key, RELATIVE.findall(body))
        assert "https://academia.example/" in body, message.dedupe_key


@pytest.fixture
def dev_mailbox(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "DEV_MAILBOX", True)
    monkeypatch.setitem(app.config, "DEV_MAILBOX_DIR", str(tmp_path / "mailbox"))
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    return tmp_path / "mailbox"


def test_the_worker_delivers_into_the_mailbox_and_an_admin_reads_it(app, client, auth, session, admin, agent, dev_mailbox):
    now = now_utc()
    outbox.enqueue(session, kind="email", dedupe_key="test:mailbox", now=now, payload={
        "to": "lucia@example.com", "subject": "Tu práctica está calificada <b>ya</b>",
        "body": "Hola:\n<script>alert(1)</script>\nMás información: https://academia.example/practice/1/result\n"})
    session.commit()
    result = app.test_cli_runner().invoke(args=["worker", "--once", "--jobs-every", "999999"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    assert len(list(dev_mailbox.glob("*.json"))) == 1

    auth.login_as(admin)
    page = client.get("/manage/mailbox").get_data(as_text=True)
    assert "lucia@example.com" in page and "Tu práctica está calificada &lt;b&gt;ya&lt;/b&gt;" in page
    link = re.search(r'href="(/manage/mailbox/[^"]+)"', page).group(1)
    page = client.get(link).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert '<a href="https://academia.example/practice/1/result">' in page
    assert client.get("/manage/mailbox/..%2F..%2Fetc%2Fpasswd").status_code == 404
    client.post("/logout")
    auth.login_as(agent)
    assert client.get("/manage/mailbox").status_code in (403, 404)


def test_without_the_dev_mailbox_or_with_smtp_no_mail_goes_to_the_mailbox(app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "DEV_MAILBOX_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "DEV_MAILBOX", False)
    monkeypatch.delenv("DEV_MAILBOX", raising=False)
    assert not mailbox.enabled(app.config) and "email" not in outbox.configured_senders(app.config)
    monkeypatch.setitem(app.config, "DEV_MAILBOX", True)
    assert mailbox.enabled(app.config)
    monkeypatch.setitem(app.config, "SMTP_HOST", "mail.example")
    assert not mailbox.enabled(app.config)
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    monkeypatch.setitem(app.config, "LMS_ENV", "production")
    assert not mailbox.enabled(app.config)
