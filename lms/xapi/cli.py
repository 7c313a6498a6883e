"""``flask --app lms xapi …``"""
from __future__ import annotations

from datetime import datetime, timezone

import click
from flask import current_app
from flask.cli import with_appcontext

from lms.core.clock import now_utc
from lms.core.db import get_session, transaction
from lms.xapi import services, site_from
from lms.xapi.sender import statements_url

xapi_cli = click.Group("xapi", help="xAPI statements: the queue towards the LRS.")


def describe_lrs(cfg) -> str:
    if cfg.get("XAPI_ENDPOINT"):
        auth = "bearer token" if cfg.get("XAPI_TOKEN") else (f"Basic auth as {cfg['XAPI_USERNAME']}" if cfg.get("XAPI_USERNAME") else "no auth")
        return f"LRS {statements_url(cfg['XAPI_ENDPOINT'])} ({auth})"
    if cfg.get("XAPI_RECORD"):
        return "no LRS configured (XAPI_ENDPOINT): statements are recorded and wait until one is"
    return "xAPI is off: no statements are recorded (set XAPI_ENDPOINT, or XAPI_RECORD=1 to record them for later)"


def _when(value: datetime | None) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if value else "-"


@xapi_cli.command("status")
@with_appcontext
def status_command():
    """The LRS, how many statements are pending, sent and failed, and the latest delivery errors."""
    status = services.queue_status(get_session(), now=now_utc())
    click.echo(describe_lrs(current_app.config))
    counts = status.counts
    click.echo(f"pending {counts['pending']} ({status.due} due now, oldest {_when(status.oldest_pending)}, "
               f"next retry {_when(status.next_attempt)}), "
               f"sent {counts['sent']} (last {_when(status.last_sent)}), failed {counts['failed']}")
    for message in status.errors:
        click.echo(f"  #{message.id} {message.status}, {message.attempts} attempt(s), next {_when(message.next_attempt_at)}: {message.last_error}")


@xapi_cli.command("retry")
@with_appcontext
def retry_command():
    """Queue the failed statements again and make the waiting ones due now (after fixing the LRS or its credentials)."""
    with transaction() as session:
        n = services.retry(session, now=now_utc())
    click.echo(f"{n} statement(s) due now; the worker delivers them")


@xapi_cli.command("backfill")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="Only events from this day on (AAAA-MM-DD).")
@with_appcontext
def backfill_command(since: datetime | None):
    """Record the statements of past events (lessons, quizzes, role-plays, certificates); events already
    recorded are skipped, so it can be run again safely."""
    site = site_from(current_app.config)
    if site is None:
        raise click.ClickException("xAPI is off: set XAPI_ENDPOINT (or XAPI_RECORD=1) before recording statements")
    with transaction() as session:
        counts = services.backfill(session, site, now=now_utc(), since=since.replace(tzinfo=timezone.utc) if since else None)
    total = sum(counts.values())
    detail = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()) if n)
    click.echo(f"queued {total} statement(s)" + (f": {detail}" if detail else ""))
