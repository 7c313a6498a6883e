"""Pages issue the same number of SQL statements however many questions, attempts or agents there are."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import event

from lms.core.db import get_db
from lms.quizzes import services as quizzes
from lms.tracks import services as tracks
from tests.quizzes.helpers import answer_all_correctly

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)
IGNORED = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@contextmanager
def counting(app):
    statements: list[str] = []
    engine = get_db(app).engine

    def listener(conn, cursor, statement, *args):
        if not statement.startswith(IGNORED):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def build(session, make_user, team, manager, n_questions: int, n_agents: int, n_attempts: int):
    quiz = quizzes.get_quiz(session, "evaluacion-a")
    # the essay is always in, so that every configuration has attempts waiting for a trainer
    slugs = ["redactar", "chat-30", "email-vf", "nivel1-numero", "orden-canales", "calc-porcentaje", "caso-ticket"][:n_questions]
    quiz.settings = dict(quiz.settings, draw=[{"questions": slugs}], attempts_allowed=None)
    agents = [make_user("agent", teams=[team]) for _ in range(n_agents)]
    last = None
    for agent in agents:
        tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 1, 5), now=T0)
        for n in range(n_attempts):
            attempt = quizzes.start_attempt(session, agent, quiz, now=T0 + timedelta(hours=n))
            quizzes.submit_attempt(session, attempt, agent, answer_all_correctly(attempt), now=T0 + timedelta(hours=n, minutes=1))
            last = attempt
    open_attempt = quizzes.start_attempt(session, agents[0], quiz, now=T0 + timedelta(hours=n_attempts + 1))
    session.commit()
    return agents, last, open_attempt


def measure(app, client, auth, session, agents, trainer, last, open_attempt) -> dict[str, int]:
    counts = {}
    auth.login_as(agents[0])
    for name, method, url in [
        ("quiz", "GET", "/quizzes/evaluacion-a"),
        ("attempt", "GET", f"/attempts/{open_attempt.id}"),
        ("save", "POST", f"/attempts/{open_attempt.id}/save"),
        ("review", "GET", f"/attempts/{last.id}/review" if last.user_id == agents[0].id else f"/attempts/{open_attempt.id}/review"),
        ("home", "GET", "/"),
    ]:
        with counting(app) as statements:
            response = client.open(url, method=method, data={"q0": ["0"]} if method == "POST" else None)
        assert response.status_code in (200, 302), (name, response.status_code)
        counts[name] = len(statements)
    with counting(app) as statements:
        client.post(f"/attempts/{open_attempt.id}/submit", data={})
    counts["submit"] = len(statements)
    client.post("/logout")
    auth.login_as(trainer)
    for name, url in [("results", "/manage/quizzes/evaluacion-a"), ("grading", "/manage/grading"), ("overview", "/manage/quizzes"),
                      ("manage_attempt", f"/manage/attempts/{last.id}"), ("team", f"/manage/teams/{agents[0].memberships[0].team_id}"),
                      ("dashboard", f"/manage/dashboard/?team={agents[0].memberships[0].team_id}")]:
        with counting(app) as statements:
            response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(statements)
    client.post("/logout")
    return counts


@pytest.mark.parametrize("dimension", ["questions", "attempts", "agents"])
def test_query_count_does_not_grow(app, client, auth, session, content, team, manager, trainer, make_user, dimension):
    small = dict(n_questions=2, n_agents=1, n_attempts=1)
    large = dict(small)
    large[{"questions": "n_questions", "attempts": "n_attempts", "agents": "n_agents"}[dimension]] = {"questions": 7, "attempts": 4, "agents": 5}[dimension]
    agents, last, open_attempt = build(session, make_user, team, manager, **small)
    first = measure(app, client, auth, session, agents, trainer, last, open_attempt)
    session.rollback()
    agents2, last2, open2 = build(session, make_user, team, manager, **large)
    second = measure(app, client, auth, session, agents2, trainer, last2, open2)
    assert second == first
    assert min(first.values()) >= 2 and max(first.values()) <= 16, first
