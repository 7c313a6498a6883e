"""The progress summaries (enrollment_progress) kept on write give the same dashboard as computing every
agent's progress from their completions and quiz standings, at any date; rebuilding them changes nothing."""
from __future__ import annotations

from bisect import bisect_right
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from lms.certification import services as certification
from lms.quizzes import services as quizzes
from lms.quizzes.simulate import answer_attempt
from lms.reporting import services
from lms.roleplays import services as roleplays
from lms.tracks import services as tracks
from lms.tracks.models import EnrollmentProgress

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)
DAYS = [date(2026, 1, 1), date(2026, 1, 5), date(2026, 1, 9), date(2026, 1, 12), date(2026, 1, 20), date(2026, 2, 20), date(2026, 6, 1)]


def reference_rows(session, agents, today, now):
    """The dashboard as it was computed before the summaries: every agent's progress built step by step."""
    overview = {row.agent.id: row for row in tracks.team_overview(session, agents, today)}
    roleplay_scores = roleplays.released_scores(session, [a.id for a in agents])
    active = certification.active_counts(session, [a.id for a in agents], now)
    out = []
    for agent in agents:
        view = overview[agent.id]
        progress = view.progress[0] if view.progress else None
        grades, seen = [], set()
        for p in view.progress:
            for status in p.quizzes:
                if status.quiz.id not in seen and status.result is not None and status.result.grade is not None:
                    seen.add(status.quiz.id)
                    grades.append(status.result.grade)
        rp = roleplay_scores.get(agent.id, [])
        out.append((agent.id, progress.track.title if progress else "", progress.enrollment.start_date if progress else None,
                    progress.percent if progress else None, view.state, len(progress.overdue) if progress else 0,
                    max((p.last_activity_at for p in view.progress if p.last_activity_at), default=None),
                    round(sum(grades) / len(grades), 1) if grades else None, round(sum(rp) / len(rp), 1) if rp else None,
                    active.get(agent.id, 0)))
    return out, list(overview.values())


def reference_burnup(overview, today):
    done_by_day, due_by_day, cohort = {}, {}, 0
    for row in overview:
        for progress in row.progress[:1]:
            steps = progress.steps
            if not steps:
                continue
            cohort += 1
            start = progress.enrollment.start_date
            horizon = min((today - start).days, (progress.end_date - start).days)

            def done(s):
                at = s.completed_at if s.kind == "lesson" else (s.result.first_passed_at if s.result else None)
                return at.date().toordinal() if at is not None else None
            done_days = sorted(d for d in (done(s) for s in steps) if d is not None)
            due_days = sorted(s.due_date.toordinal() for s in steps)
            for day in range(0, max(horizon, -1) + 1):
                moment = start.toordinal() + day
                done_by_day.setdefault(day, []).append(100 * bisect_right(done_days, moment) / len(steps))
                due_by_day.setdefault(day, []).append(100 * bisect_right(due_days, moment) / len(steps))
    done_by_day = {d: v for d, v in done_by_day.items() if len(v) * 2 >= cohort}
    return [(d, round(sum(v) / len(v), 6)) for d, v in sorted(done_by_day.items())], \
        [(d, round(sum(v) / len(v), 6)) for d, v in sorted(due_by_day.items()) if d in done_by_day]


def snapshot(session):
    session.expire_all()
    return sorted((row.enrollment_id, row.user_id, row.track_id, row.start_date, row.end_date, row.steps_total, row.steps_done,
                   row.modules_total, row.modules_done_in_order, row.first_pending_due, tuple(row.pending_days), tuple(row.due_days),
                   tuple(row.done_days), tuple(sorted(row.quiz_grades.items())), row.last_activity_at)
                  for row in session.scalars(select(EnrollmentProgress)))


def check_everything(session, agents, now):
    for day in DAYS:
        expected, overview = reference_rows(session, agents, day, now)
        rows = services.dashboard(session, agents, day, now)
        got = [(r.agent.id, r.track, r.start_date, r.percent, r.state, r.overdue, r.last_activity, r.quiz_average,
                r.roleplay_average, r.certifications) for r in rows]
        assert got == expected, day
        charts = {c.title: c for c in services.team_charts(session, agents, day, now)}
        burnup = charts.get("Avance del grupo frente a lo previsto (%)")
        done, due = reference_burnup(overview, day)
        if done:
            assert burnup is not None
            assert burnup.rows == [("Completado", ", ".join(f"{x:g}: {y:.0f}%" for x, y in done[:: max(1, len(done) // 8)])),
                                   ("Previsto", ", ".join(f"{x:g}: {y:.0f}%" for x, y in due[:: max(1, len(due) // 8)]))], day
        else:
            assert burnup is None
        funnel = dict(charts["Embudo de certificación"].rows) if "Embudo de certificación" in charts else {}
        enrolled = [r for r in overview if r.progress]
        if enrolled:
            week1 = [r for r in enrolled if r.progress[0].modules and r.progress[0].modules[0].done == r.progress[0].modules[0].total]
            week4 = [r for r in enrolled if len(r.progress[0].modules) >= 4 and all(m.done == m.total for m in r.progress[0].modules[:4])]
            assert (funnel["Inscritos"], funnel["Semana 1"], funnel["Semana 4"]) == (str(len(enrolled)), str(len(week1)), str(len(week4)))


def test_summaries_kept_on_write_match_the_progress_computed_step_by_step(session, content, team, manager, make_user):
    agents = [make_user("agent", name=f"Agente {n}", teams=[team]) for n in range(5)]
    corto, largo = tracks.find_track(session, "corto"), tracks.find_track(session, "largo")
    quiz = quizzes.get_quiz(session, "evaluacion-a")
    tracks.enroll(session, actor=manager, agent=agents[0], track=largo, start_date=date(2026, 1, 5), now=T0)
    tracks.enroll(session, actor=manager, agent=agents[1], track=corto, start_date=date(2026, 1, 7), now=T0)
    tracks.enroll(session, actor=manager, agent=agents[1], track=largo, start_date=date(2025, 12, 1), now=T0)
    tracks.enroll(session, actor=manager, agent=agents[2], track=corto, start_date=date(2026, 1, 5), now=T0)
    enrollment, _ = tracks.enroll(session, actor=manager, agent=agents[4], track=corto, start_date=date(2026, 1, 5), now=T0)
    check_everything(session, agents, T0)  # nothing done yet

    for slug in ("a-uno", "a-dos"):
        tracks.complete_lesson(session, agents[0], tracks.get_lesson(session, slug), now=T0 + timedelta(days=1))
    tracks.complete_lesson(session, agents[1], tracks.get_lesson(session, "b-uno"), now=T0 - timedelta(days=20))
    tracks.complete_lesson(session, agents[2], tracks.get_lesson(session, "a-uno"), now=T0)
    attempt = quizzes.start_attempt(session, agents[0], quiz, now=T0)
    quizzes.submit_attempt(session, attempt, agents[0], answer_attempt(attempt, 1.0), now=T0 + timedelta(minutes=5))
    attempt = quizzes.start_attempt(session, agents[1], quiz, now=T0)  # left open: activity, no grade
    attempt = quizzes.start_attempt(session, agents[2], quiz, now=T0 + timedelta(days=2))
    quizzes.submit_attempt(session, attempt, agents[2], answer_attempt(attempt, 0.0), now=T0 + timedelta(days=2, minutes=3))
    tracks.enroll(session, actor=manager, agent=agents[2], track=corto, start_date=date(2026, 1, 12), now=T0)  # start moved
    tracks.unenroll(session, actor=manager, enrollment=enrollment)
    session.flush()
    assert session.scalar(select(EnrollmentProgress).where(EnrollmentProgress.user_id == agents[4].id)) is None
    check_everything(session, agents, T0 + timedelta(days=3))

    kept = snapshot(session)
    assert len(kept) == 4
    assert tracks.rebuild_progress(session, now=T0) == 4
    assert snapshot(session) == kept


def test_state_in_sql_matches_the_rule_and_teams_add_up(session, content, team, make_team, admin, make_user):
    other = make_team("Equipo Sur")
    agents = [make_user("agent", teams=[team if n < 3 else other]) for n in range(5)]
    corto = tracks.find_track(session, "corto")
    for n, agent in enumerate(agents[:4]):
        tracks.enroll(session, actor=admin, agent=agent, track=corto, start_date=date(2026, 1, 1) + timedelta(days=3 * n), now=T0)
    tracks.complete_lesson(session, agents[0], tracks.get_lesson(session, "a-uno"), now=T0)
    session.flush()
    for day in DAYS:
        expected = {r.agent.id: r.state for r in services.dashboard(session, agents, day, T0)}
        sql = tracks.agent_states(session, [a.id for a in agents], day)
        assert {a.id: sql.get(a.id, "not_enrolled") for a in agents} == expected, day
        by_team = {t.name: t for t in tracks.team_progress(session, [team.id, other.id], day)}
        north, south = by_team["Equipo Norte"], by_team["Equipo Sur"]
        assert (north.agents, north.enrolled, south.agents, south.enrolled) == (3, 3, 2, 1)
        states = [expected[a.id] for a in agents[:3]]
        assert [north.overdue, north.behind, north.on_track, north.not_started, north.completed] == \
            [states.count(s) for s in ("overdue", "behind", "on_track", "not_started", "completed")], day
        assert north.steps_done == 1 and north.steps_total == 3 * 4


def test_summaries_read_as_text_decode_as_the_json_columns(session, content, team, manager, make_user):
    """progress_summaries reads the four JSON columns as text (one json.loads per row, the due days shared through a
    per-process cache by their text): the same values as the ORM's JSON columns, read again from the cache too."""
    agents = [make_user("agent", teams=[team]) for _ in range(3)]
    corto, largo = tracks.find_track(session, "corto"), tracks.find_track(session, "largo")
    tracks.enroll(session, actor=manager, agent=agents[0], track=largo, start_date=date(2026, 1, 5), now=T0)
    tracks.enroll(session, actor=manager, agent=agents[1], track=largo, start_date=date(2026, 1, 5), now=T0)  # the same due days
    tracks.enroll(session, actor=manager, agent=agents[2], track=corto, start_date=date(2026, 1, 7), now=T0)
    tracks.complete_lesson(session, agents[0], tracks.get_lesson(session, "a-uno"), now=T0 + timedelta(days=1))
    session.flush()
    session.expire_all()
    stored = {row.user_id: (row.pending_days, row.due_days, row.done_days, row.quiz_grades)
              for row in session.scalars(select(EnrollmentProgress))}
    for _ in range(2):  # the second time, the due days come from the cache
        read = tracks.progress_summaries(session, [a.id for a in agents])
        assert {uid: [(s.pending_days, s.due_days, s.done_days, s.quiz_grades) for s in mine] for uid, mine in read.items()} == \
            {uid: [values] for uid, values in stored.items()}
    assert read[agents[0].id][0].due_days == read[agents[1].id][0].due_days != read[agents[2].id][0].due_days
    assert read[agents[0].id][0].done_days != read[agents[1].id][0].done_days
