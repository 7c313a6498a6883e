"""``flask --app lms tracks …``"""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from lms.accounts import services as accounts
from lms.core.clock import now_utc
from lms.core.db import get_session, transaction
from lms.core.errors import DomainError
from lms.tracks import services

tracks_cli = click.Group("tracks", help="Tracks and enrollments.")


@tracks_cli.command("list")
@with_appcontext
def list_tracks():
    """List tracks with their modules and lesson counts."""
    for track in services.list_tracks(get_session()):
        click.echo(f"{track.slug}\t{track.title}\t{track.duration_days} days")
        for tm in track.track_modules:
            lessons = [x for x in tm.module.lessons if not x.is_archived]
            click.echo(f"  day {tm.start_day:>3}-{tm.due_day:<3} {tm.module.slug}\t{len(lessons)} lessons")


@tracks_cli.command("enroll")
@click.argument("email")
@click.argument("track_slug")
@click.argument("start_date")
@click.option("--by", "actor_email", required=True, help="The manager or admin doing the enrollment.")
@with_appcontext
def enroll(email, track_slug, start_date, actor_email):
    """Enroll an agent in a track from START_DATE (AAAA-MM-DD)."""
    try:
        with transaction() as session:
            actor = accounts.find_user_by_email(session, actor_email)
            agent = accounts.find_user_by_email(session, email)
            track = services.find_track(session, track_slug)
            if actor is None or agent is None:
                raise click.ClickException("unknown user")
            if track is None:
                raise click.ClickException(f"unknown track {track_slug}")
            _e, outcome = services.enroll(session, actor=actor, agent=agent, track=track,
                                          start_date=services.parse_start_date(start_date), now=now_utc())
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{outcome.value}: {email} in {track_slug} from {start_date}")


@tracks_cli.command("import-enrollments")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--by", "actor_email", required=True)
@click.option("--skip-invalid", is_flag=True)
@with_appcontext
def import_enrollments(csv_file, actor_email, skip_invalid):
    """Enroll agents from CSV with columns email,track,start_date."""
    with transaction() as session:
        actor = accounts.find_user_by_email(session, actor_email)
        if actor is None:
            raise click.ClickException(f"no user with e-mail {actor_email}")
        result = services.import_enrollments_csv(session, csv_file.read(), actor=actor, now=now_utc(), skip_invalid=skip_invalid)
    for line, message in result.errors:
        click.echo(f"{csv_file.name}:{line}: {message}", err=True)
    if result.rolled_back:
        click.echo(f"nothing imported: {len(result.errors)} bad row(s)", err=True)
        sys.exit(1)
    click.echo(f"enrolled {result.imported} row(s)")


@tracks_cli.command("rebuild-summaries")
@with_appcontext
def rebuild_summaries():
    """Recompute every enrollment's progress summary (after a bulk import, or to repair)."""
    with transaction() as session:
        n = services.rebuild_progress(session, now=now_utc())
    click.echo(f"rebuilt {n} progress summaries")
