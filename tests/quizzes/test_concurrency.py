"""Ten submissions of one attempt at the same moment: exactly one counts (real threads, real database)."""
from __future__ import annotations

from datetime import date

from lms.accounts import services as accounts
from lms.content import sync
from lms.core.clock import now_utc
from lms.core.db import Database, write_intent
from lms.quizzes import services
from lms.tracks import services as tracks
from tests.concurrency import run_at_once
from tests.conftest import TEST_CONTENT, make_test_app
from tests.quizzes.helpers import answer_all_correctly


def test_concurrent_submissions_of_one_attempt(databases, tmp_path):
    url = databases.create("concurrency")
    app = make_test_app(url, tmp_path)
    db = Database(url)
    with app.app_context():
        with db.sessionmaker() as session:
            sync(session, TEST_CONTENT)
            admin = accounts.create_user(session, email="a@example.com", name="A", role="admin")
            agent = accounts.create_user(session, email="b@example.com", name="B", role="agent")
            tracks.enroll(session, actor=admin, agent=agent, track=tracks.find_track(session, "corto"), start_date=date.today(), now=now_utc())
            attempt = services.start_attempt(session, agent, services.get_quiz(session, "evaluacion-a"), now=now_utc())
            values = answer_all_correctly(attempt)
            session.commit()
            attempt_id, agent_id = attempt.id, agent.id

        def submit(_i):
            with app.app_context():
                token = write_intent.set(True)
                try:
                    with db.sessionmaker() as session:
                        try:
                            target = services.get_attempt(session, attempt_id)
                            services.submit_attempt(session, target, accounts.get_user(session, agent_id), values, now=now_utc())
                            session.commit()
                            return "ok"
                        except services.AttemptClosed:
                            session.rollback()
                            return "conflict"
                        except Exception:
                            session.rollback()
                            raise
                finally:
                    write_intent.reset(token)

        outcomes = run_at_once(submit, 10)

        assert sorted(outcomes) == ["conflict"] * 9 + ["ok"], outcomes
        with db.sessionmaker() as session:
            final = services.get_attempt(session, attempt_id)
            assert final.state == "graded" and final.score == final.max_score
            assert [e.kind for e in services.history(session, final)].count("submitted") == 1
    db.engine.dispose()
    from lms.core.db import get_db
    get_db(app).engine.dispose()
