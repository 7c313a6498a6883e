"""Durable delivery: an LRS that is down loses nothing, one event is one statement, however often it is sent."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete

from lms import create_app
from lms.certification import services as certs
from lms.config import ConfigError
from lms.core.clock import now_utc
from lms.core import outbox
from lms.core.outbox import OutboxMessage
from lms.tracks import services as tracks
from lms.tracks import signals as track_signals
from lms.xapi import services as xapi_services
from lms.xapi import site_from
from tests.conftest import make_test_app
from tests.xapi.helpers import T0, configure, deliver, queued, statements
from tests.xapi.lrs import LRS, free_port


def complete(session, agent, *slugs, now=T0):
    for slug in slugs:
        tracks.complete_lesson(session, agent, tracks.get_lesson(session, slug), now=now)


def test_an_lrs_that_is_down_loses_nothing_and_gets_each_statement_once(app, monkeypatch, session, enrolled):
    port = free_port()  # nothing listens there yet
    configure(app, monkeypatch, f"http://127.0.0.1:{port}/xapi/")
    complete(session, enrolled, "a-uno", "a-dos")
    assert deliver(app, session, now=T0) == (0, 2)
    messages = queued(session)
    assert all(m.status == "pending" and m.attempts == 1 and m.next_attempt_at == T0 + timedelta(minutes=1) for m in messages)
    assert all("ConnectionError" in m.last_error for m in messages)
    assert deliver(app, session, now=T0 + timedelta(seconds=30)) == (0, 0)  # backoff: not due yet
    assert deliver(app, session, now=T0 + timedelta(minutes=1)) == (0, 2)  # still down: the next wait doubles
    assert {m.next_attempt_at for m in queued(session)} == {T0 + timedelta(minutes=3)}
    lrs = LRS(port=port).start()  # the LRS comes back
    try:
        assert deliver(app, session, now=T0 + timedelta(minutes=3)) == (2, 0)
        assert deliver(app, session, now=T0 + timedelta(hours=1)) == (0, 0)
        assert all(m.status == "sent" and m.last_error is None and m.sent_at == T0 + timedelta(minutes=3) for m in queued(session))
        assert sorted(lrs.statements) == sorted(s["id"] for s in statements(session))
        assert lrs.puts() == 2 and lrs.rejected == []
    finally:
        lrs.stop()


@pytest.mark.parametrize("duplicate_status", [409, 204])
def test_the_same_event_sent_again_has_the_same_id_and_is_stored_once(app, monkeypatch, session, enrolled, duplicate_status):
    lrs = LRS(duplicate_status=duplicate_status).start()
    try:
        configure(app, monkeypatch, lrs.endpoint)
        complete(session, enrolled, "a-uno")
        lesson = tracks.get_lesson(session, "a-uno")
        # the signal delivered twice (a retried request, a second handler run): still one statement queued
        track_signals.lesson_completed.send(session, user_id=enrolled.id, lesson_id=lesson.id, now=T0 + timedelta(minutes=5))
        (message,) = queued(session)
        statement_id = message.payload["statement"]["id"]
        assert deliver(app, session) == (1, 0)
        # the worker died before recording the delivery: the message is sent again, and the LRS keeps one
        message.status, message.sent_at = "pending", None
        session.flush()
        assert deliver(app, session) == (1, 0)
        assert message.status == "sent" and lrs.puts(statement_id) == 2
        # the queue is lost and rebuilt from the database: the backfill derives the very same id
        session.execute(delete(OutboxMessage).where(OutboxMessage.kind == "xapi"))
        assert xapi_services.backfill(session, site_from(app.config), now=T0 + timedelta(days=2))["lesson"] == 1
        assert [s["id"] for s in statements(session)] == [statement_id]
        assert deliver(app, session, now=T0 + timedelta(days=2)) == (1, 0)
        assert list(lrs.statements) == [statement_id] and lrs.puts(statement_id) == 3 and lrs.rejected == []
    finally:
        lrs.stop()


def test_without_an_endpoint_statements_wait_for_one_without_spending_attempts(app, monkeypatch, session, enrolled, lrs):
    configure(app, monkeypatch, None, XAPI_RECORD=True)
    complete(session, enrolled, "a-uno")
    assert "xapi" not in outbox.configured_senders(app.config)
    session.commit()
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    (message,) = queued(session)
    assert (message.status, message.attempts, message.last_error) == ("pending", 0, None)
    configure(app, monkeypatch, lrs.endpoint)  # the LRS is configured later
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0 and "sent 1, failed 0" in result.output, result.output
    assert list(lrs.statements) == [message.payload["statement"]["id"]]


def test_with_xapi_off_nothing_is_recorded(session, enrolled, admin):
    complete(session, enrolled, "a-uno")
    certs.issue_manually(session, certs.get_definition(session, "proceso"), enrolled, actor=admin, reason="Prueba", now=T0)
    assert queued(session) == []


def test_other_kinds_are_delivered_without_touching_the_statements(app, session, xapi, enrolled):
    complete(session, enrolled, "a-uno")
    assert outbox.deliver_due(session, {"email": lambda payload: None}, now=T0 + timedelta(days=1)) == (0, 0)
    assert [(m.status, m.attempts) for m in queued(session)] == [("pending", 0)]


def test_a_statement_the_lrs_rejects_fails_at_once_and_can_be_retried(app, session, xapi, enrolled):
    complete(session, enrolled, "a-uno")
    (message,) = queued(session)
    good = message.payload
    message.payload = {"statement": {k: v for k, v in good["statement"].items() if k != "actor"}}
    session.flush()
    assert deliver(app, session) == (0, 1)
    assert message.status == "failed" and message.attempts == 1
    assert "HTTP 400" in message.last_error and "actor" in message.last_error
    message.payload = good  # fixed (e.g. by a new release)
    session.commit()
    result = app.test_cli_runner().invoke(args=["xapi", "retry"])
    assert result.exit_code == 0 and "1 statement(s) due now" in result.output, result.output
    session.refresh(message)
    assert (message.status, message.attempts) == ("pending", 0)
    assert deliver(app, session, now=now_utc()) == (1, 0) and len(xapi.statements) == 1


def test_wrong_credentials_are_retried_with_backoff(app, monkeypatch, session, lrs, enrolled):
    configure(app, monkeypatch, lrs.endpoint, XAPI_PASSWORD="otra")
    complete(session, enrolled, "a-uno")
    assert deliver(app, session, now=T0) == (0, 1)
    (message,) = queued(session)
    assert message.status == "pending" and "HTTP 401" in message.last_error and message.next_attempt_at == T0 + timedelta(minutes=1)
    assert lrs.statements == {}


def test_a_slow_lrs_times_out_and_is_retried(app, monkeypatch, session, lrs, enrolled):
    configure(app, monkeypatch, lrs.endpoint, XAPI_TIMEOUT=0.2)
    lrs.delay = 1.0
    complete(session, enrolled, "a-uno")
    assert deliver(app, session, now=T0) == (0, 1)
    (message,) = queued(session)
    assert message.status == "pending" and message.last_error.startswith("TimeoutError: the LRS at") and "within 0.2 s" in message.last_error
    lrs.delay = 0
    assert deliver(app, session, now=T0 + timedelta(minutes=1)) == (1, 0) and len(lrs.statements) == 1


@pytest.mark.parametrize("settings, message", [
    ({"XAPI_ENDPOINT": "lrs.example.com/xapi"}, "XAPI_ENDPOINT must be the LRS's http(s) address"),
    ({"XAPI_ENDPOINT": "https://lrs.example.com/xapi/", "XAPI_ACTOR": "email"}, "XAPI_ACTOR must be 'account' or 'mbox'"),
    ({"XAPI_ENDPOINT": "https://lrs.example.com/xapi/", "XAPI_USERNAME": "k", "XAPI_TOKEN": "t"}, "not both"),
    ({"XAPI_TIMEOUT": "diez"}, "XAPI_TIMEOUT must be a positive number"),
    ({"XAPI_RECORD": True, "PUBLIC_URL": "academia"}, "PUBLIC_URL must be the site's http(s) address"),
])
def test_settings_that_cannot_work_stop_the_start(database_url, tmp_path, settings, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_test_app(database_url, tmp_path, **settings)


def test_the_environment_configures_it(monkeypatch, database_url, tmp_path):
    for key, value in {"XAPI_ENDPOINT": "https://lrs.example.com/xapi/", "XAPI_RECORD": "yes", "XAPI_TIMEOUT": "3"}.items():
        monkeypatch.setenv(key, value)
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "k" * 40})
    assert app.config["XAPI_ENDPOINT"] == "https://lrs.example.com/xapi/" and app.config["XAPI_RECORD"] is True
    assert "xapi" in outbox.configured_senders(app.config)
