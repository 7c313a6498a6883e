"""``flask --app lms certification …``"""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from lms.accounts import services as accounts
from lms.certification import services
from lms.core.clock import now_utc
from lms.core.db import transaction

certification_cli = click.Group("certification", help="Certification records.")


@certification_cli.command("expire")
@with_appcontext
def expire_command():
    """Record as expired every active certificate past its expiry date, and open the recertification
    paths whose window has begun."""
    from flask import current_app

    with transaction() as session:
        n = services.expire_due(session, now=now_utc())
        opened = services.open_due_paths(session, now=now_utc(), base_url=current_app.config["PUBLIC_URL"])
    click.echo(f"expired {n} record(s), opened {opened} recertification path(s)")


@certification_cli.command("remind")
@with_appcontext
def remind_command():
    """Queue e-mail reminders for certificates expiring within 30 and 7 days (the worker sends them)."""
    from flask import current_app

    with transaction() as session:
        n = services.queue_expiry_reminders(session, now=now_utc(), base_url=current_app.config["PUBLIC_URL"])
    click.echo(f"queued {n} reminder(s)")


@certification_cli.command("evaluate")
@with_appcontext
def evaluate_command():
    """Issue every certification the agents meet (the site does it as evidence arrives; this catches up)."""
    with transaction() as session:
        issued = [r for agent in accounts.list_users(session, role="agent") for r in services.evaluate_and_issue(session, agent, now=now_utc())]
    click.echo(f"issued {len(issued)} record(s)")
