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


def _print_conflicts(conflicts, prefer) -> None:
    click.echo(f"{len(conflicts)} item(s) were edited in the site since the last sync and differ in the files:", err=True)
    for conflict in conflicts:
        where = "missing from the files" if conflict.files_text is None else (
            "removed in the site" if conflict.site_text is None else "differs")
        click.echo(f"conflict: {conflict.path} ({conflict.kind} {conflict.slug}, published in the site "
                   f"{conflict.at:%Y-%m-%d %H:%M} UTC): {where}", err=True)
        for line in conflict.diff():
            click.echo(f"    {line}", err=True)
    if prefer is None:
        click.echo("nothing was changed: run again with --prefer files (the files win) or --prefer site (the site's "
                   "version is kept; 'content export' writes it to your files)", err=True)
    else:
        click.echo(f"resolved with --prefer {prefer}", err=True)


def _print_impact(impact) -> None:
    if impact:
        click.echo("Revision impact: these items cite reference text that changed since the last sync; review them:")
        for line in impact.lines():
            click.echo(f"  {line}")


@content_cli.command("sync")
@click.option("--root", default=None, help="Folder holding courses/ (default: CONTENT_ROOT).")
@click.option("--prefer", type=click.Choice(["files", "site"]), default=None,
              help="When an item edited in the site since the last sync differs in the files: keep which version.")
@with_appcontext
def sync_command(root, prefer):
    """Validate, then load every content file into the database (all or nothing).

    An item published in the site since the last sync is never overwritten silently: if its file differs, the
    conflict is reported with both versions and nothing is changed, unless --prefer files or --prefer site.
    """
    from lms.content.conflicts import sync_files

    impact: list = []
    with transaction() as session:
        problems, report, conflicts = sync_files(session, _root(root), prefer=prefer, impact_out=impact)
        if problems or (conflicts and prefer is None):
            session.rollback()
    if conflicts:
        _print_conflicts(conflicts, prefer)
        if prefer is None:
            sys.exit(1)
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


@content_cli.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--prune", is_flag=True, help="Remove content files in DIRECTORY that are not published in the site.")
@with_appcontext
def export_command(directory, prune):
    """Write everything published to DIRECTORY in the file formats 'content sync' reads."""
    from lms.content.export import export

    session = get_session()
    written, stale = export(session, directory, prune=prune)
    session.rollback()
    click.echo(f"wrote {written} file(s) to {directory}")
    if stale:
        verb = "removed" if prune else "not published in the site (use --prune to remove)"
        for path in stale:
            click.echo(f"{verb}: {path}")
