"""``flask --app lms worker``: delivers the durable outbox (and runs the periodic jobs)."""
from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext

from lms.core import outbox
from lms.core.clock import now_utc
from lms.core.db import transaction


@click.command("worker")
@click.option("--once", is_flag=True, help="One pass over the due messages, then exit.")
@click.option("--interval", default=30, show_default=True, help="Seconds between passes.")
@with_appcontext
def worker_command(once: bool, interval: int):
    """Deliver queued messages with retries; several workers may run at once."""
    senders = {"email": outbox.smtp_sender(current_app.config)}
    while True:
        with transaction() as session:
            sent, failed = outbox.deliver_due(session, senders, now=now_utc())
        click.echo(f"sent {sent}, failed {failed}")
        if once:
            return
        time.sleep(interval)
