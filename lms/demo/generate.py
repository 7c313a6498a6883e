"""A synthetic organisation for scale tests and benchmarks: teams, managers, trainers, agents and a
year of activity (lesson completions, graded quiz attempts, graded role-plays, certificates).

Rows are written with bulk inserts in batches, so a full-size organisation (10,000 agents in 500 teams,
about 1,000,000 quiz attempts and 100,000 role-play submissions) loads in minutes on SQLite or PostgreSQL.
The numbers are random but reproducible (``seed``).
"""
from __future__ import annotations

import random
from array import array
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Iterable, Iterator

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from lms.accounts.models import Team, TeamMembership, User, fold_name
from lms.certification.models import CertificationDefinition, CertificationRecord
from lms.core.db import refresh_statistics
from lms.core.security import hash_password
from lms.quizzes.models import Quiz, QuizAttempt
from lms.roleplays.models import RoleplayGrade, RoleplaySubmission, Rubric, RubricVersion, Scenario
from lms.tracks.models import Enrollment, Lesson, LessonCompletion, Module, Track, TrackModule

BATCH = 5000
PASSWORD = "org-synthetic-2026"  # nosec B105  # the documented password of synthetic load-test users, never production


@dataclass
class Sizes:
    agents: int = 10_000
    teams: int = 500
    attempts: int = 1_000_000
    submissions: int = 100_000


def _batches(rows: Iterable[dict], size: int = BATCH) -> Iterator[list[dict]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(session: Session, model, rows: Iterable[dict]) -> int:
    n = 0
    for batch in _batches(rows):
        session.execute(insert(model), batch)
        n += len(batch)
    return n


def generate(session: Session, sizes: Sizes, *, now: datetime, seed: int = 1, prefix: str = "org") -> dict[str, int]:
    """Write the organisation; returns how many rows of each kind were written."""
    rng = random.Random(seed)  # nosec B311  # seeded so the synthetic organisation is reproducible; not security
    counts: dict[str, int] = {}
    hashed = hash_password(PASSWORD)
    tracks = list(session.scalars(select(Track).where(Track.is_archived.is_(False)).order_by(Track.slug)))
    if not tracks:
        raise RuntimeError("load the content first: flask --app lms content sync")

    # teams and people ------------------------------------------------------------------------------
    base_team = (session.scalar(select(func.max(Team.id))) or 0) + 1
    _insert(session, Team, ({"id": base_team + i, "name": f"{prefix} equipo {i + 1:04d}", "name_key": fold_name(f"{prefix} equipo {i + 1:04d}"),
                             "created_at": now} for i in range(sizes.teams)))
    counts["teams"] = sizes.teams
    team_ids = list(range(base_team, base_team + sizes.teams))
    staff_count = max(1, sizes.teams // 5)
    base_user = (session.scalar(select(func.max(User.id))) or 0) + 1

    def people():
        for i in range(staff_count):
            yield {"id": base_user + i, "email": f"{prefix}-gerente{i + 1}@example.com", "name": f"Gerente {i + 1}", "role": "manager",
                   "password_hash": hashed, "is_active_user": True, "session_version": 1, "created_at": now}
        for i in range(staff_count):
            yield {"id": base_user + staff_count + i, "email": f"{prefix}-formador{i + 1}@example.com", "name": f"Formador {i + 1}",
                   "role": "trainer", "password_hash": hashed, "is_active_user": True, "session_version": 1, "created_at": now}
        for i in range(sizes.agents):
            yield {"id": base_user + 2 * staff_count + i, "email": f"{prefix}-agente{i + 1}@example.com",
                   "name": f"Agente {rng.choice(NAMES)} {i + 1}", "role": "agent", "password_hash": hashed, "is_active_user": True,
                   "session_version": 1, "created_at": now}

    counts["users"] = _insert(session, User, people())
    managers = list(range(base_user, base_user + staff_count))
    trainers = list(range(base_user + staff_count, base_user + 2 * staff_count))
    agents = list(range(base_user + 2 * staff_count, base_user + 2 * staff_count + sizes.agents))

    def memberships():
        for n, team_id in enumerate(team_ids):
            yield {"team_id": team_id, "user_id": managers[n % staff_count], "kind": "manager", "created_at": now}
            yield {"team_id": team_id, "user_id": trainers[n % staff_count], "kind": "trainer", "created_at": now}
        for n, agent_id in enumerate(agents):
            yield {"team_id": team_ids[n % len(team_ids)], "user_id": agent_id, "kind": "agent", "created_at": now}

    counts["memberships"] = _insert(session, TeamMembership, memberships())

    # enrollments and completions --------------------------------------------------------------------
    structure = {}
    for track in tracks:
        steps = session.execute(
            select(Lesson.id, TrackModule.start_day, Lesson.day)
            .join(Module, Module.id == Lesson.module_id).join(TrackModule, TrackModule.module_id == Module.id)
            .where(TrackModule.track_id == track.id, Lesson.is_archived.is_(False))
        ).all()
        structure[track.id] = [(lesson_id, start_day + day) for lesson_id, start_day, day in steps]
    today = now.date()
    starts: dict[int, tuple[int, date]] = {}
    for agent_id in agents:
        track = rng.choice(tracks)
        starts[agent_id] = (track.id, today - timedelta(days=rng.randint(-10, 365)))
    counts["enrollments"] = _insert(session, Enrollment, ({"user_id": a, "track_id": t, "start_date": s, "enrolled_by_id": managers[0],
                                                          "created_at": now, "updated_at": now} for a, (t, s) in starts.items()))
    diligence = {a: rng.uniform(0.6, 1.0) for a in agents}

    def completions():
        for agent_id, (track_id, start) in starts.items():
            for lesson_id, offset in structure[track_id]:
                due = start + timedelta(days=offset)
                if due <= today and rng.random() < diligence[agent_id]:
                    done = datetime.combine(due - timedelta(days=rng.randint(0, 1)), datetime.min.time(), tzinfo=timezone.utc)
                    yield {"user_id": agent_id, "lesson_id": lesson_id, "completed_at": min(done, now)}

    counts["lesson_completions"] = _insert(session, LessonCompletion, completions())

    # quiz attempts (graded, without per-question rows: enough for results, dashboards and exports) ---
    quizzes = list(session.scalars(select(Quiz).where(Quiz.is_archived.is_(False))))
    # each agent's attempt count per quiz: one array of 4-byte counters per quiz (50,000 agents × 20 quizzes is
    # 4 MB; a dict keyed by (quiz, agent) tuples was about 150 MB)
    first_agent = agents[0] if agents else 0
    numbers = {quiz.id: array("I", bytes(4 * len(agents))) for quiz in quizzes}

    def attempts():
        for _ in range(sizes.attempts):
            agent_id, quiz = rng.choice(agents), rng.choice(quizzes)
            counters = numbers[quiz.id]
            counters[agent_id - first_agent] += 1
            number = counters[agent_id - first_agent]
            percent = max(0.0, min(100.0, rng.gauss(78 * diligence[agent_id] / 0.8, 12)))
            started = now - timedelta(days=rng.randint(1, 365), minutes=rng.randint(0, 600))
            yield {"quiz_id": quiz.id, "user_id": agent_id, "number": number, "state": "graded", "started_at": started,
                   "submitted_at": started + timedelta(minutes=12), "graded_at": started + timedelta(minutes=12), "score": round(percent / 5, 2),
                   "max_score": 20.0, "percent": round(percent, 2), "passed": percent >= quiz.settings["pass_mark"],
                   "pass_mark": float(quiz.settings["pass_mark"]), "seed": rng.randrange(2**31), "revision": 3}

    counts["quiz_attempts"] = _insert(session, QuizAttempt, attempts())
    from lms.quizzes.services import rebuild_summaries

    counts["quiz_summaries"] = rebuild_summaries(session)  # bulk inserts bypass the services that keep them
    from lms.tracks.services import rebuild_progress

    counts["enrollment_progress"] = rebuild_progress(session, now=now)

    # role-play submissions with released grades -------------------------------------------------------
    scenarios = list(session.scalars(select(Scenario).where(Scenario.is_archived.is_(False))))
    versions = {r.id: v for r, v in session.execute(
        select(Rubric, RubricVersion).join(RubricVersion, (RubricVersion.rubric_id == Rubric.id) & (RubricVersion.version == Rubric.current_version)))}
    base_sub = (session.scalar(select(func.max(RoleplaySubmission.id))) or 0) + 1

    def submissions():  # (submission, its released grade): written a batch of each at a time, never all held

        for n in range(sizes.submissions):
            agent_id, scenario = rng.choice(agents), rng.choice(scenarios)
            version = versions[scenario.rubric_id]
            levels = {c["id"]: max(0, min(4, round(rng.gauss(3 * diligence[agent_id], 0.8)))) for c in version.data["criteria"]}
            weights = sum(c.get("weight", 1) for c in version.data["criteria"])
            score = round(100 * sum(c.get("weight", 1) * levels[c["id"]] for c in version.data["criteria"]) / (4 * weights), 1)
            passed = score >= 75 and all(levels[c["id"]] >= (c.get("pass_level") or 0) for c in version.data["criteria"] if c.get("critical"))
            at = now - timedelta(days=rng.randint(1, 365))
            grade = {"submission_id": base_sub + n, "grader_id": trainers[n % staff_count], "rubric_version_id": version.id,
                           "state": "released", "levels": levels, "comments": {}, "overall_comment": "", "inline_comments": [],
                           "score": score, "passed": passed, "created_at": at, "updated_at": at, "released_at": at, "revision": 1}
            yield {"id": base_sub + n, "scenario_id": scenario.id, "user_id": agent_id, "number": 1, "state": "submitted",
                   "grade_state": "released", "started_at": at - timedelta(minutes=15), "submitted_at": at, "rubric_version_id": version.id,
                   "score": score, "passed": passed, "revision": 2}, grade

    counts["roleplay_submissions"] = counts["roleplay_grades"] = 0
    for batch in _batches(submissions()):
        session.execute(insert(RoleplaySubmission), [submission for submission, _grade in batch])
        session.execute(insert(RoleplayGrade), [grade for _submission, grade in batch])
        counts["roleplay_submissions"] += len(batch)
        counts["roleplay_grades"] += len(batch)
    from lms.roleplays.services import rebuild_criterion_summaries

    counts["roleplay_criterion_summaries"] = rebuild_criterion_summaries(session)  # kept on write by save_grade, bypassed here

    # certificates for the agents who started long enough ago and did well ------------------------------
    definitions = list(session.scalars(select(CertificationDefinition).where(CertificationDefinition.is_archived.is_(False))))

    def records():
        for agent_id, (_track_id, start) in starts.items():
            if (today - start).days < 90 or diligence[agent_id] < 0.8 or not definitions:
                continue
            definition = rng.choice(definitions)
            issued = datetime.combine(start + timedelta(days=90), datetime.min.time(), tzinfo=timezone.utc)
            expires = issued + timedelta(days=30 * definition.validity_months)
            status = "active" if expires > now else "expired"
            yield {"definition_id": definition.id, "definition_version": definition.version, "user_id": agent_id,
                   "code": secrets.token_urlsafe(18), "status": status, "active_marker": 1 if status == "active" else None,
                   "issued_at": issued, "expires_at": expires, "issue_reason": "", "evidence": [], "evidence_hash": "synthetic"}

    counts["certificates"] = _insert(session, CertificationRecord, records())
    session.flush()
    resync_sequences(session)
    refresh_statistics(session)  # bulk inserts: let the planner see the organisation's size
    return counts


def resync_sequences(session: Session) -> None:
    """PostgreSQL: the generator writes explicit ids (teams, users, submissions), which leaves the id
    sequences behind; move each past the largest id so that rows the app creates later get fresh ids."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.flush()
    for table, seq in session.execute(text(
            "select c.table_name, pg_get_serial_sequence(c.table_name, c.column_name) from information_schema.columns c "
            "where c.table_schema = 'public' and c.column_name = 'id' "
            "and pg_get_serial_sequence(c.table_name, c.column_name) is not null")).all():
        session.execute(text(f"select setval('{seq}', coalesce((select max(id) from \"{table}\"), 0) + 1, false)"))  # nosec B608  # names from the catalog


NAMES = ["Lucía", "Diego", "Sofía", "Mateo", "Valentina", "Hugo", "Carla", "Martín", "Paula", "Daniel", "Elena", "Pablo",
         "Marta", "Javier", "Laura", "Andrés", "Camila", "Tomás", "Irene", "Sergio"]
