"""``flask --app lms quizzes …``"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from lms.core.clock import now_utc
from lms.core.db import transaction
from lms.quizzes import services, staff
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


@quizzes_cli.command("rebuild-summaries")
@with_appcontext
def rebuild_summaries_command():
    """Recompute every agent's quiz summary from the attempts (after a bulk import, or to repair)."""
    with transaction() as session:
        n = services.rebuild_summaries(session)
    click.echo(f"rebuilt {n} summary row(s)")


@quizzes_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["gift", "aiken"]), required=True)
@click.option("--bank", default=None, help="Only this bank (default: every bank).")
@click.option("--quiz", default=None, help="Only the questions this quiz can draw.")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def export_command(fmt, bank, quiz, path: Path):
    """Write the question bank in Moodle's GIFT or Aiken format."""
    from lms.core.db import get_session
    from lms.core.errors import DomainError
    from lms.quizzes.formats import aiken, gift

    try:
        questions = staff.exportable_questions(get_session(), bank=bank, quiz=quiz)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    if not questions:
        raise click.ClickException("no questions to export: load the content first ('flask --app lms content sync')")
    text, skipped = gift.export(questions, category=bank or quiz) if fmt == "gift" else aiken.export(questions)
    path.write_text(text, encoding="utf-8")
    click.echo(f"exported {len(questions) - len(skipped)} question(s) to {path}")
    if skipped:
        click.echo(f"skipped {len(skipped)} question(s) {fmt.upper()} cannot express: {', '.join(skipped)}", err=True)


@quizzes_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["gift", "aiken"]), default=None, help="Default: from the file extension (.gift/.txt → GIFT unless it looks like Aiken).")
@click.option("--bank", "bank_id", default=None, help="Id of the bank to write (default: from the file name).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Default: quizzes/banks/<bank>.yaml under CONTENT_ROOT.")
@click.option("--skip-invalid", is_flag=True, help="Write the questions that could be read even if others could not.")
@click.option("--force", is_flag=True, help="Overwrite an existing bank file.")
@with_appcontext
def import_command(path: Path, fmt, bank_id, output, skip_invalid, force):
    """Convert a GIFT or Aiken file into a bank file (quizzes/banks/*.yaml); then run 'content check' and 'content sync'."""
    from flask import current_app

    from lms.quizzes.formats import bank_yaml, detect_format, read_questions

    text = path.read_text(encoding="utf-8-sig")
    fmt = fmt or detect_format(path.name, text)
    report = read_questions(text, fmt)
    for line, message in report.errors:
        click.echo(f"{path}:{line}: {message}", err=True)
    if report.errors and not skip_invalid:
        click.echo(f"nothing imported: {len(report.errors)} question(s) could not be read; fix them or use --skip-invalid", err=True)
        sys.exit(1)
    if not report.questions:
        raise click.ClickException("no questions found")
    bank_id = bank_id or report.category_slug or path.stem
    target = output or Path(current_app.config["CONTENT_ROOT"]) / "quizzes" / "banks" / f"{bank_id}.yaml"
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists: choose another --bank or use --force")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(bank_yaml(bank_id, report), encoding="utf-8")
    for line, message in report.notes:
        click.echo(f"{path}:{line}: note: {message}")
    click.echo(f"wrote {len(report.questions)} question(s) to {target}")
