"""A fresh database with an agent half-way through a quiz, for the fault and idempotency tests."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lms.accounts import services as accounts
from lms.content import sync
from lms.core.clock import now_utc
from lms.core.db import Database
from lms.quizzes import services as quizzes
from lms.tracks import services as tracks
from tests.conftest import PASSWORD, TEST_CONTENT, make_test_app
from tests.quizzes.helpers import answer_all_correctly


@dataclass
class QuizSetup:
    url: str
    app: object
    agent_ids: list
    agent_emails: list
    attempt_ids: list
    values: list


def quiz_setup(databases, tmp_path, label: str, agents: int = 1, **config) -> QuizSetup:
    """Migrated database, content, ``agents`` enrolled agents each with an open attempt of evaluacion-a."""
    url = databases.create(label)
    app = make_test_app(url, tmp_path, **config)
    db = Database(url)
    ids, emails, attempts, values = [], [], [], []
    try:
        with app.app_context(), db.sessionmaker() as session:
            sync(session, TEST_CONTENT)
            admin = accounts.create_user(session, email=f"admin-{label}@example.com", name="Admin", role="admin")
            track = tracks.find_track(session, "corto")
            quiz = quizzes.get_quiz(session, "evaluacion-a")
            for n in range(agents):
                agent = accounts.create_user(session, email=f"agent{n}-{label}@example.com", name=f"Agente {n}", role="agent",
                                             password=PASSWORD)
                tracks.enroll(session, actor=admin, agent=agent, track=track, start_date=date.today(), now=now_utc())
                attempt = quizzes.start_attempt(session, agent, quiz, now=now_utc())
                values.append(answer_all_correctly(attempt))
                session.flush()
                ids.append(agent.id)
                emails.append(agent.email)
                attempts.append(attempt.id)
            session.commit()
    finally:
        db.engine.dispose()
    return QuizSetup(url, app, ids, emails, attempts, values)


def logged_in_client(app, email: str):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def form_of(values: dict, key: str | None = None) -> dict:
    data = {k: v for k, v in values.items()}
    if key is not None:
        data["idempotency_key"] = key
    return data
