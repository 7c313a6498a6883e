"""What an admin sees of the queue (page and command line), and the backfill of past events."""
from __future__ import annotations

from datetime import timedelta

from lms.certification import services as certs
from lms.quizzes import services as quizzes
from lms.tracks import services as tracks
from tests.quizzes.helpers import answer_all_correctly
from tests.xapi.helpers import T0, configure, deliver, queued, statements
from tests.xapi.lrs import free_port
from tests.xapi.test_statements import submit_practice


def test_the_admin_page_shows_the_queue_and_retries(app, client, auth, monkeypatch, session, enrolled, admin):
    configure(app, monkeypatch, f"http://127.0.0.1:{free_port()}/xapi/")
    tracks.complete_lesson(session, enrolled, tracks.get_lesson(session, "a-uno"), now=T0)
    deliver(app, session, now=T0)
    (message,) = queued(session)
    message.status = "failed"  # as after the last of its attempts
    session.commit()
    auth.login_as(admin)
    page = client.get("/manage/xapi/").get_data(as_text=True)
    assert "Declaraciones xAPI" in page and "/xapi/statements" in page and "Fallida" in page
    assert "ConnectionError" in page and "completó" in page and message.payload["statement"]["id"] in page
    response = client.post("/manage/xapi/retry")
    assert response.status_code == 302
    session.refresh(message)
    assert (message.status, message.attempts) == ("pending", 0) and message.next_attempt_at > T0 + timedelta(days=1)
    assert "Declaraciones de nuevo en la cola: 1." in client.get("/manage/xapi/").get_data(as_text=True)


def test_the_admin_page_says_when_xapi_is_off(client, auth, admin):
    auth.login_as(admin)
    assert "xAPI está desactivado" in client.get("/manage/xapi/").get_data(as_text=True)


def test_status_command(app, monkeypatch, session, enrolled):
    configure(app, monkeypatch, f"http://127.0.0.1:{free_port()}/xapi/")
    tracks.complete_lesson(session, enrolled, tracks.get_lesson(session, "a-uno"), now=T0)
    deliver(app, session, now=T0)
    session.commit()
    result = app.test_cli_runner().invoke(args=["xapi", "status"])
    assert result.exit_code == 0, result.output
    assert "/xapi/statements (Basic auth as clave-lrs)" in result.output
    # its retry time (T0 + 1 min) has passed: due at the worker's next pass
    assert "pending 1 (1 due now, oldest 2026-01-09 09:00 UTC, next retry -), sent 0 (last -), failed 0" in result.output
    assert "1 attempt(s)" in result.output and "ConnectionError" in result.output


def test_backfill_records_past_events_once(app, monkeypatch, session, enrolled, trainer, admin):
    # a month of activity before xAPI was switched on
    tracks.complete_lesson(session, enrolled, tracks.get_lesson(session, "a-uno"), now=T0)
    attempt = quizzes.start_attempt(session, enrolled, quizzes.get_quiz(session, "evaluacion-a"), now=T0)
    quizzes.submit_attempt(session, attempt, enrolled, answer_all_correctly(attempt), now=T0 + timedelta(minutes=4))
    from lms.roleplays import services as roleplays

    practice = submit_practice(session, enrolled, now=T0 + timedelta(days=1))
    roleplays.save_grade(session, practice, actor=trainer, levels={"tiempo": 4}, comments={}, overall="", inline=[], action="release",
                         expected_revision=0, now=T0 + timedelta(days=2))
    certs.issue_manually(session, certs.get_definition(session, "proceso"), enrolled, actor=admin, reason="Prueba", now=T0 + timedelta(days=20))
    session.commit()
    assert queued(session) == []
    result = app.test_cli_runner().invoke(args=["xapi", "backfill"])
    assert result.exit_code != 0 and "xAPI is off" in result.output

    configure(app, monkeypatch, None, XAPI_RECORD=True)
    result = app.test_cli_runner().invoke(args=["xapi", "backfill", "--since", "2026-01-10"])
    assert result.exit_code == 0, result.output
    assert "queued 3 statement(s): certification 1, roleplay-graded 1, roleplay-submitted 1" in result.output
    result = app.test_cli_runner().invoke(args=["xapi", "backfill"])
    assert "queued 2 statement(s): lesson 1, quiz 1" in result.output, result.output
    assert app.test_cli_runner().invoke(args=["xapi", "backfill"]).output.strip() == "queued 0 statement(s)"
    by_verb = {s["verb"]["id"].rsplit("/", 1)[1]: s for s in statements(session)}
    assert sorted(by_verb) == ["completed", "earned", "passed", "submit"] and len(statements(session)) == 5
    assert by_verb["completed"]["timestamp"] == "2026-01-09T09:00:00.000Z"  # each at the time it happened
    assert by_verb["earned"]["timestamp"] == "2026-01-29T09:00:00.000Z"
    graded = [s for s in statements(session) if s["object"]["id"].endswith("/roleplays/chat-retraso") and "score" in s.get("result", {})]
    assert graded[0]["result"]["score"]["raw"] == 100.0 and graded[0]["timestamp"] == "2026-01-11T09:00:00.000Z"


def test_only_admins_see_or_retry_the_queue(client, auth, enrolled, trainer, manager):
    assert "/login" in client.get("/manage/xapi/").headers["Location"]
    for user in (enrolled, trainer, manager):
        auth.login_as(user)
        assert client.get("/manage/xapi/").status_code == 403
        assert client.post("/manage/xapi/retry").status_code == 403
        auth.logout()
