"""``flask --app lms content check`` and ``flask --app lms content sync``."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from lms.content.registry import check, sync
from lms.core.db import transaction

content_cli = click.Group("content", help="Validate and load the courseware files.")


def _root(root: str | None) -> Path:
    return Path(root or current_app.config["CONTENT_ROOT"])


@content_cli.command("check")
@click.option("--root", default=None, help="Folder holding courses/ (default: CONTENT_ROOT).")
@with_appcontext
def check_command(root):
    """Validate every content file; print file:line: message for each problem; write nothing."""
    problems = check(_root(root))
    for problem in problems:
        click.echo(str(problem))
    if problems:
        click.echo(f"{len(problems)} problem(s) found", err=True)
        sys.exit(1)
    click.echo("content OK")


@content_cli.command("sync")
@click.option("--root", default=None, help="Folder holding courses/ (default: CONTENT_ROOT).")
@with_appcontext
def sync_command(root):
    """Validate, then load every content file into the database (all or nothing)."""
    with transaction() as session:
        problems, report = sync(session, _root(root))
        if problems:
            session.rollback()
    if problems:
        for problem in problems:
            click.echo(str(problem))
        click.echo(f"{len(problems)} problem(s) found; nothing was changed", err=True)
        sys.exit(1)
    for line in report.lines():
        click.echo(line)
