"""Alembic migrations (date-prefixed revisions in ``versions/``) and ``flask --app lms db …``."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import with_appcontext

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic (with Mako and Pygments, ~10 MiB) is imported by the commands that migrate, never by a web worker.

HERE = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.set_main_option(
        "file_template", "%%(year)d%%(month).2d%%(day).2d_%%(hour).2d%%(minute).2d_%%(rev)s_%%(slug)s"
    )
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)


db_cli = click.Group("db", help="Database schema migrations (Alembic).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def upgrade_command(revision):
    """Bring the schema up to REVISION (default: the newest)."""
    upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@db_cli.command("downgrade")
@click.argument("revision")
@with_appcontext
def downgrade_command(revision):
    """Take the schema back to REVISION ("base" empties it)."""
    downgrade(current_app.config["DATABASE_URL"], revision)


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate/--empty", default=True)
@with_appcontext
def revision_command(message, autogenerate):
    """Write a new revision file (read it before committing it)."""
    from alembic import command

    command.revision(alembic_config(current_app.config["DATABASE_URL"]), message=message, autogenerate=autogenerate)


@db_cli.command("current")
@with_appcontext
def current_command():
    """Show the schema's current revision."""
    from alembic import command

    command.current(alembic_config(current_app.config["DATABASE_URL"]))


@db_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(path):
    """Write a consistent backup of the database to PATH (SQLite: online backup API; PostgreSQL: pg_dump -Fc).
    The site may keep running."""
    from lms.core.backup import BackupError, backup

    try:
        written = backup(current_app.config["DATABASE_URL"], path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup written to {written} ({written.stat().st_size} bytes)")


@db_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, exists=True))
@click.option("--yes", is_flag=True, help="Replace a database that holds rows (everything in it is lost).")
@with_appcontext
def restore_command(path, yes):
    """Replace the database by the backup at PATH (stop the site first). Refused on a non-empty database without --yes."""
    from lms.core.backup import BackupError, restore

    try:
        restore(current_app.config["DATABASE_URL"], path, force=yes)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"database restored from {path}")
