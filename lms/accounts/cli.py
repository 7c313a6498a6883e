"""``flask --app lms users …`` and ``flask --app lms teams …``."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from lms.accounts import resets, services, signin
from lms.core.clock import now_utc
from lms.core.db import get_session, transaction
from lms.core.errors import DomainError

users_cli = click.Group("users", help="Create, import and manage user accounts.")
teams_cli = click.Group("teams", help="Create teams and manage their members.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(services.ROLES), required=True)
@click.option("--team", "team_names", multiple=True, help="Team name (created if missing); repeatable.")
@click.option("--password", default=None,
              help="Asked for (hidden, twice) when not given; avoid it in production: it stays in the shell history.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input (scripts).")
@with_appcontext
def create_user(email, name, role, team_names, password, password_stdin):
    """Create a user (the first admin of a new installation too: --role admin)."""
    if password_stdin:
        if password is not None:
            raise click.UsageError("give either --password or --password-stdin, not both")
        password = sys.stdin.readline().rstrip("\r\n")
    elif password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with transaction() as session:
            user = services.create_user(session, email=email, name=name, role=role, password=password)
            for team_name in team_names:
                team = services.find_team_by_name(session, team_name) or services.create_team(session, team_name)
                services.add_to_team(session, team, user)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {user.role} {user.email} (id {user.id})")


@users_cli.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--skip-invalid", is_flag=True, help="Import the valid rows even when others have errors.")
@with_appcontext
def import_users(csv_file, skip_invalid):
    """Import users from CSV with columns email,name,role[,team][,password]."""
    with transaction() as session:
        result = services.import_users_csv(session, csv_file.read(), skip_invalid=skip_invalid)
    for line, message in result.errors:
        click.echo(f"{csv_file.name}:{line}: {message}", err=True)
    if result.rolled_back:
        click.echo(f"nothing imported: {len(result.errors)} bad row(s); fix them or use --skip-invalid", err=True)
        sys.exit(1)
    click.echo(f"imported {result.imported} user(s)" + (f", skipped {len(result.errors)} bad row(s)" if result.errors else ""))


@users_cli.command("reset-password")
@click.argument("email")
@click.option("--password", default=None, help="The new password; a random one is generated and printed when omitted.")
@with_appcontext
def reset_password(email, password):
    """Set a new password and end the user's sessions."""
    generated = password is None
    password = password or services.generate_password()
    try:
        with transaction() as session:
            user = services.find_user_by_email(session, email)
            if user is None:
                raise click.ClickException(f"no user with e-mail {email}")
            services.set_password(session, user, password)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"password reset for {user.email}" + (f": {password}" if generated else ""))


@users_cli.command("list")
@click.option("--role", type=click.Choice(services.ROLES), default=None)
@with_appcontext
def list_users(role):
    """List users (id, role, e-mail, name, active)."""
    for user in services.list_users(get_session(), role=role):
        click.echo(f"{user.id}\t{user.role}\t{user.email}\t{user.name}\t{'active' if user.is_active_user else 'inactive'}")


@users_cli.command("prune-login-throttles")
@with_appcontext
def prune_login_throttles():
    """Delete sign-in failure counters and password-reset links that have expired (run daily from cron; the
    audit trail is kept)."""
    with transaction() as session:
        count = signin.prune_throttles(session, now=now_utc(), limits=signin.Limits.from_config(current_app.config))
        links = resets.prune_tokens(session, now=now_utc())
    click.echo(f"deleted {count} expired sign-in counter(s) and {links} expired password-reset link(s)")


@teams_cli.command("create")
@click.argument("name")
@with_appcontext
def create_team(name):
    """Create a team."""
    try:
        with transaction() as session:
            team = services.create_team(session, name)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created team {team.name} (id {team.id})")


@teams_cli.command("add")
@click.argument("team_name")
@click.argument("emails", nargs=-1, required=True)
@with_appcontext
def add_members(team_name, emails):
    """Add users to a team, each in the capacity of their role."""
    try:
        with transaction() as session:
            team = services.find_team_by_name(session, team_name)
            if team is None:
                raise click.ClickException(f"no team named {team_name}")
            for email in emails:
                user = services.find_user_by_email(session, email)
                if user is None:
                    raise click.ClickException(f"no user with e-mail {email}")
                services.add_to_team(session, team, user)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added {len(emails)} member(s) to {team_name}")
