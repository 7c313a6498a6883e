from datetime import date, datetime, timezone

import pytest

from lms.core.errors import Forbidden, InvalidInput
from lms.tracks import services
from lms.tracks.services import EnrollOutcome, LessonState, TrackState

NOW = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
MONDAY = date(2026, 1, 5)


@pytest.fixture
def enrolled(session, content, agent, manager):
    track = services.find_track(session, "corto")
    enrollment, outcome = services.enroll(session, actor=manager, agent=agent, track=track, start_date=MONDAY, now=NOW)
    assert outcome is EnrollOutcome.created
    return enrollment


def progress_on(session, agent, day):
    (progress,) = services.progress_for_user(session, agent, day)
    return progress


def test_due_dates_follow_start_date_module_offset_and_lesson_day(session, agent, enrolled):
    progress = progress_on(session, agent, MONDAY)
    dues = {s.lesson.slug: s.due_date for s in progress.lessons}
    # semana-a opens day 0: a-uno day 0, a-dos day 2; semana-b opens day 7: b-uno day 1
    assert dues == {"a-uno": date(2026, 1, 5), "a-dos": date(2026, 1, 7), "b-uno": date(2026, 1, 13)}
    assert [m.due_date for m in progress.modules] == [date(2026, 1, 9), date(2026, 1, 16)]
    assert progress.end_date == date(2026, 1, 16)


def test_lesson_states_over_time(session, agent, enrolled):
    states = lambda day: {s.lesson.slug: s.state for s in progress_on(session, agent, day).lessons}  # noqa: E731
    assert states(date(2026, 1, 4)) == {"a-uno": LessonState.upcoming, "a-dos": LessonState.upcoming, "b-uno": LessonState.upcoming}
    assert states(MONDAY) == {"a-uno": LessonState.due_today, "a-dos": LessonState.open, "b-uno": LessonState.upcoming}
    assert states(date(2026, 1, 8)) == {"a-uno": LessonState.overdue, "a-dos": LessonState.overdue, "b-uno": LessonState.upcoming}
    assert states(date(2026, 1, 12))["b-uno"] is LessonState.open


def test_track_state_and_percent(session, agent, enrolled):
    assert progress_on(session, agent, date(2026, 1, 1)).state is TrackState.not_started
    assert progress_on(session, agent, MONDAY).state is TrackState.on_track
    late = progress_on(session, agent, date(2026, 1, 6))
    assert late.state is TrackState.behind and [s.lesson.slug for s in late.overdue] == ["a-uno"]  # one day late
    # a-uno was due on the 5th: more than two days late is overdue (house rule BEHIND_GRACE_DAYS)
    assert progress_on(session, agent, date(2026, 1, 7)).state is TrackState.behind
    assert progress_on(session, agent, date(2026, 1, 8)).state is TrackState.overdue
    services.complete_lesson(session, agent, services.get_lesson(session, "a-uno"), now=NOW)
    progress = progress_on(session, agent, date(2026, 1, 6))
    assert progress.state is TrackState.on_track
    # three lessons and the week's quiz
    assert (progress.done, progress.total, progress.percent) == (1, 4, 25)
    assert progress.modules[0].percent == 33
    for slug in ("a-dos", "b-uno"):
        services.complete_lesson(session, agent, services.get_lesson(session, slug), now=NOW)
    assert progress_on(session, agent, date(2026, 3, 1)).state is TrackState.overdue  # the quiz is not passed
    pass_quiz(session, agent, "evaluacion-a")
    progress = progress_on(session, agent, date(2026, 3, 1))
    assert progress.state is TrackState.completed and progress.quizzes[0].result.passed


def pass_quiz(session, agent, slug):
    from tests.quizzes.helpers import answer_all_correctly
    from lms.quizzes import services as quizzes

    quiz = quizzes.get_quiz(session, slug)
    attempt = quizzes.start_attempt(session, agent, quiz, now=NOW)
    quizzes.submit_attempt(session, attempt, agent, answer_all_correctly(attempt), now=NOW)
    assert attempt.passed


def test_completing_twice_is_idempotent(session, agent, enrolled):
    lesson = services.get_lesson(session, "a-uno")
    first, created = services.complete_lesson(session, agent, lesson, now=NOW)
    second, created_again = services.complete_lesson(session, agent, lesson, now=NOW)
    assert created and not created_again and first.id == second.id


def test_only_enrolled_agents_complete_lessons(session, content, make_user, trainer):
    outsider = make_user("agent")
    lesson = services.get_lesson(session, "a-uno")
    with pytest.raises(Forbidden):
        services.complete_lesson(session, outsider, lesson, now=NOW)
    with pytest.raises(Forbidden):
        services.complete_lesson(session, trainer, lesson, now=NOW)


def test_completions_carry_over_to_another_track(session, agent, enrolled, manager):
    services.complete_lesson(session, agent, services.get_lesson(session, "a-uno"), now=NOW)
    services.enroll(session, actor=manager, agent=agent, track=services.find_track(session, "largo"), start_date=MONDAY, now=NOW)
    largo = [p for p in services.progress_for_user(session, agent, MONDAY) if p.track.slug == "largo"][0]
    assert largo.done == 1


def test_reenrolling_changes_the_start_date(session, agent, enrolled, manager):
    track = services.find_track(session, "corto")
    assert services.enroll(session, actor=manager, agent=agent, track=track, start_date=MONDAY, now=NOW)[1] is EnrollOutcome.unchanged
    enrollment, outcome = services.enroll(session, actor=manager, agent=agent, track=track, start_date=date(2026, 2, 2), now=NOW)
    assert outcome is EnrollOutcome.updated and enrollment.id == enrolled.id and enrollment.start_date == date(2026, 2, 2)


def test_managers_enroll_only_their_own_agents(session, content, make_user, make_team, manager):
    stranger = make_user("agent", teams=[make_team("Otro")])
    track = services.find_track(session, "corto")
    with pytest.raises(Forbidden):
        services.enroll(session, actor=manager, agent=stranger, track=track, start_date=MONDAY, now=NOW)
    with pytest.raises(InvalidInput):
        services.enroll(session, actor=manager, agent=manager, track=track, start_date=MONDAY, now=NOW)


@pytest.mark.parametrize(("raw", "expected"), [("2026-12-01", date(2026, 12, 1)), ("01/12/2026", date(2026, 12, 1)), (" 2026-02-28 ", date(2026, 2, 28))])
def test_start_date_formats(raw, expected, app):
    assert services.parse_start_date(raw) == expected


@pytest.mark.parametrize("raw", ["2026-13-01", "12/31/2026", "mañana", "", "2026-02-30"])
def test_bad_start_dates_get_a_clear_message(raw, app):
    with pytest.raises(InvalidInput, match="AAAA-MM-DD"):
        services.parse_start_date(raw)


def test_csv_enrollment_all_or_nothing(session, content, agent, manager, make_user, team):
    other = make_user("agent", teams=[team])
    text = (
        "email,track,start_date\n"
        f"{agent.email},corto,2026-01-05\n"
        f"{other.email},corto,05/01/2026\n"
        "nadie@example.com,corto,2026-01-05\n"
        f"{other.email},inexistente,2026-01-05\n"
        f"{agent.email},largo,ayer\n"
    )
    result = services.import_enrollments_csv(session, text, actor=manager, now=NOW)
    assert result.rolled_back and [line for line, _ in result.errors] == [4, 5, 6]
    assert services.enrollments_of(session, agent) == []
    result = services.import_enrollments_csv(session, text, actor=manager, now=NOW, skip_invalid=True)
    assert result.imported == 2
    assert [e.start_date for e in services.enrollments_of(session, other)] == [MONDAY]
    again = services.import_enrollments_csv(session, "\n".join(text.splitlines()[:3]) + "\n", actor=manager, now=NOW)
    assert again.ok and again.imported == 2  # re-import leaves the same enrollments


def test_calendar_covers_the_track_in_monday_first_weeks(session, agent, enrolled):
    progress = progress_on(session, agent, MONDAY)
    weeks = services.calendar_weeks(progress)
    assert weeks[0][0].day == MONDAY and weeks[-1][-1].day == date(2026, 1, 18)
    assert all(len(week) == 7 for week in weeks)
    items = {d.day: [s.slug for s in d.items] for week in weeks for d in week if d.items}
    assert items == {date(2026, 1, 5): ["a-uno"], date(2026, 1, 7): ["a-dos"], date(2026, 1, 9): ["evaluacion-a"], date(2026, 1, 13): ["b-uno"]}


def test_team_overview_uses_a_fixed_number_of_queries(session, content, manager, team, make_user, app):
    from sqlalchemy import event

    from lms.accounts import services as accounts

    def count_queries(n_agents):
        for _ in range(n_agents):
            a = make_user("agent", teams=[team])
            services.enroll(session, actor=manager, agent=a, track=services.find_track(session, "corto"), start_date=MONDAY, now=NOW)
            services.complete_lesson(session, a, services.get_lesson(session, "a-uno"), now=NOW)
        session.commit()
        session.expire_all()
        agents = accounts.team_members(session, team, "agent")
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(session.get_bind(), "before_cursor_execute", listener)
        try:
            rows = services.team_overview(session, agents, MONDAY)
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", listener)
        assert all(r.progress[0].done == 1 for r in rows)
        return len([s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE"))])

    assert count_queries(2) == count_queries(8)
