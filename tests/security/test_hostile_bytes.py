"""Bytes databases refuse (NUL) and overlong text, posted to every free-text form: a 4xx or a stored value,
never a server error (PostgreSQL rejects NUL in text and text longer than its column)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from lms.certification import services as certs
from lms.core.clock import now_utc
from lms.quizzes import services as quizzes
from lms.quizzes.simulate import answer_attempt
from lms.roleplays import services as roleplays
from lms.tracks import services as tracks

NUL = "antes\x00después"
LONG = "ñ" * 20000


@pytest.fixture
def setting(session, content, team, agent, trainer, manager, admin):
    now = now_utc()
    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"),
                  start_date=date.today() - timedelta(days=1), now=now)
    scenario = roleplays.get_scenario(session, "chat-retraso")
    graded = roleplays.start_practice(session, agent, scenario, now=now)
    for text in ("Hola, Ana.", "Gracias, Ana."):
        roleplays.reply(session, graded, agent, thread="ana", text=text, now=now)
    roleplays.submit(session, graded, agent, escalation=None, now=now)
    practice = roleplays.start_practice(session, agent, scenario, now=now)
    attempt = quizzes.start_attempt(session, agent, quizzes.get_quiz(session, "evaluacion-a"), now=now)
    quizzes.submit_attempt(session, attempt, agent, answer_attempt(attempt, 0.0), now=now)
    record = certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Prueba", now=now)
    session.commit()
    return {"graded": graded, "practice": practice, "attempt": attempt, "record": record}


def _posts(s, team, agent, text):
    return {
        "agent": [
            (f"/practice/{s['practice'].id}/reply", {"thread": "ana", "text": text}),
            (f"/practice/{s['practice'].id}/reply", {"thread": text, "text": "Hola"}),
            (f"/practice/{s['practice'].id}/submit", {"esc-level": "2", "esc-destination": text, "esc-context": text}),
            ("/account", {"pw-current_password": text, "pw-new_password": text, "pw-confirm": text}),
            ("/calendar/subscription", {"action": text}),
        ],
        "trainer": [
            (f"/manage/roleplays/{s['graded'].id}", {"level-tiempo": "3", "comment-tiempo": text, "overall": text, "action": "draft",
                                                    "revision": "0", "reason": text}),
            (f"/manage/attempts/{s['attempt'].id}", {"slot": "0", "s0-score": "1", "s0-feedback": text, "s0-reason": text,
                                                     "s0-revision": str(s["attempt"].revision)}),
            ("/manage/roleplays/calibration", {"submission": str(s["graded"].id), "title": text}),
        ],
        "manager": [
            ("/manage/accommodations", {"agents": str(agent.id), "time_multiplier": "1.5", "extra_attempts": "1", "reason": text}),
        ],
        "admin": [
            (f"/manage/certifications/records/{s['record'].id}", {"action": "revoke", "reason": text}),
            (f"/manage/certifications/agents/{agent.id}/issue", {"definition": "proceso", "reason": text}),
            ("/admin/teams", {"name": text}),
            (f"/admin/users/{agent.id}", {"name": text, "role": "agent", "is_active": "y"}),
            ("/admin/users/new", {"email": "nul@example.com", "name": text, "role": "agent", "password": "una frase bastante larga"}),
            ("/manage/api-tokens/", {"name": text, "scopes": "users:read"}),
        ],
    }


@pytest.mark.parametrize("text", [NUL, LONG], ids=["nul", "long"])
def test_free_text_forms_never_fail_with_a_server_error(client, auth, session, team, agent, trainer, manager, admin, setting, text):
    users = {"agent": agent, "trainer": trainer, "manager": manager, "admin": admin}
    problems = []
    for role, posts in _posts(setting, team, agent, text).items():
        auth.logout()
        auth.login_as(users[role])
        for url, data in posts:
            try:
                response = client.post(url, data=data)
            except Exception as exc:  # TESTING propagates exceptions: a crash is a 500 in production
                problems.append(f"{role} {url}: {type(exc).__name__}: {str(exc)[:120]}")
                session.rollback()
                continue
            if response.status_code >= 500:
                problems.append(f"{role} {url}: {response.status_code}")
    assert problems == []


@pytest.mark.parametrize("text", [NUL, LONG], ids=["nul", "long"])
def test_api_text_fields_never_fail_with_a_server_error(client, session, admin, team, text):
    from lms.api import services as api_tokens

    token = api_tokens.create_token(session, name="t", scopes=list(api_tokens.SCOPES), expires_at=None, created_by=admin,
                                    now=now_utc()).secret
    session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    for method, path, body in (("POST", "/api/v1/teams", {"name": text}),
                               ("POST", "/api/v1/users", {"email": "n@example.com", "name": text, "role": "agent"}),
                               ("PATCH", f"/api/v1/users/{admin.id}", {"name": text}),
                               ("GET", "/api/v1/users?email=" + text[:300], None)):
        response = client.open(path, method=method, json=body, headers=headers)
        assert response.status_code < 500, (path, response.get_data(as_text=True)[:200])


@pytest.mark.parametrize("url", ["/verify/abc%00def", "/search?q=a%00b", "/lessons/a%00b", "/api/v1/users?email=a%00b@example.com"])
def test_nul_in_a_url_is_refused_before_any_query(client, auth, session, content, agent, url):
    auth.login_as(agent)
    response = client.get(url)
    assert response.status_code == 400
    if url.startswith("/api/"):
        assert response.is_json


def test_nul_in_a_form_or_json_body_is_refused_and_nothing_is_written(client, auth, session, admin, team):
    from tests.security.helpers import changed_tables, db_state

    auth.login_as(admin)
    before = db_state(session)
    assert client.post("/admin/teams", data={"name": NUL}).status_code == 400
    assert client.post("/admin/teams", data={"na\x00me": "Equipo"}).status_code == 400
    assert client.post(f"/admin/users/{admin.id}", json={"name": NUL}).status_code == 400
    assert changed_tables(before, db_state(session)) == []
    # an uploaded file is not a form field: its own reader refuses NUL bytes with a message
    from io import BytesIO

    response = client.post("/admin/users/import", data={"file": (BytesIO(b"email,name,role\na\x00@example.com,A,agent\n"), "u.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 200 and "CSV" in response.get_data(as_text=True)
