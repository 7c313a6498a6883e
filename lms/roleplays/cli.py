"""``flask --app lms roleplays precheck FILE``, ``… import-transcripts FILE`` and ``… rebuild-summaries``."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import yaml
from flask.cli import with_appcontext

from lms.roleplays import precheck

roleplays_cli = click.Group("roleplays", help="Role-play transcripts: the advisory pre-check and calibration anchors.")


def read_transcripts(path: Path):
    """(id, Transcript) pairs from a YAML or JSON list; problems as messages naming the transcript."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        return [], [f"{path}: cannot read the transcripts: {exc}"]
    if not isinstance(data, list):
        return [], [f"{path}: expected a list of transcripts"]
    items, problems, seen = [], [], set()
    for n, raw in enumerate(data, start=1):
        label = f"transcript {n}" + (f" ({raw.get('id')})" if isinstance(raw, dict) and "id" in raw else "")
        try:
            tid, transcript = precheck.transcript_from_dict(raw)
        except precheck.TranscriptError as exc:
            problems.append(f"{path}: {label}: {exc}")
            continue
        if tid in seen:
            problems.append(f"{path}: {label}: duplicate id")
            continue
        seen.add(tid)
        items.append((tid, transcript, raw))
    return items, problems


@roleplays_cli.command("rebuild-summaries")
@with_appcontext
def rebuild_summaries_command():
    """Recompute every agent's per-criterion sums of released grades (after a bulk import, or to repair)."""
    from lms.core.db import transaction
    from lms.roleplays import services

    with transaction() as session:
        n = services.rebuild_criterion_summaries(session)
    click.echo(f"rebuilt {n} summary row(s)")


@roleplays_cli.command("precheck")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def precheck_command(path: Path):
    """Read a YAML or JSON list of transcripts {id, channel, customer_type, opening_message,
    turns: [{speaker: agent|customer, text, seconds}]} and print JSON {id: {score, criteria, flags}}."""
    items, problems = read_transcripts(path)
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        sys.exit(1)
    click.echo(json.dumps({tid: precheck.check(t).as_json() for tid, t, _raw in items}, ensure_ascii=False, indent=2))


@roleplays_cli.command("import-transcripts")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--scenario", "scenario_slug", default=None, help="The scenario they belong to (default: the first of the transcript's channel).")
@with_appcontext
def import_transcripts_command(path: Path, scenario_slug):
    """Import anchor transcripts (same format as precheck) for calibration sessions."""
    from lms.core.clock import now_utc
    from lms.core.db import transaction
    from lms.core.errors import DomainError
    from lms.roleplays import calibration

    items, problems = read_transcripts(path)
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        sys.exit(1)
    try:
        with transaction() as session:
            created = [calibration.import_anchor(session, tid, raw, scenario_slug=scenario_slug, now=now_utc()) for tid, _t, raw in items]
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    for submission in created:
        click.echo(f"anchor {submission.anchor_label}: submission {submission.id} ({submission.scenario.slug})")
