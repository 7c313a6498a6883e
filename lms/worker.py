"""``flask --app lms worker``: delivers the durable outbox (and runs the periodic jobs)."""
from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext

from lms.core import outbox
from lms.core.clock import now_utc
from lms.core.db import refresh_statistics, transaction


def run_periodic_jobs() -> str:
    """The certification housekeeping: expire, open recertification paths, queue expiry reminders; then the
    notifications of lessons due tomorrow and modules overdue; then fresh planner statistics.
    Every job is idempotent, so two workers running them at once do no harm."""
    from lms.certification import services as certification
    from lms.notifications import services as notifications

    now, base_url = now_utc(), current_app.config["PUBLIC_URL"]
    with transaction() as session:
        expired = certification.expire_due(session, now=now)
        opened = certification.open_due_paths(session, now=now, base_url=base_url)
        reminders = certification.queue_expiry_reminders(session, now=now, base_url=base_url)
    with transaction() as session:
        notices = notifications.queue_due_reminders(session, today=now.date(), now=now)
    with transaction() as session:
        from lms.reporting import jobs as exports

        expired_exports = exports.expire_due(session, now=now, where=exports.folder())
    with transaction() as session:
        refresh_statistics(session)  # the planner's view of the tables (SQLite keeps none on its own)
    return (f"expired {expired}, recertifications opened {opened}, reminders queued {reminders}, "
            f"notifications (lessons due, modules overdue) {notices}, prepared exports expired {expired_exports}")


@click.command("worker")
@click.option("--once", is_flag=True, help="One pass (periodic jobs, then the due messages), then exit.")
@click.option("--interval", default=30, show_default=True, help="Seconds between delivery passes.")
@click.option("--jobs-every", default=3600, show_default=True, help="Seconds between runs of the periodic jobs.")
@with_appcontext
def worker_command(once: bool, interval: int, jobs_every: int):
    """Deliver queued messages with retries and run the periodic jobs; several workers may run at once."""
    senders = outbox.configured_senders(current_app.config)  # each domain registers its kinds at register(app)
    last_jobs = None
    while True:
        if last_jobs is None or time.monotonic() - last_jobs >= jobs_every:
            click.echo(run_periodic_jobs())
            last_jobs = time.monotonic()
        with transaction() as session:
            sent, failed = outbox.deliver_due(session, senders, now=now_utc())
        click.echo(f"sent {sent}, failed {failed}")
        if once:
            return
        if not sent:  # work done (a step of a background job queues the next): look again at once
            time.sleep(interval)
