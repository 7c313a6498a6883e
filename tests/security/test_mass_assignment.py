"""Extra fields posted to forms and to the API (score, state, role, user_id, grade, is_active, team_id,
owner…) are ignored or refused, and the rows they name stay as they were."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from lms.accounts.models import TeamMembership, User
from lms.api import services as api_tokens
from lms.certification import services as certs
from lms.core.clock import now_utc
from lms.quizzes import services as quizzes
from lms.quizzes.simulate import answer_attempt
from lms.roleplays import services as roleplays
from lms.roleplays.models import RoleplayGrade, RoleplaySubmission, RoleplayTurn
from lms.tracks import services as tracks
from tests.security.helpers import changed_tables, db_state

#: what a tampered form adds, whatever the form
EXTRA = {"score": "100", "percent": "100", "passed": "1", "state": "graded", "grade_state": "released", "role": "admin",
         "user_id": "{other}", "owner_id": "{other}", "grader_id": "{other}", "grade": "100", "is_active": "0", "is_active_user": "0",
         "team_id": "{team}", "max_score": "0", "pass_mark": "0", "revision": "99", "speaker": "customer", "seconds": "0",
         "position": "0", "submission_id": "{other_sub}", "attempt_id": "{other_attempt}", "email": "pirata@example.com",
         "password_hash": "x", "session_version": "999", "status": "active", "expires_at": "2099-01-01", "evidence": "[]",
         "rubric_version_id": "1", "number": "0"}


def extra(**values) -> dict[str, str]:
    return {k: v.format(**values) for k, v in EXTRA.items()}


@pytest.fixture
def setting(session, content, team, agent, trainer, manager, admin, make_user):
    other = make_user("agent", name="Otra Agente", teams=[team])
    now = now_utc()
    track = tracks.find_track(session, "corto")
    for who in (agent, other):
        tracks.enroll(session, actor=manager, agent=who, track=track, start_date=date.today() - timedelta(days=1), now=now)
    scenario = roleplays.get_scenario(session, "chat-retraso")
    other_sub = roleplays.start_practice(session, other, scenario, now=now)
    other_attempt = quizzes.start_attempt(session, other, quizzes.get_quiz(session, "evaluacion-a"), now=now)
    session.commit()
    return {"other": other, "team": team, "other_sub": other_sub, "other_attempt": other_attempt,
            "values": extra(other=other.id, team=team.id, other_sub=other_sub.id, other_attempt=other_attempt.id)}


def _user_row(session, user_id):
    session.expire_all()
    u = session.get(User, user_id)
    return (u.email, u.name, u.role, u.is_active_user, u.session_version, u.password_hash)


def test_account_page_ignores_role_activity_team_and_identity_fields(client, auth, session, agent, setting):
    auth.login_as(agent)
    before = _user_row(session, agent.id)
    memberships = session.scalars(select(TeamMembership.team_id).where(TeamMembership.user_id == agent.id)).all()
    response = client.post("/account", data={"lang-locale": "en", **setting["values"]})
    assert response.status_code in (200, 302)
    assert _user_row(session, agent.id) == before
    assert session.get(User, agent.id).locale == "en"  # the one field the form owns
    response = client.post("/account", data=setting["values"])  # no known field at all
    assert response.status_code in (200, 400)
    assert _user_row(session, agent.id) == before
    assert session.scalars(select(TeamMembership.team_id).where(TeamMembership.user_id == agent.id)).all() == memberships
    other = setting["other"]
    assert _user_row(session, other.id)[2:4] == ("agent", True)


def test_quiz_save_and_submit_ignore_score_state_and_owner(client, auth, session, agent, setting):
    auth.login_as(agent)
    quiz = quizzes.get_quiz(session, "evaluacion-a")
    attempt = quizzes.start_attempt(session, agent, quiz, now=now_utc())
    session.commit()
    wrong = answer_attempt(attempt, 0.0)
    other_attempt = setting["other_attempt"]
    other_before = db_state(session)["quiz_attempts"], db_state(session)["attempt_slots"]
    response = client.post(f"/attempts/{attempt.id}/save", data={**wrong, **setting["values"]}, headers={"X-Requested-With": "fetch"})
    assert response.status_code == 200 and response.get_json()["ok"] is True
    session.expire_all()
    attempt = quizzes.get_attempt(session, attempt.id)
    assert (attempt.user_id, attempt.state, attempt.score, attempt.percent, attempt.passed, attempt.max_score, attempt.pass_mark,
            attempt.number) == (agent.id, "in_progress", None, None, None, 2.0, 80.0, 1)
    client.post(f"/attempts/{attempt.id}/submit", data={**wrong, **setting["values"]})
    session.expire_all()
    attempt = quizzes.get_attempt(session, attempt.id)
    assert attempt.user_id == agent.id and attempt.state == "graded"
    assert attempt.score == 0 and attempt.percent == 0 and attempt.passed is False  # graded by the engine, not by the form
    # the other agent's attempt (named by attempt_id / user_id) is untouched
    session.expire_all()
    other = quizzes.get_attempt(session, other_attempt.id)
    assert other.state == "in_progress" and all(slot.answer is None for slot in other.slots)
    assert other_before[0] != db_state(session)["quiz_attempts"]  # ours changed (sanity) …
    assert [r for r in db_state(session)["quiz_attempts"] if r[0] == other.id] == [r for r in other_before[0] if r[0] == other.id]


def test_roleplay_reply_and_submit_ignore_speaker_timing_grade_and_owner(client, auth, session, agent, setting):
    auth.login_as(agent)
    submission = roleplays.start_practice(session, agent, roleplays.get_scenario(session, "chat-retraso"), now=now_utc())
    session.commit()
    other_sub = setting["other_sub"]
    other_turns = [(t.id, t.text) for t in roleplays.get_submission(session, other_sub.id).turns]
    for text in ("Hola, Ana.", "Gracias, Ana."):
        response = client.post(f"/practice/{submission.id}/reply", data={**setting["values"], "thread": "ana", "text": text})
        assert response.status_code == 302
    client.post(f"/practice/{submission.id}/submit", data=setting["values"])
    session.expire_all()
    submission = session.get(RoleplaySubmission, submission.id)
    assert (submission.user_id, submission.state, submission.grade_state, submission.score, submission.passed) == (
        agent.id, "submitted", "ungraded", None, None)
    turns = session.scalars(select(RoleplayTurn).where(RoleplayTurn.submission_id == submission.id).order_by(RoleplayTurn.position)).all()
    assert [t.speaker for t in turns] == ["customer", "agent", "customer", "agent"]
    assert [t.position for t in turns] == [0, 1, 2, 3]
    assert session.scalar(select(RoleplayGrade).where(RoleplayGrade.submission_id == submission.id)) is None
    session.expire_all()
    assert [(t.id, t.text) for t in roleplays.get_submission(session, other_sub.id).turns] == other_turns


def test_roleplay_grading_form_computes_score_and_keeps_the_grader(client, auth, session, agent, trainer, setting):
    now = now_utc()
    submission = roleplays.start_practice(session, agent, roleplays.get_scenario(session, "chat-retraso"), now=now)
    for text in ("Hola, Ana.", "Gracias, Ana."):
        roleplays.reply(session, submission, agent, thread="ana", text=text, now=now)
    roleplays.submit(session, submission, agent, escalation=None, now=now)
    session.commit()
    auth.login_as(trainer)
    data = {**setting["values"], "level-tiempo": "1", "action": "draft", "revision": "0", "overall": "Mejorable"}
    assert client.post(f"/manage/roleplays/{submission.id}", data=data).status_code == 302
    session.expire_all()
    grade = roleplays.grade_for(session, session.get(RoleplaySubmission, submission.id))
    assert (grade.grader_id, grade.state, grade.score, grade.passed, grade.levels) == (trainer.id, "draft", 25.0, False, {"tiempo": 1})
    submission = session.get(RoleplaySubmission, submission.id)
    assert (submission.user_id, submission.grade_state, submission.score) == (agent.id, "draft", None)


def test_quiz_grading_form_changes_only_the_slot_it_names(client, auth, session, agent, trainer, setting):
    now = now_utc()
    attempt = quizzes.start_attempt(session, agent, quizzes.get_quiz(session, "evaluacion-a"), now=now)
    quizzes.submit_attempt(session, attempt, agent, answer_attempt(attempt, 0.0), now=now)
    session.commit()
    auth.login_as(trainer)
    data = {**setting["values"], "slot": "0", "s0-revision": str(attempt.revision), "s0-score": "1", "s0-reason": "Revisado",
            "s1-score": "1", "s1-revision": str(attempt.revision)}
    client.post(f"/manage/attempts/{attempt.id}", data=data)
    session.expire_all()
    attempt = quizzes.get_attempt(session, attempt.id)
    assert [s.score for s in attempt.slots] == [1.0, 0.0]
    assert (attempt.user_id, attempt.score, attempt.percent, attempt.max_score, attempt.pass_mark) == (agent.id, 1.0, 50.0, 2.0, 80.0)
    before = db_state(session)
    client.post(f"/manage/attempts/{attempt.id}", data={"slot": "1", "s1-revision": str(attempt.revision), "s1-score": "5",
                                                        "s1-reason": "más puntos que la pregunta"})
    assert changed_tables(before, db_state(session)) == []


def test_certificate_record_form_ignores_status_and_dates(client, auth, session, agent, admin, setting):
    record = certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Prueba", now=now_utc())
    session.commit()
    expires, code, user_id = record.expires_at, record.code, record.user_id
    auth.login_as(admin)
    client.post(f"/manage/certifications/records/{record.id}", data={**setting["values"], "action": "revoke", "reason": "Fraude",
                                                                      "code": "nuevo", "definition_id": "999"})
    session.expire_all()
    record = certs.get_record(session, record.id)
    assert (record.status, record.expires_at.replace(tzinfo=None), record.code, record.user_id) == (
        "revoked", expires.replace(tzinfo=None), code, user_id)


def test_admin_user_form_ignores_fields_it_does_not_have(client, auth, session, agent, admin, setting):
    auth.login_as(admin)
    before = _user_row(session, agent.id)
    client.post(f"/admin/users/{agent.id}", data={**setting["values"], "name": "Lucía Agente", "role": "agent", "is_active": "y",
                                                  "teams": [str(setting["team"].id)]})
    assert _user_row(session, agent.id) == before


@pytest.mark.parametrize("method,path,body", [
    ("PATCH", "/api/v1/users/{agent}", {"name": "Nombre", "email": "pirata@example.com"}),
    ("PATCH", "/api/v1/users/{agent}", {"role": "admin", "password_hash": "x"}),
    ("PATCH", "/api/v1/users/{agent}", {"id": 1, "name": "Nombre"}),
    ("PATCH", "/api/v1/users/{agent}", {"teams": [1], "is_active": False}),
    ("POST", "/api/v1/users", {"email": "nuevo@example.com", "name": "N", "role": "agent", "is_admin": True}),
    ("POST", "/api/v1/users", {"email": "nuevo@example.com", "name": "N", "role": "agent", "session_version": 5}),
    ("POST", "/api/v1/teams", {"name": "Equipo", "id": 1}),
    ("POST", "/api/v1/teams/{team}/members", {"user_id": "{other}", "kind": "manager"}),
    ("POST", "/api/v1/enrollments", {"user_id": "{agent}", "track": "corto", "start_date": "2026-02-02", "progress": 100}),
])
def test_api_refuses_unknown_fields_and_changes_nothing(client, session, agent, admin, setting, method, path, body):
    token = api_tokens.create_token(session, name="Todo", scopes=list(api_tokens.SCOPES), expires_at=None, created_by=admin,
                                    now=now_utc()).secret
    session.commit()
    ids = {"agent": agent.id, "team": setting["team"].id, "other": setting["other"].id}
    body = {k: (int(v.format(**ids)) if isinstance(v, str) and v.startswith("{") else v) for k, v in body.items()}
    before = db_state(session)
    response = client.open(path.format(**ids), method=method, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (400, 422), response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]
    assert changed_tables(before, db_state(session)) in ([], ["api_tokens"])  # the token's last-use stamp only
