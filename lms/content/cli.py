"""``flask --app lms content check`` and ``flask --app lms content sync``."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from sqlalchemy.exc import DBAPIError

from lms.content.registry import check, check_with_impact, sync
from lms.core.db import get_session, transaction

content_cli = click.Group("content", help="Validate and load the courseware files.")


def _root(root: str | None) -> Path:
    return Path(root or current_app.config["CONTENT_ROOT"])


@content_cli.command("check")
@click.option("--root", default=None, help="Folder holding courses/ (default: CONTENT_ROOT).")
@with_appcontext
def check_command(root):
    """Validate every content file; print file:line: message for each problem; write nothing.

    Also lists the content that cites reference sections whose text changed since
    the last sync (and the certifications resting on it), for trainers to review.
    """
    session = get_session()
    try:
        problems, impact = check_with_impact(session, _root(root))
    except DBAPIError:
        # No (migrated) database here: the files can still be checked.
        session.rollback()
        problems, impact = check(_root(root)), None
        click.echo("revision impact not computed: the database is missing or not migrated ('flask --app lms db upgrade')", err=True)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        click.echo(f"{len(problems)} problem(s) found", err=True)
        sys.exit(1)
    _print_impact(impact)
    click.echo("content OK")


def _print_impact(impact) -> None:
    if impact:
        click.echo("Revision impact: these items cite reference text that changed since the last sync; review them:")
        for line in impact.lines():
            click.echo(f"  {line}")


@content_cli.command("sync")
@click.option("--root", default=None, help="Folder holding courses/ (default: CONTENT_ROOT).")
@with_appcontext
def sync_command(root):
    """Validate, then load every content file into the database (all or nothing)."""
    impact: list = []
    with transaction() as session:
        problems, report = sync(session, _root(root), impact_out=impact)
        if problems:
            session.rollback()
    if problems:
        for problem in problems:
            click.echo(str(problem))
        click.echo(f"{len(problems)} problem(s) found; nothing was changed", err=True)
        sys.exit(1)
    if impact:
        _print_impact(impact[0])
    for line in report.lines():
        click.echo(line)
    if any("certifications" in getattr(report, bucket) for bucket in ("created", "updated", "restored")):
        # the site checks a certification as an agent's evidence arrives; agents who met it before it existed
        # (or before its requirements changed) get it from the catch-up
        click.echo("certifications created or changed: run 'flask --app lms certification evaluate' to issue them "
                   "to the agents who already meet them")
