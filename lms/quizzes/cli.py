"""``flask --app lms quizzes …``"""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from lms.core.clock import now_utc
from lms.core.db import transaction
from lms.quizzes import services
from lms.quizzes.models import QuizAttempt
from lms.quizzes.states import AttemptState

quizzes_cli = click.Group("quizzes", help="Question banks, quizzes and attempts.")


@quizzes_cli.command("expire")
@with_appcontext
def expire_command():
    """Record as abandoned every attempt whose time ran out without a submission."""
    now = now_utc()
    with transaction() as session:
        attempts = session.scalars(select(QuizAttempt).where(QuizAttempt.state == AttemptState.in_progress.value,
                                                             QuizAttempt.deadline_at.is_not(None))).all()
        n = sum(services.expire_if_overdue(session, attempt, now=now) for attempt in attempts)
    click.echo(f"abandoned {n} attempt(s)")
