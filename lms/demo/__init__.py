"""Demo data: accounts for every role, two teams and enrollments (CLI only).

``flask --app lms demo load`` is idempotent: it creates what is missing and
leaves the rest alone.
"""
from __future__ import annotations

import random
from pathlib import Path
from datetime import date, timedelta

import click
from flask.cli import with_appcontext

from lms.accounts import services as accounts
from lms.core.clock import now_utc, today
from lms.core.db import transaction
from lms.quizzes import services as quizzes
from lms.roleplays import services as roleplays
from lms.tracks import services as tracks

DEMO_PASSWORD = "demo-lms-2026"  # nosec B105  # the documented password of the demo accounts (flask demo load), never production

#: (email, name, role, team names)
DEMO_USERS = [
    ("admin@demo.lms", "Ana Administradora", "admin", []),
    ("gerente@demo.lms", "Marta Gerente", "manager", ["Soporte Madrid", "Soporte Bogotá"]),
    ("formador@demo.lms", "Tomás Formador", "trainer", ["Soporte Madrid"]),
    ("formadora@demo.lms", "Elena Formadora", "trainer", ["Soporte Madrid", "Soporte Bogotá"]),
    ("agente@demo.lms", "Lucía Agente", "agent", ["Soporte Madrid"]),
    ("agente2@demo.lms", "Diego Agente", "agent", ["Soporte Madrid"]),
    ("agente3@demo.lms", "Sofía Agente", "agent", ["Soporte Bogotá"]),
    ("agente4@demo.lms", "Mateo Agente", "agent", ["Soporte Madrid"]),
    ("agente5@demo.lms", "Valentina Agente", "agent", ["Soporte Madrid"]),
    ("agente6@demo.lms", "Hugo Agente", "agent", ["Soporte Madrid"]),
    ("agente7@demo.lms", "Carla Agente", "agent", ["Soporte Madrid"]),
    ("agente8@demo.lms", "Pablo Agente", "agent", ["Soporte Madrid"]),
    ("agente9@demo.lms", "Irene Agente", "agent", ["Soporte Bogotá"]),
]

#: (agent email, track, start date offset from today in days, lessons completed in order)
DEMO_ENROLLMENTS = [
    ("agente@demo.lms", "onboarding-4-semanas", -1, 1),
    ("agente2@demo.lms", "onboarding-3-meses", -9, 3),
    ("agente3@demo.lms", "onboarding-4-semanas", 3, 0),
    ("agente4@demo.lms", "onboarding-4-semanas", -8, 10),
    ("agente5@demo.lms", "onboarding-4-semanas", -8, 10),
    ("agente6@demo.lms", "onboarding-4-semanas", -8, 8),
    ("agente7@demo.lms", "onboarding-4-semanas", -8, 10),
]

#: (agent e-mail, quiz, share of right answers): week-1 results, so trainers' statistics show real figures
DEMO_ATTEMPTS = [
    ("agente2@demo.lms", "evaluacion-semana-1", 0.9),
    ("agente4@demo.lms", "evaluacion-semana-1", 1.0),
    ("agente5@demo.lms", "evaluacion-semana-1", 0.75),
    ("agente6@demo.lms", "evaluacion-semana-1", 0.5),
    ("agente7@demo.lms", "evaluacion-semana-1", 0.85),
]

#: (agent e-mail, scenario): practices handed in and waiting for the trainer
DEMO_PRACTICE = [
    ("agente4@demo.lms", "informe-consulta-garantia"),
    ("agente5@demo.lms", "informe-consulta-garantia"),
]


def load_demo(session, *, on: date) -> list[str]:
    """Create the demo users, teams and enrollments that are missing; return what was done."""
    from lms.demo import story  # the demo's stories and simulated answers: only for `flask demo load`
    from lms.quizzes import simulate

    done = []
    for email, name, role, team_names in DEMO_USERS:
        user = accounts.find_user_by_email(session, email)
        if user is None:
            user = accounts.create_user(session, email=email, name=name, role=role, password=DEMO_PASSWORD)
            done.append(f"user {email} ({role})")
        for team_name in team_names:
            team = accounts.find_team_by_name(session, team_name) or accounts.create_team(session, team_name)
            accounts.add_to_team(session, team, user)
    done += _zones_and_calendar(session, on)
    admin = accounts.find_user_by_email(session, "admin@demo.lms")
    for email, slug, offset, completed in DEMO_ENROLLMENTS:
        agent = accounts.find_user_by_email(session, email)
        track = tracks.find_track(session, slug)
        if track is None:
            raise click.ClickException(f"track {slug} is not loaded: run 'flask --app lms content sync' first")
        if any(e.track_id == track.id for e in tracks.enrollments_of(session, agent)):
            continue
        start = on + timedelta(days=offset)
        while offset < 0 and start.weekday() >= 5:  # a past start on a working day: on a Sunday or a Monday the
            start -= timedelta(days=1)              # agent who "started yesterday" has an open module all the same
        tracks.enroll(session, actor=admin, agent=agent, track=track, start_date=start, now=now_utc())
        done.append(f"enrollment {email} in {slug}")
        track = tracks.get_track(session, slug)
        lessons = [lesson for tm in track.track_modules for lesson in tm.module.lessons if not lesson.is_archived]
        for lesson in lessons[:completed]:
            tracks.complete_lesson(session, agent, lesson, now=now_utc())
    for n, (email, slug, accuracy) in enumerate(DEMO_ATTEMPTS):
        agent = accounts.find_user_by_email(session, email)
        quiz = quizzes.get_quiz(session, slug)
        if quizzes.attempts_of(session, agent.id, quiz):
            continue
        started = now_utc() - timedelta(days=3, minutes=30)
        attempt = quizzes.start_attempt(session, agent, quiz, now=started)
        values = simulate.answer_attempt(attempt, accuracy, random.Random(n))  # nosec B311  # reproducible demo answers, not security
        quizzes.submit_attempt(session, attempt, agent, values, now=started + timedelta(minutes=12))
        done.append(f"quiz attempt {email} {slug}: {attempt.percent}%")
    for email, slug in DEMO_PRACTICE:
        agent = accounts.find_user_by_email(session, email)
        scenario = roleplays.get_scenario(session, slug)
        if roleplays.submissions_of(session, agent.id, scenario):
            continue
        if story.practise(session, agent, scenario, now_utc() - timedelta(days=1)) is not None:
            done.append(f"role-play practice {email} {slug}")
    done += story.load_story(session, now_utc())
    from lms.notifications import services as notifications

    notices = notifications.queue_due_reminders(session, today=on, now=now_utc())  # what the worker's daily job would tell
    if notices:
        done.append(f"notifications: {notices} (lessons due tomorrow, modules overdue)")
    return done


#: time zones: the organisation's (Madrid), each team's, and a person with one of their own
DEMO_ZONES = {"organisation": "Europe/Madrid", "teams": {"Soporte Madrid": "Europe/Madrid", "Soporte Bogotá": "America/Bogota"},
              "users": {"formadora@demo.lms": "America/Bogota"}}
#: (month, day, name): holidays kept in both Spain and Colombia (the next of each)
DEMO_HOLIDAYS = [(12, 8, "Inmaculada Concepción"), (12, 25, "Navidad"), (1, 1, "Año Nuevo")]


def _zones_and_calendar(session, on: date) -> list[str]:
    """The demo's zones and holidays, where none is set yet (see docs/time-and-calendars.md)."""
    from lms.accounts import zones
    from lms.tracks import calendar

    done = []
    if session.get(zones.OrganisationSettings, 1) is None:
        zones.set_organisation_zone(session, DEMO_ZONES["organisation"], now=now_utc())
        done.append(f"organisation time zone {DEMO_ZONES['organisation']}")
    for name, zone in DEMO_ZONES["teams"].items():
        team = accounts.find_team_by_name(session, name)
        if team is not None and team.time_zone is None:
            zones.set_team_calendar(session, team, time_zone=zone, works_weekends=team.works_weekends)
            done.append(f"team {name}: {zone}")
    for email, zone in DEMO_ZONES["users"].items():
        user = accounts.find_user_by_email(session, email)
        if user is not None and user.time_zone is None:
            zones.set_user_zone(session, user, zone)
    known = {h.day for h in calendar.holidays(session)}
    for month, day, name in DEMO_HOLIDAYS:
        coming = date(on.year, month, day)
        coming = coming if coming >= on else date(on.year + 1, month, day)  # the next one
        if coming not in known:
            calendar.add_holiday(session, coming, name, now=now_utc())
            done.append(f"holiday {coming} {name}")
    return done


@click.group("demo", help="Demo users and data.")
def demo_cli():
    pass


@demo_cli.command("load")
@with_appcontext
def load_command():
    """Create the demo accounts (password: demo-lms-2026), teams and enrollments."""
    with transaction() as session:
        done = load_demo(session, on=today())
    for line in done or ["demo data already present"]:
        click.echo(line)


@demo_cli.command("prepare")
@with_appcontext
def prepare_command():
    """What `make run` needs before the site starts: the courseware loaded, the demo data, and the certifications
    the agents already meet issued (the catch-up that `content sync` would otherwise ask the newcomer to run)."""
    from flask import current_app

    from lms.certification import services as certification
    from lms.content import sync as content_sync

    with transaction() as session:
        problems, report = content_sync(session, Path(current_app.config["CONTENT_ROOT"]))
        if problems:
            session.rollback()
    if problems:
        for problem in problems:
            click.echo(str(problem))
        click.echo(f"{len(problems)} problem(s) in the content; nothing was loaded", err=True)
        raise SystemExit(1)
    for line in report.lines():
        click.echo(f"content: {line}")
    with transaction() as session:
        done = load_demo(session, on=today())
    for line in done or ["demo data already present"]:
        click.echo(f"demo: {line}")
    with transaction() as session:
        issued = [record for agent in accounts.list_users(session, role="agent")
                  for record in certification.evaluate_and_issue(session, agent, now=now_utc())]
    if issued:
        click.echo(f"certifications: {len(issued)} issued to agents who already met them")


@demo_cli.command("generate-org")
@click.option("--agents", default=10_000, show_default=True)
@click.option("--teams", default=500, show_default=True)
@click.option("--attempts", default=1_000_000, show_default=True)
@click.option("--submissions", default=100_000, show_default=True)
@click.option("--seed", default=1, show_default=True)
@click.option("--prefix", default="org", show_default=True, help="Prefix of the generated e-mails and team names.")
@with_appcontext
def generate_org_command(agents, teams, attempts, submissions, seed, prefix):
    """Generate a synthetic organisation with a year of activity (for scale tests and benchmarks)."""
    import time

    from lms.demo.generate import PASSWORD, Sizes, generate

    started = time.perf_counter()
    with transaction() as session:
        counts = generate(session, Sizes(agents=agents, teams=teams, attempts=attempts, submissions=submissions),
                          now=now_utc(), seed=seed, prefix=prefix)
    for kind, n in counts.items():
        click.echo(f"{kind}: {n}")
    click.echo(f"done in {time.perf_counter() - started:.0f} s; every generated user's password is {PASSWORD}")
