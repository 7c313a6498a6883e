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


def _attempt_in_progress(databases, tmp_path, name: str):
    """A database of its own with an agent's attempt of evaluacion-a in progress:
    (app, database, attempt id, agent id, the answers that earn every mark)."""
    url = databases.create(name)
    app = make_test_app(url, tmp_path)
    db = Database(url)
    with app.app_context(), db.sessionmaker() as session:
        sync(session, TEST_CONTENT)
        admin = accounts.create_user(session, email="a@example.com", name="A", role="admin")
        agent = accounts.create_user(session, email="b@example.com", name="B", role="agent")
        tracks.enroll(session, actor=admin, agent=agent, track=tracks.find_track(session, "corto"), start_date=date.today(), now=now_utc())
        attempt = services.start_attempt(session, agent, services.get_quiz(session, "evaluacion-a"), now=now_utc())
        values = answer_all_correctly(attempt)
        session.commit()
        return app, db, attempt.id, agent.id, values


def test_concurrent_submissions_of_one_attempt(databases, tmp_path):
    app, db, attempt_id, agent_id, values = _attempt_in_progress(databases, tmp_path, "concurrency")
    with app.app_context():

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


def test_a_save_that_read_the_attempt_before_it_was_submitted_changes_nothing(databases, tmp_path):
    """An auto-save (or a second tab's submission) that loaded the attempt while it was in progress, and writes
    after another request submitted it, must not overwrite the answers that were graded."""
    app, db, attempt_id, agent_id, correct = _attempt_in_progress(databases, tmp_path, "stale_save")
    with app.app_context():
        token = write_intent.set(True)
        try:
            with db.sessionmaker() as late:  # the auto-save's request: it read the attempt in progress …
                stale = services.get_attempt(late, attempt_id)
                late_user = accounts.get_user(late, agent_id)
                assert stale.state == "in_progress" and stale.slots
                late.commit()  # (its reads done; SQLite would not let the submission write during its transaction)
                with db.sessionmaker() as first:  # … while another request submits it
                    services.submit_attempt(first, services.get_attempt(first, attempt_id), accounts.get_user(first, agent_id),
                                            correct, now=now_utc())
                    first.commit()
                flip = {"true": "false", "false": "true"}
                other = {name: [flip.get(v, v) for v in values] for name, values in correct.items()}
                assert other != correct  # a true/false question among them: the late save would change an answer
                try:
                    services.save_answers(late, stale, late_user, other, now=now_utc())
                except services.AttemptClosed:
                    late.rollback()
                else:
                    late.commit()
                    raise AssertionError("the late save went through")
        finally:
            write_intent.reset(token)
        with db.sessionmaker() as session:
            final = services.get_attempt(session, attempt_id)
            assert final.state == "graded" and final.score == final.max_score
            # the stored answers are still the ones that were graded: each earns its full marks
            assert all(services.REGISTRY[s.question_version.data["type"]].grade(s.question_version.data, s.layout, s.answer).fraction == 1
                       for s in final.slots)
    db.engine.dispose()
    from lms.core.db import get_db
    get_db(app).engine.dispose()


def test_a_submission_grades_the_answers_stored_when_it_writes(databases, tmp_path):
    """A submission reads the attempt before it takes the lock (reads_first on SQLite; any request on PostgreSQL).
    An auto-save committed in between is what gets graded: the marks always match the stored answers."""
    app, db, attempt_id, agent_id, correct = _attempt_in_progress(databases, tmp_path, "stale_submit")
    with app.app_context():
        token = write_intent.set(True)
        try:
            with db.sessionmaker() as submission:  # the submission's request: it read the attempt, no answers yet …
                stale = services.get_attempt(submission, attempt_id)
                user = accounts.get_user(submission, agent_id)
                assert all(slot.answer is None for slot in stale.slots)
                submission.commit()
                with db.sessionmaker() as autosave:  # … while the page's auto-save stores every answer
                    services.save_answers(autosave, services.get_attempt(autosave, attempt_id), accounts.get_user(autosave, agent_id),
                                          correct, now=now_utc())
                    autosave.commit()
                services.submit_attempt(submission, stale, user, {}, now=now_utc())  # the form sent nothing new
                submission.commit()
        finally:
            write_intent.reset(token)
        with db.sessionmaker() as session:
            final = services.get_attempt(session, attempt_id)
            assert final.state == "graded" and all(slot.answer is not None for slot in final.slots)
            assert final.score == final.max_score  # graded on the stored answers, not on what the request had read
    db.engine.dispose()
    from lms.core.db import get_db
    get_db(app).engine.dispose()


def test_a_summary_moved_while_a_submission_waits_for_it_is_read_again(databases, tmp_path):
    """Another transaction holds the agent's quiz summary (an exam start, a trainer's mark) while a submission writes.
    On PostgreSQL the submission's statement has read the figures before and waits on the row; when the other commits,
    its guarded UPDATE matches nothing, and the row is read again under its lock. On SQLite the submission waits for the
    write lock instead and reads the new figures. Either way the listeners get the figures the change was made from,
    and nothing the other transaction wrote is lost."""
    import threading
    import time
    from datetime import timedelta

    from sqlalchemy import text, update

    from lms.quizzes import signals
    from lms.quizzes.models import QuizSummary

    app, db, attempt_id, agent_id, values = _attempt_in_progress(databases, tmp_path, "summary_race")
    postgresql = db.engine.dialect.name == "postgresql"
    elsewhere = (now_utc() + timedelta(hours=1)).replace(microsecond=0)
    sent, outcome = [], []
    with app.app_context():
        token = write_intent.set(True)
        try:
            with db.engine.connect() as other, signals.standing_changed.connected_to(lambda _s, **kw: sent.append(kw)):
                with db.sessionmaker() as session:
                    quiz_id = services.get_attempt(session, attempt_id).quiz_id
                other.execute(update(QuizSummary).where(QuizSummary.user_id == agent_id, QuizSummary.quiz_id == quiz_id)
                              .values(last_activity_at=elsewhere))  # held, not committed yet

                def submit():
                    with app.app_context():
                        inner = write_intent.set(True)
                        try:
                            with db.sessionmaker() as session:
                                services.submit_attempt(session, services.get_attempt(session, attempt_id),
                                                        accounts.get_user(session, agent_id), values, now=now_utc())
                                session.commit()
                                outcome.append("ok")
                        except Exception as exc:  # noqa: BLE001 - reported below
                            outcome.append(repr(exc))
                        finally:
                            write_intent.reset(inner)

                thread = threading.Thread(target=submit)
                thread.start()
                if postgresql:  # until the submission's statement waits on the summary's row
                    with db.engine.connect() as watcher:
                        waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
                        deadline = time.monotonic() + 20
                        while not watcher.execute(text(waiting)).scalar() and time.monotonic() < deadline:
                            time.sleep(0.05)
                            watcher.rollback()
                        assert watcher.execute(text(waiting)).scalar() == 1
                else:
                    time.sleep(0.5)
                assert thread.is_alive() and not outcome  # it waits for the other transaction
                other.commit()
                thread.join(timeout=30)
        finally:
            write_intent.reset(token)
        assert outcome == ["ok"]
        mine = [kw for kw in sent if kw.get("before") is not None]
        assert mine[-1]["before"].last_activity_at == elsewhere and mine[-1]["before"].grade is None
        assert mine[-1]["after"].grade == 100 and mine[-1]["after"].passed and mine[-1]["after"].last_activity_at == elsewhere
        with db.sessionmaker() as session:
            row = session.query(QuizSummary).filter_by(user_id=agent_id, quiz_id=quiz_id).one()
            assert (row.graded, row.grade, row.passed, row.last_activity_at) == (1, 100, True, elsewhere)
    db.engine.dispose()
    from lms.core.db import get_db
    get_db(app).engine.dispose()
