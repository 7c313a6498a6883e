"""The attempt lifecycle: fair, exact, never lost."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from lms.core.errors import Conflict, Forbidden, InvalidInput
from lms.quizzes import services
from lms.quizzes.models import Accommodation, AttemptEvent, QuizAttempt
from lms.tracks import services as tracks
from tests.quizzes.helpers import answer_all_correctly

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def quiz(session, content, agent, manager):
    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 1, 5), now=T0)
    session.commit()
    return services.get_quiz(session, "evaluacion-a")


def test_start_draws_the_quiz_questions_with_the_time_limit(session, agent, quiz):
    attempt = services.start_attempt(session, agent, quiz, now=T0)
    slugs = sorted(slot.question_version.question.slug for slot in attempt.slots)
    assert slugs == ["chat-30", "email-vf"]  # the fixed question + the one 'semana-a' question left in the bank
    assert attempt.deadline_at == T0 + timedelta(minutes=10) and attempt.number == 1
    assert services.start_attempt(session, agent, quiz, now=T0 + timedelta(minutes=1)).id == attempt.id  # resumes


def test_answers_are_saved_as_the_agent_goes(session, agent, quiz):
    attempt = services.start_attempt(session, agent, quiz, now=T0)
    values = answer_all_correctly(attempt)
    first = {k: v for k, v in values.items() if k.startswith("q0")}
    assert services.save_answers(session, attempt, agent, first, now=T0 + timedelta(seconds=30)) == 1
    session.expire_all()
    reloaded = services.get_attempt(session, attempt.id)
    assert reloaded.slots[0].answer is not None and reloaded.slots[1].answer is None


def test_submit_grades_exactly_and_a_second_submit_changes_nothing(session, agent, quiz):
    attempt = services.start_attempt(session, agent, quiz, now=T0)
    services.submit_attempt(session, attempt, agent, answer_all_correctly(attempt), now=T0 + timedelta(minutes=2))
    assert (attempt.state, attempt.score, attempt.max_score, attempt.percent, attempt.passed) == ("graded", 2, 2, 100, True)
    with pytest.raises(services.AttemptClosed):
        services.submit_attempt(session, attempt, agent, {"q0": ["1"]}, now=T0 + timedelta(minutes=3))
    with pytest.raises(services.AttemptClosed):
        services.save_answers(session, attempt, agent, {"q0": ["1"]}, now=T0 + timedelta(minutes=3))
    assert attempt.score == 2
    events = session.execute(select(AttemptEvent.kind, AttemptEvent.actor_id, AttemptEvent.at, AttemptEvent.data)
                             .where(AttemptEvent.attempt_id == attempt.id).order_by(AttemptEvent.id)).all()
    assert [e.kind for e in events] == ["started", "submitted", "graded"]
    # (on PostgreSQL both rows are written by the submission's own statement: lms.quizzes.submission)
    assert [tuple(e[1:]) for e in events[1:]] == [(agent.id, T0 + timedelta(minutes=2), {}),
                                                 (None, T0 + timedelta(minutes=2), {"score": 2, "percent": 100})]


def test_wrong_answers_fail_the_pass_mark(session, agent, quiz):
    attempt = services.start_attempt(session, agent, quiz, now=T0)
    values = answer_all_correctly(attempt)
    tf_slot = next(s for s in attempt.slots if s.question_version.data["type"] == "true_false")
    values[f"q{tf_slot.position}"] = ["false"]
    services.submit_attempt(session, attempt, agent, values, now=T0)
    assert attempt.percent == 50 and attempt.passed is False


def test_time_limit_is_enforced_on_the_server(session, agent, quiz):
    attempt = services.start_attempt(session, agent, quiz, now=T0)
    late = T0 + timedelta(minutes=10, seconds=31)
    with pytest.raises(services.AttemptClosed, match="Se acabó el tiempo"):
        services.submit_attempt(session, attempt, agent, answer_all_correctly(attempt), now=late)
    assert attempt.state == "abandoned" and attempt.score is None
    # within the grace period a submission still counts
    second = services.start_attempt(session, agent, quiz, now=late)
    services.submit_attempt(session, second, agent, answer_all_correctly(second), now=late + timedelta(minutes=10, seconds=20))
    assert second.state == "graded"


def test_attempts_allowed_and_accommodations(session, agent, quiz, manager):
    for n in range(2):
        a = services.start_attempt(session, agent, quiz, now=T0 + timedelta(hours=n))
        services.submit_attempt(session, a, agent, {}, now=T0 + timedelta(hours=n, minutes=1))
    with pytest.raises(Forbidden, match="todos tus intentos"):
        services.start_attempt(session, agent, quiz, now=T0 + timedelta(hours=3))
    session.add(Accommodation(user_id=agent.id, time_multiplier=1.5, extra_attempts=1, granted_by_id=manager.id))
    session.flush()
    third = services.start_attempt(session, agent, quiz, now=T0 + timedelta(hours=3))
    assert third.number == 3 and third.deadline_at == T0 + timedelta(hours=3, minutes=15)
    rules = services.allowance(session, agent, quiz, now=T0 + timedelta(hours=3))
    assert rules.attempts_allowed == 3 and rules.time_limit_minutes == 15 and rules.time_multiplier == 1.5


def test_delay_between_attempts(session, agent, quiz):
    quiz.settings = dict(quiz.settings, delay_between_attempts_minutes=60)
    first = services.start_attempt(session, agent, quiz, now=T0)
    services.submit_attempt(session, first, agent, {}, now=T0 + timedelta(minutes=5))
    with pytest.raises(Forbidden, match="a partir de las 10:05"):
        services.start_attempt(session, agent, quiz, now=T0 + timedelta(minutes=30))
    assert services.start_attempt(session, agent, quiz, now=T0 + timedelta(minutes=65)).number == 2


def test_retakes_draw_unseen_questions_while_the_bank_allows(session, agent, quiz):
    quiz.settings = dict(quiz.settings, draw=[{"bank": "tiempos", "count": 2, "tags": []}], attempts_allowed=None)
    seen = []
    for n in range(3):
        a = services.start_attempt(session, agent, quiz, now=T0 + timedelta(hours=n))
        seen.append({s.question_version.question.slug for s in a.slots})
        services.submit_attempt(session, a, agent, {}, now=T0 + timedelta(hours=n, minutes=1))
    assert not seen[0] & seen[1] and not seen[0] & seen[2] and not seen[1] & seen[2]


def test_agents_outside_the_track_cannot_start(session, content, make_user):
    outsider = make_user("agent")
    with pytest.raises(Forbidden):
        services.start_attempt(session, outsider, services.get_quiz(session, "evaluacion-a"), now=T0)


def test_tampered_answers_change_nothing(session, agent, quiz):
    attempt = services.start_attempt(session, agent, quiz, now=T0)
    single = next(s for s in attempt.slots if s.question_version.data["type"] == "single_choice")
    with pytest.raises(InvalidInput):
        services.save_answers(session, attempt, agent, {f"q{single.position}": ["99"]}, now=T0)
    # answers to questions that are not in the attempt are ignored
    assert services.save_answers(session, attempt, agent, {"q57": ["1"], "q0-p9": ["x"]}, now=T0) == 0


def test_someone_elses_attempt_is_not_found(session, agent, quiz, make_user, team, manager):
    attempt = services.start_attempt(session, agent, quiz, now=T0)
    other = make_user("agent", teams=[team])
    with pytest.raises(Exception) as info:
        services.submit_attempt(session, attempt, other, {}, now=T0)
    assert info.value.status == 404


def test_essays_wait_for_a_trainer_then_overrides_keep_history(session, content, agent, manager, trainer):
    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 1, 5), now=T0)
    quiz = services.get_quiz(session, "evaluacion-a")
    quiz.settings = dict(quiz.settings, draw=[{"questions": ["redactar", "chat-30"]}], shuffle_questions=False)
    attempt = services.start_attempt(session, agent, quiz, now=T0)
    services.submit_attempt(session, attempt, agent, answer_all_correctly(attempt), now=T0)
    assert attempt.state == "submitted" and attempt.percent is None
    essay = attempt.slots[0]
    services.set_slot_score(session, attempt, essay, score=0.5, feedback="Falta el cierre.", reason="", actor=trainer,
                            expected_revision=attempt.revision, now=T0)
    assert attempt.state == "graded" and attempt.percent == 75
    with pytest.raises(InvalidInput, match="motivo"):
        services.set_slot_score(session, attempt, essay, score=1, feedback="", reason=" ", actor=trainer,
                                expected_revision=attempt.revision, now=T0)
    stale = attempt.revision
    services.set_slot_score(session, attempt, essay, score=1, feedback="Bien tras revisar.", reason="Recalibrado con el equipo",
                            actor=trainer, expected_revision=stale, now=T0)
    with pytest.raises(Conflict, match="Otra persona"):
        services.set_slot_score(session, attempt, essay, score=0, feedback="", reason="x", actor=trainer,
                                expected_revision=stale, now=T0)
    assert attempt.percent == 100
    events = services.history(session, attempt)
    overrides = [e for e in events if e.kind in ("manual_grade", "override")]
    assert [e.kind for e in overrides] == ["manual_grade", "override"]
    assert overrides[1].data["before"]["score"] == 0.5 and overrides[1].data["after"]["score"] == 1
    assert overrides[1].data["reason"] == "Recalibrado con el equipo"


def test_grade_methods():
    class A:
        def __init__(self, number, percent, state="graded"):
            self.number, self.percent, self.state = number, percent, state

    attempts = [A(1, 60), A(2, 90), A(3, 70), A(4, None, "abandoned")]
    assert services.quiz_grade(attempts, "highest") == 90
    assert services.quiz_grade(attempts, "last") == 70
    assert services.quiz_grade(attempts, "average") == pytest.approx(73.33, abs=0.01)


def test_every_quiz_in_the_real_content_can_be_taken_and_passed(session, make_user):
    """Load the real courseware, then take every quiz with the right answers."""
    from lms.content import sync
    from lms.quizzes.models import Quiz
    from tests.conftest import PROJECT

    problems, _ = sync(session, PROJECT)
    assert not problems
    admin = make_user("admin")
    agent = make_user("agent")
    track = tracks.find_track(session, "onboarding-3-meses")
    tracks.enroll(session, actor=admin, agent=agent, track=track, start_date=date(2026, 1, 5), now=T0)
    # the refresher quiz is open to agents renewing a certificate
    from lms.certification import services as certs

    record = certs.issue_manually(session, certs.get_definition(session, "certificacion-producto"), agent, actor=admin, reason="Prueba", now=T0)
    assert certs.open_due_paths(session, now=record.expires_at - timedelta(days=30)) == 1
    quizzes = session.scalars(select(Quiz).order_by(Quiz.slug)).all()
    assert len(quizzes) >= 7
    for quiz in quizzes:
        attempt = services.start_attempt(session, agent, quiz, now=T0)
        services.submit_attempt(session, attempt, agent, answer_all_correctly(attempt), now=T0 + timedelta(minutes=1))
        auto = [s for s in attempt.slots if s.score is not None]
        assert auto and all(s.score == s.points for s in auto), (quiz.slug, [(s.question_version.data["id"], s.score) for s in auto if s.score != s.points])
        if attempt.state == "graded":
            assert attempt.passed
    assert session.scalar(select(func.count()).select_from(QuizAttempt)) == len(quizzes)
