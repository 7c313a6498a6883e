"""The progress summaries moved by a quiz standing's change (lms.tracks.progress_moves) are exactly what a rebuild from
every completion, quiz and standing writes, whatever happens: random histories of attempts passed and failed, essays
graded and marks overridden, attempts abandoned and lessons completed, in two tracks that share a module, across a holiday."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lms.quizzes import services as quizzes
from lms.quizzes.simulate import answer_attempt
from lms.quizzes.versions import version_of
from lms.tracks import services as tracks
from lms.tracks.calendar import add_holiday
from lms.tracks.models import EnrollmentProgress
from tests.quizzes.helpers import add_quiz

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)
COLUMNS = ("user_id", "track_id", "start_date", "end_date", "steps_total", "steps_done", "modules_total", "modules_done_in_order",
           "first_pending_due", "pending_days", "due_days", "done_days", "quiz_grades", "last_activity_at")


def stored(session, user_id):
    session.expire_all()
    return {row.enrollment_id: {c: getattr(row, c) for c in COLUMNS}
            for row in session.scalars(select(EnrollmentProgress).where(EnrollmentProgress.user_id == user_id))}


def rebuilt(session, user_id):
    tracks.refresh_progress(session, [user_id], now=T0)
    return stored(session, user_id)


def module_quiz(session, slug, module, day, questions, method):
    quiz = add_quiz(session, slug, questions)
    quiz.module_slug, quiz.day = module, day
    quiz.settings = {**quiz.settings, "grade_method": method}
    session.flush()
    return quiz


@pytest.mark.parametrize("method", ["highest", "last", "average"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_histories_match_a_rebuild(session, content, agent, manager, trainer, method, seed, monkeypatch):
    from lms.tracks import progress_moves

    moves = []
    real = progress_moves.move_by_standing
    monkeypatch.setattr(progress_moves, "move_by_standing", lambda *a, **kw: moves.append(real(*a, **kw)) or moves[-1])
    add_holiday(session, date(2026, 1, 8), "Fiesta local", now=T0)
    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 1, 5), now=T0)
    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "largo"), start_date=date(2026, 1, 7), now=T0)
    main = quizzes.get_quiz(session, "evaluacion-a")
    main.settings = {**main.settings, "attempts_allowed": None, "grade_method": method}
    every = [main,
             module_quiz(session, "con-ensayo", "semana-a", 2, ["chat-30", "redactar"], method),  # essays wait for a trainer
             module_quiz(session, "de-semana-b", "semana-b", 1, ["email-vf"], method)]
    lessons = [tracks.get_lesson(session, slug) for slug in ("a-uno", "a-dos", "b-uno")]
    rng = random.Random(f"{method}-{seed}")
    now, waiting = T0, []
    tracks.refresh_progress(session, [agent.id], now=T0)  # the new quizzes are steps (as the content sync would write)
    for _ in range(40):
        now += timedelta(hours=rng.choice([1, 7, 30]))
        roll = rng.random()
        if roll < 0.12:
            tracks.complete_lesson(session, agent, rng.choice(lessons), now=now)
        elif roll < 0.3 and waiting:
            attempt = waiting.pop(0) if rng.random() < 0.7 else rng.choice(waiting)
            session.refresh(attempt)
            slot = next(s for s in attempt.slots if version_of(s).kind.manual)
            quizzes.set_slot_score(session, attempt, slot, score=rng.choice([0.0, slot.points / 2, slot.points]), feedback="",
                                   reason="Revisión", actor=trainer, expected_revision=attempt.revision, now=now)
            if attempt in waiting:
                waiting.remove(attempt)
        else:
            quiz = rng.choice(every)
            attempt = quizzes.start_attempt(session, agent, quiz, now=now)
            if quiz is main and rng.random() < 0.15:
                quizzes.expire_if_overdue(session, attempt, now=now + timedelta(hours=1))
            else:
                quizzes.submit_attempt(session, attempt, agent, answer_attempt(attempt, rng.choice([0.0, 0.5, 1.0]), rng),
                                       now=now + timedelta(minutes=rng.choice([0, 3])))
                if attempt.state == "submitted":
                    waiting.append(attempt)
        assert stored(session, agent.id) == rebuilt(session, agent.id)
    assert True in moves  # the summaries were moved, not only rebuilt


def test_a_first_pass_moves_the_summary_in_two_statements(app, session, content, agent, manager):
    """The submit that passes a quiz for the first time: the progress summary moves by the pass (the enrollments with the
    quiz's module, whether the module has other steps left and the agent's calendar; the UPDATE) instead of being rebuilt
    (13 statements before; 4 before the rows read whether other steps are left, 3 before they read the calendar)."""
    from tests.test_query_counts import counting

    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 1, 5), now=T0)
    quiz = quizzes.get_quiz(session, "evaluacion-a")
    attempt = quizzes.start_attempt(session, agent, quiz, now=T0)
    values = answer_attempt(attempt, 1.0)
    with counting(app) as statements:
        quizzes.submit_attempt(session, attempt, agent, values, now=T0 + timedelta(minutes=3))
    assert attempt.passed
    # (on PostgreSQL the statement that submits holds the activity's move, which writes only when the grade stays)
    progress = [s for s in statements if ("enrollment" in s or "non_working_days" in s or "lessons.module_id" in s)
                and not s.startswith("WITH submitted")]
    assert len(progress) == 2, progress
    assert "non_working_days" in progress[0] and "others_pending" in progress[0], progress  # the calendar came with the rows
    assert stored(session, agent.id) == rebuilt(session, agent.id)


@pytest.mark.parametrize("score", [0.0, None])  # a retake below the best grade; an essay left to a trainer
def test_a_submission_that_leaves_the_grade_moves_only_the_activity(app, session, content, agent, manager, score):
    """A submission that raises nothing (a retake below the best grade, or one awaiting a trainer) moves the progress
    summary's last activity only: on PostgreSQL in the statement that submits (lms.quizzes.submission.write_with_submission,
    no statement of its own), elsewhere in one UPDATE. Either way the row is what a rebuild writes."""
    from tests.test_query_counts import counting

    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 1, 5), now=T0)
    quiz = quizzes.get_quiz(session, "evaluacion-a")
    quiz.settings = dict(quiz.settings, attempts_allowed=None)
    if score is None:  # an essay in the draw: the attempt waits for a trainer
        quiz.settings = dict(quiz.settings, draw=[{"questions": ["redactar", "chat-30"]}])
    first = quizzes.start_attempt(session, agent, quiz, now=T0)
    quizzes.submit_attempt(session, first, agent, answer_attempt(first, 1.0), now=T0 + timedelta(minutes=3))
    before = stored(session, agent.id)
    later = T0 + timedelta(days=1, hours=2)
    retake = quizzes.start_attempt(session, agent, quiz, now=later - timedelta(minutes=5))
    values = answer_attempt(retake, score if score is not None else 1.0)
    with counting(app) as statements:
        quizzes.submit_attempt(session, retake, agent, values, now=later)
    assert retake.state == ("graded" if score is not None else "submitted")
    postgresql = session.connection().dialect.name == "postgresql"
    own = [s for s in statements if s.startswith("UPDATE enrollment_progress")]
    assert len(own) == (0 if postgresql else 1), statements
    assert any("w_tracks_activity" in s for s in statements) == postgresql
    after = stored(session, agent.id)
    assert [row["last_activity_at"] for row in after.values()] == [later] * len(after)
    assert {k: {c: v for c, v in row.items() if c != "last_activity_at"} for k, row in after.items()} == \
        {k: {c: v for c, v in row.items() if c != "last_activity_at"} for k, row in before.items()}
    assert after == rebuilt(session, agent.id)
