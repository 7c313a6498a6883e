"""Quiz summaries (one row per agent and quiz) always equal what the attempts say, whatever happens to them."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lms.quizzes import services
from lms.quizzes.models import QuizAttempt, QuizSummary
from lms.tracks import services as tracks
from tests.quizzes.helpers import answer_attempt

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def quiz(session, content, agent, manager):
    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 1, 5), now=T0)
    quiz = services.get_quiz(session, "evaluacion-a")
    quiz.settings = {**quiz.settings, "attempts_allowed": None}
    session.flush()
    return quiz


def stored(session, user_id, quiz):
    row = session.scalar(select(QuizSummary).where(QuizSummary.user_id == user_id, QuizSummary.quiz_id == quiz.id))
    return None if row is None else {k: getattr(row, k) for k in ("attempts", "graded", "pending", "grade", "passed",
                                                                    "first_passed_at", "last_activity_at")}


def recomputed(session, user_id, quiz):
    session.expire_all()
    return services.summarise(quiz, list(session.scalars(select(QuizAttempt).where(QuizAttempt.user_id == user_id, QuizAttempt.quiz_id == quiz.id)
                                                        .order_by(QuizAttempt.number))))


def test_every_change_of_an_attempt_updates_the_summary(session, agent, trainer, quiz):
    assert stored(session, agent.id, quiz) is None
    attempt = services.start_attempt(session, agent, quiz, now=T0)
    assert stored(session, agent.id, quiz) == {"attempts": 1, "graded": 0, "pending": 0, "grade": None, "passed": False,
                                               "first_passed_at": None, "last_activity_at": T0}
    services.expire_if_overdue(session, attempt, now=T0 + timedelta(hours=1))  # abandoned: counts, no grade
    assert stored(session, agent.id, quiz)["attempts"] == 1 and stored(session, agent.id, quiz)["grade"] is None
    second = services.start_attempt(session, agent, quiz, now=T0 + timedelta(hours=2))
    services.submit_attempt(session, second, agent, answer_attempt(second, 1.0), now=T0 + timedelta(hours=2, minutes=5))
    summary = stored(session, agent.id, quiz)
    assert summary["grade"] == 100 and summary["passed"] and summary["first_passed_at"] == T0 + timedelta(hours=2, minutes=5)
    # a trainer's override lowers the grade below the pass mark: the summary follows
    slot = second.slots[0]
    services.set_slot_score(session, second, slot, score=0, feedback="", reason="Respuesta copiada", actor=trainer,
                            expected_revision=second.revision, now=T0 + timedelta(days=1))
    summary = stored(session, agent.id, quiz)
    assert summary["passed"] is False and summary["grade"] < 80 and summary["first_passed_at"] is None
    assert summary == recomputed(session, agent.id, quiz)


@pytest.mark.parametrize("method", ["highest", "last", "average"])
def test_random_histories_match_the_attempts(session, agent, quiz, method):
    quiz.settings = {**quiz.settings, "grade_method": method}
    session.flush()
    rng = random.Random(method)
    now = T0
    for _ in range(12):
        now += timedelta(hours=2)
        attempt = services.start_attempt(session, agent, quiz, now=now)
        if rng.random() < 0.25:
            services.expire_if_overdue(session, attempt, now=now + timedelta(hours=1))
        else:
            services.submit_attempt(session, attempt, agent, answer_attempt(attempt, rng.choice([0.0, 0.5, 1.0]), rng), now=now + timedelta(minutes=3))
        assert stored(session, agent.id, quiz) == recomputed(session, agent.id, quiz)


def test_rebuild_gives_the_rows_kept_on_write(session, agent, manager, quiz, make_user, team):
    others = [agent, make_user("agent", teams=[team])]
    for n, person in enumerate(others):
        if person is not agent:
            tracks.enroll(session, actor=manager, agent=person, track=tracks.find_track(session, "corto"),
                          start_date=date(2026, 1, 5), now=T0)
        for k in range(2 + n):
            attempt = services.start_attempt(session, person, quiz, now=T0 + timedelta(hours=3 * k))
            services.submit_attempt(session, attempt, person, answer_attempt(attempt, 0.5 * k), now=T0 + timedelta(hours=3 * k, minutes=2))
    kept = {p.id: stored(session, p.id, quiz) for p in others}
    assert services.rebuild_summaries(session, batch=2) == 2
    session.expire_all()
    assert {p.id: stored(session, p.id, quiz) for p in others} == kept
    standings = services.standings(session, [p.id for p in others], [quiz])
    assert standings[(agent.id, quiz.id)].grade == kept[agent.id]["grade"]


def test_a_summary_moved_after_the_submission_read_it_is_read_again(session, agent, quiz):
    """The submitting UPDATE reads the summary's figures before the change; on PostgreSQL another transaction may move
    the row before the summary's own UPDATE. That UPDATE then matches nothing (it checks the figures read), and the row
    is read again under its lock: listeners get the figures the change was made from."""
    from sqlalchemy import update

    from lms.quizzes import signals

    attempt = services.start_attempt(session, agent, quiz, now=T0)
    elsewhere = T0 + timedelta(hours=1)  # another request's activity, committed after the submission read the figures

    def meanwhile(_session, **_kw):
        session.execute(update(QuizSummary).where(QuizSummary.user_id == agent.id, QuizSummary.quiz_id == quiz.id)
                        .values(last_activity_at=elsewhere).execution_options(synchronize_session=False))

    sent = []
    with signals.attempt_graded.connected_to(meanwhile), \
            signals.standing_changed.connected_to(lambda _session, **kw: sent.append(kw)):
        services.submit_attempt(session, attempt, agent, answer_attempt(attempt, 1.0), now=T0 + timedelta(minutes=5))
    if session.connection().dialect.name == "postgresql":
        # there the summary's UPDATE goes in the submitting statement (lms.quizzes.submission), before any listener:
        # the figures moved from are those it read (a row moved by another transaction while that statement waits:
        # tests/quizzes/test_concurrency.py)
        assert sent[-1]["before"] == signals.Figures(None, False, None, T0)
        assert sent[-1]["after"] == signals.Figures(100, True, T0 + timedelta(minutes=5), T0 + timedelta(minutes=5))
        return
    assert sent[-1]["before"] == signals.Figures(None, False, None, elsewhere)
    assert sent[-1]["after"] == signals.Figures(100, True, T0 + timedelta(minutes=5), elsewhere)
    session.expire_all()
    assert stored(session, agent.id, quiz) == {"attempts": 1, "graded": 1, "pending": 0, "grade": 100, "passed": True,
                                               "first_passed_at": T0 + timedelta(minutes=5), "last_activity_at": elsewhere}


def test_a_submission_reads_the_summary_before_it_in_its_own_statement(session, agent, quiz):
    """Without another writer, the figures before come with the submitting UPDATE, and the summary's UPDATE moves the row."""
    from lms.quizzes import signals

    attempt = services.start_attempt(session, agent, quiz, now=T0)
    sent = []
    with signals.standing_changed.connected_to(lambda _session, **kw: sent.append(kw)):
        services.submit_attempt(session, attempt, agent, answer_attempt(attempt, 0.0), now=T0 + timedelta(minutes=5))
    assert sent[-1]["before"] == signals.Figures(None, False, None, T0)
    assert sent[-1]["after"] == signals.Figures(0, False, None, T0 + timedelta(minutes=5))
    assert sent[-1]["grade_changed"]
    assert stored(session, agent.id, quiz) == recomputed(session, agent.id, quiz)
