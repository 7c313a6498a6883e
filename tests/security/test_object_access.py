"""Object-level access: another agent's things, another team's agents, actions hidden from a role.

tests/test_access.py checks each role against each route with objects the role may see; here the
objects belong to someone the user may NOT see, and every refusal must leave the database as it was
and the response free of the other person's data.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from lms.api import services as api_tokens
from lms.certification import services as certs
from lms.core.clock import now_utc
from lms.quizzes import services as quizzes
from lms.roleplays import services as roleplays
from lms.tracks import ical
from lms.tracks import services as tracks
from tests.quizzes.helpers import answer_all_correctly
from tests.security.helpers import changed_tables, db_state

SECRET = "Respuesta-privada-7f3a"  # written by agent A; must never reach anyone A's records are hidden from


@dataclass
class Pair:
    north: object
    south: object
    a: object  # agent of the north team, owner of every object below
    b: object  # agent of the north team too (a colleague)
    c: object  # agent of the south team
    trainer_n: object
    trainer_s: object
    manager_n: object
    manager_s: object
    admin: object
    attempt: object  # A's submitted attempt
    open_attempt: object  # A's attempt in progress
    submission: object  # A's submitted role-play
    open_submission: object  # A's role-play in progress
    record: object
    enrollment: object
    feed_token: str


@pytest.fixture
def pair(session, content, make_team, make_user) -> Pair:
    north, south = make_team("Norte"), make_team("Sur")
    a = make_user("agent", name="Agente Ana", teams=[north])
    b = make_user("agent", name="Agente Bea", teams=[north])
    c = make_user("agent", name="Agente Carla", teams=[south])
    trainer_n, trainer_s = make_user("trainer", teams=[north]), make_user("trainer", teams=[south])
    manager_n, manager_s = make_user("manager", teams=[north]), make_user("manager", teams=[south])
    admin = make_user("admin")
    now = now_utc()
    track = tracks.find_track(session, "corto")
    enrollment = None
    for agent in (a, b, c):
        e, _ = tracks.enroll(session, actor=admin, agent=agent, track=track, start_date=date.today() - timedelta(days=1), now=now)
        enrollment = enrollment or e
    quiz = quizzes.get_quiz(session, "evaluacion-a")
    attempt = quizzes.start_attempt(session, a, quiz, now=now)
    quizzes.submit_attempt(session, attempt, a, answer_all_correctly(attempt), now=now)
    open_attempt = quizzes.start_attempt(session, a, quiz, now=now)
    scenario = roleplays.get_scenario(session, "chat-retraso")
    submission = roleplays.start_practice(session, a, scenario, now=now)
    for text in (SECRET, "Gracias, Ana."):
        roleplays.reply(session, submission, a, thread="ana", text=text, now=now)
    roleplays.submit(session, submission, a, escalation={"level": "2", "destination": "Logística", "context": SECRET}, now=now)
    open_submission = roleplays.start_practice(session, a, scenario, now=now)
    roleplays.reply(session, open_submission, a, thread="ana", text=SECRET, now=now)
    record = certs.issue_manually(session, certs.get_definition(session, "proceso"), a, actor=admin, reason=SECRET, now=now)
    feed_token = ical.create(session, a.id, now=now)
    session.commit()
    return Pair(north, south, a, b, c, trainer_n, trainer_s, manager_n, manager_s, admin, attempt, open_attempt, submission,
                open_submission, record, enrollment, feed_token)


def _refused(response, *secrets: str) -> list[str]:
    problems = []
    if response.status_code not in (403, 404):
        problems.append(f"status {response.status_code}")
    body = response.get_data().decode("utf-8", "replace")  # XLSX and PDF bodies too
    for secret in (SECRET, *secrets):
        if secret and secret in body:
            problems.append(f"leaks {secret!r}")
    return problems


def _check_all(client, session, requests, *secrets):
    before = db_state(session)
    problems = []
    for method, url, data in requests:
        response = client.open(url, method=method, data=data)
        problems += [f"{method} {url}: {p}" for p in _refused(response, *secrets)]
    assert problems == []
    assert changed_tables(before, db_state(session)) == []


def test_an_agent_cannot_reach_a_colleagues_attempts_roleplays_or_certificates(client, auth, session, pair):
    p = pair
    auth.login_as(p.b)
    answers = {k: v for k, v in answer_all_correctly(p.open_attempt).items()}
    _check_all(client, session, [
        ("GET", f"/attempts/{p.open_attempt.id}", None),
        ("GET", f"/attempts/{p.attempt.id}", None),
        ("GET", f"/attempts/{p.attempt.id}/review", None),
        ("GET", f"/attempts/{p.open_attempt.id}/review", None),
        ("POST", f"/attempts/{p.open_attempt.id}/save", answers),
        ("POST", f"/attempts/{p.open_attempt.id}/submit", answers),
        ("GET", f"/practice/{p.open_submission.id}", None),
        ("GET", f"/practice/{p.submission.id}/result", None),
        ("POST", f"/practice/{p.open_submission.id}/reply", {"thread": "ana", "text": "intruso"}),
        ("POST", f"/practice/{p.open_submission.id}/email", {"subject": "intruso"}),
        ("POST", f"/practice/{p.open_submission.id}/submit", {}),
        ("GET", f"/certificates/{p.record.id}.pdf", None),
        ("GET", f"/badges/records/{p.record.id}/assertion", None),
        ("GET", f"/badges/records/{p.record.id}/credential.json", None),
        ("GET", f"/manage/roleplays/{p.submission.id}", None),
        ("POST", f"/manage/roleplays/{p.submission.id}", {"level-tiempo": "4", "action": "release", "revision": "0"}),
        ("GET", f"/manage/attempts/{p.attempt.id}", None),
        ("GET", f"/manage/agents/{p.a.id}", None),
        ("GET", f"/manage/dashboard/agents/{p.a.id}", None),
        ("GET", f"/manage/certifications/records/{p.record.id}", None),
    ], p.record.code)


def test_an_agent_sees_only_their_own_calendar(client, auth, session, pair):
    p = pair
    auth.login_as(p.b)
    before = db_state(session)
    page = client.get("/calendar/subscription").get_data(as_text=True)
    assert p.feed_token not in page
    assert client.get("/calendar/" + p.feed_token[:-1] + "x.ics").status_code == 404
    assert client.get("/calendar/../../etc/passwd.ics").status_code == 404
    # B's own calendar page: B's dates, never a link to A's feed
    assert p.feed_token not in client.get("/tracks/corto/calendar").get_data(as_text=True)
    # revoking "a" feed revokes B's own (there is none): A's keeps working
    client.post("/calendar/subscription", data={"action": "revoke", "user_id": str(p.a.id)})
    assert changed_tables(before, db_state(session)) in ([], ["calendar_feeds"])
    assert ical.by_token(session, p.feed_token) is not None
    assert client.get(f"/calendar/{p.feed_token}.ics").status_code == 200  # the secret URL itself still works (by design)


def test_a_trainer_cannot_reach_an_agent_of_a_team_they_do_not_train(client, auth, session, pair):
    p = pair
    auth.login_as(p.trainer_s)
    _check_all(client, session, [
        ("GET", f"/manage/attempts/{p.attempt.id}", None),
        ("POST", f"/manage/attempts/{p.attempt.id}", {"slot": "0", "s0-score": "0", "s0-reason": "x", "s0-revision": str(p.attempt.revision)}),
        ("GET", f"/attempts/{p.attempt.id}/review", None),
        ("GET", f"/manage/roleplays/{p.submission.id}", None),
        ("POST", f"/manage/roleplays/{p.submission.id}", {"level-tiempo": "4", "action": "release", "revision": "0"}),
        ("POST", "/manage/roleplays/calibration", {"submission": str(p.submission.id), "title": "robado"}),
        ("POST", "/manage/roleplays/assign", {"scenario": "chat-retraso", "team": str(p.north.id)}),
        ("GET", f"/manage/agents/{p.a.id}", None),
        ("GET", f"/manage/dashboard/agents/{p.a.id}", None),
        ("GET", f"/manage/dashboard/?team={p.north.id}", None),
        ("GET", f"/manage/teams/{p.north.id}", None),
        ("GET", f"/manage/certifications/agents/{p.a.id}", None),
        ("GET", f"/manage/certifications/records/{p.record.id}", None),
        ("GET", f"/certificates/{p.record.id}.pdf", None),
    ], p.record.code)
    # lists filtered by the north team's ids show nothing of it
    for url in (f"/manage/roleplays/?team={p.north.id}", f"/manage/roleplays/?agent={p.a.id}", "/manage/grading",
                "/manage/quizzes/evaluacion-a", "/manage/certifications/", "/manage/teams", "/manage/dashboard/"):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert p.a.name not in response.get_data(as_text=True), url


def test_a_manager_cannot_reach_another_teams_agent(client, auth, session, pair):
    p = pair
    auth.login_as(p.manager_s)
    _check_all(client, session, [
        ("GET", f"/manage/dashboard/?team={p.north.id}", None),
        ("GET", f"/manage/dashboard/export.csv?team={p.north.id}", None),
        ("GET", f"/manage/dashboard/export.xlsx?team={p.north.id}", None),
        ("GET", f"/manage/dashboard/certifications.csv?team={p.north.id}", None),
        ("GET", f"/manage/teams/{p.north.id}", None),
        ("GET", f"/manage/agents/{p.a.id}", None),
        ("GET", f"/manage/dashboard/agents/{p.a.id}", None),
        ("GET", f"/manage/certifications/agents/{p.a.id}", None),
        ("GET", f"/manage/certifications/records/{p.record.id}", None),
        ("GET", f"/certificates/{p.record.id}.pdf", None),
        ("GET", f"/badges/records/{p.record.id}/credential.json", None),
        ("GET", f"/manage/attempts/{p.attempt.id}", None),
        ("GET", f"/attempts/{p.attempt.id}/review", None),
        ("GET", f"/manage/roleplays/{p.submission.id}", None),
        ("POST", f"/manage/enrollments/{p.enrollment.id}/delete", {}),
    ], p.record.code)
    before = db_state(session)
    # posted forms naming the other team's agent change nothing
    client.post(f"/manage/enroll?team={p.north.id}", data={"enroll-agent_id": str(p.a.id), "enroll-track": "largo",
                                                           "enroll-start_date": "2026-02-02"})
    client.post("/manage/enroll", data={"enroll-agent_id": str(p.a.id), "enroll-track": "largo", "enroll-start_date": "2026-02-02"})
    client.post("/manage/accommodations", data={"agents": [str(p.a.id)], "time_multiplier": "2", "extra_attempts": "3", "reason": "x"})
    assert changed_tables(before, db_state(session)) == []
    # the unfiltered exports hold the manager's own agents only
    for url in ("/manage/dashboard/export.csv", "/manage/dashboard/certifications.csv"):
        body = client.get(url).get_data(as_text=True)
        assert p.c.email in body or url.endswith("certifications.csv")
        assert p.a.email not in body and p.b.email not in body, url
    xlsx = client.get("/manage/dashboard/export.xlsx").data
    assert p.a.email.encode() not in xlsx


def test_api_tokens_reach_only_their_scopes(client, session, pair):
    p = pair
    now = now_utc()
    narrow = api_tokens.create_token(session, name="Solo usuarios", scopes=["users:read"], expires_at=None, created_by=p.admin, now=now)
    revoked = api_tokens.create_token(session, name="Revocado", scopes=list(api_tokens.SCOPES), expires_at=None, created_by=p.admin, now=now)
    api_tokens.revoke_token(session, revoked.token, actor=p.admin, now=now)
    expired = api_tokens.create_token(session, name="Caducado", scopes=list(api_tokens.SCOPES), expires_at=now - timedelta(seconds=1),
                                      created_by=p.admin, now=now - timedelta(days=2))
    session.commit()
    before = db_state(session)
    for path in ("/api/v1/quiz-results", "/api/v1/roleplay-grades", "/api/v1/certifications", f"/api/v1/users/{p.a.id}/progress",
                 "/api/v1/enrollments", "/api/v1/teams"):
        response = client.get(path, headers={"Authorization": f"Bearer {narrow.secret}"})
        assert response.status_code == 403, path
        assert p.record.code not in response.get_data(as_text=True)
    response = client.patch(f"/api/v1/users/{p.a.id}", json={"role": "admin"}, headers={"Authorization": f"Bearer {narrow.secret}"})
    assert response.status_code == 403
    for secret in (revoked.secret, expired.secret, "lms_" + "x" * 43, narrow.secret[:-2]):
        response = client.get("/api/v1/users", headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 401, secret
        assert p.a.email not in response.get_data(as_text=True)
    # a session cookie is not a token
    client.post("/login", data={"email": p.admin.email, "password": "correct horse battery"})
    assert client.get("/api/v1/users").status_code == 401
    assert changed_tables(before, db_state(session)) in ([], ["api_tokens"])  # last-used stamps only


HIDDEN = [
    # (roles that must be refused, method, url template, form)
    (("agent",), "POST", "/manage/attempts/{attempt}", {"slot": "0", "s0-score": "0", "s0-reason": "x"}),
    (("agent",), "POST", "/manage/roleplays/{submission}", {"level-tiempo": "4", "action": "release", "revision": "0"}),
    (("agent",), "POST", "/manage/roleplays/assign", {"scenario": "chat-retraso", "team": "{north}"}),
    (("agent", "manager"), "POST", "/manage/roleplays/calibration", {"submission": "{submission}", "title": "x"}),
    (("agent", "trainer", "manager"), "POST", "/manage/certifications/agents/{a}/issue", {"definition": "proceso", "reason": "x"}),
    (("agent", "trainer", "manager"), "POST", "/manage/certifications/records/{record}", {"action": "revoke", "reason": "x"}),
    (("agent", "trainer"), "POST", "/manage/accommodations", {"agents": "{a}", "time_multiplier": "2", "extra_attempts": "3", "reason": "x"}),
    (("agent", "trainer"), "POST", "/manage/enroll", {"enroll-agent_id": "{a}", "enroll-track": "largo", "enroll-start_date": "2026-02-02"}),
    (("agent", "trainer"), "POST", "/manage/enrollments/{enrollment}/delete", {}),
    (("agent", "trainer", "manager"), "POST", "/admin/users/{a}", {"name": "Nuevo", "role": "admin", "is_active": "y"}),
    (("agent", "trainer", "manager"), "POST", "/admin/users/{trainer_n}", {"name": "Nuevo", "role": "admin", "is_active": "y"}),
    (("agent", "trainer", "manager"), "POST", "/admin/users/new", {"email": "nuevo@example.com", "name": "N", "role": "admin",
                                                                   "password": "una frase bastante larga"}),
    (("agent", "trainer", "manager"), "POST", "/admin/users/{a}/reset-password", {}),
    (("agent", "trainer", "manager"), "POST", "/admin/teams", {"name": "Equipo pirata"}),
    (("agent", "trainer", "manager"), "POST", "/admin/teams/{north}/members", {"email": "{manager_s_email}"}),
    (("agent", "trainer", "manager"), "POST", "/admin/teams/{north}/members/{a}/remove", {}),
    (("agent", "trainer", "manager"), "POST", "/manage/api-tokens/", {"name": "t", "scopes": "users:write"}),
    (("agent", "trainer", "manager"), "POST", "/manage/xapi/retry", {}),
    (("agent", "trainer", "manager"), "POST", "/manage/lti", {}),
    (("trainer", "manager", "admin"), "POST", "/attempts/{open_attempt}/submit", {}),
    (("trainer", "manager", "admin"), "POST", "/practice/{open_submission}/submit", {}),
]


@pytest.mark.parametrize("role", ["agent", "trainer", "manager", "admin"])
def test_hidden_actions_posted_directly_are_refused_and_change_nothing(client, auth, session, pair, role):
    p = pair
    user = {"agent": p.b, "trainer": p.trainer_n, "manager": p.manager_n, "admin": p.admin}[role]
    values = {"attempt": p.attempt.id, "submission": p.submission.id, "north": p.north.id, "a": p.a.id, "record": p.record.id,
              "enrollment": p.enrollment.id, "trainer_n": p.trainer_n.id, "manager_s_email": p.manager_s.email,
              "open_attempt": p.open_attempt.id, "open_submission": p.open_submission.id}
    auth.login_as(user)
    before = db_state(session)
    problems = []
    for roles, method, url, form in HIDDEN:
        if role not in roles:
            continue
        target = url.format(**values)
        data = {k: v.format(**values) for k, v in form.items()}
        response = client.open(target, method=method, data=data)
        if response.status_code not in (403, 404):
            problems.append(f"{role} {method} {target}: {response.status_code}")
    assert problems == []
    assert changed_tables(before, db_state(session)) == []


def test_an_agent_cannot_read_or_mark_a_colleagues_notifications(client, auth, session, pair):
    from lms.notifications import services as notifications
    from lms.notifications.models import Notification

    p = pair
    mine = notifications.notify(session, p.a, "certificate_issued", {"title": SECRET, "expires": "2027-01-01"},
                                link="/certifications", key=f"h3-secret:{p.a.id}", now=now_utc(), email=False)
    session.commit()
    auth.login_as(p.b)
    _check_all(client, session, [
        ("POST", "/notifications/read", {"notification_id": str(mine.id)}),
        ("POST", "/notifications/read", {"notification_id": str(mine.id), "open": "1"}),
    ])
    for url in ("/notifications", "/notifications?page=1", "/"):
        assert SECRET not in client.get(url).get_data(as_text=True), url
    client.post("/notifications/read-all", data={"user_id": str(p.a.id)})
    session.expire_all()
    assert session.get(Notification, mine.id).read_at is None
