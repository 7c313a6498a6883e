"""``flask --app lms roleplays precheck FILE``, ``… import-transcripts FILE`` and ``… rebuild-summaries``."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext


roleplays_cli = click.Group("roleplays", help="Role-play transcripts: the advisory pre-check and calibration anchors.")


def _read_list(path: Path):
    import yaml  # on first use: a worker that never reads a transcript file does not load it

    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        return None, f"{path}: cannot read the file: {exc}"
    if not isinstance(data, list):
        return None, f"{path}: expected a list"
    return data, None


def content_scenarios(root: Path | None = None) -> dict:
    """{scenario id: (scenario data with mode/channel, rubric)} read from the content files (no database needed)."""
    from flask import current_app

    from lms.content.registry import Problems, registered_loaders
    from lms.roleplays.engine.model import examples_unchecked

    root = Path(root or current_app.config["CONTENT_ROOT"])
    # only the role-play loader and what it depends on (not courses, quizzes…), without replaying the models' examples
    # (content check does): reading the scenarios then costs a fraction of a second instead of seconds per run
    loaders = {loader.name: loader for loader in registered_loaders()}
    wanted, stack = set(), ["roleplays"]
    while stack:
        name = stack.pop()
        if name in loaders and name not in wanted:
            wanted.add(name)
            stack.extend(loaders[name].depends_on)
    collected, problems = {}, Problems()
    with examples_unchecked():
        for loader in registered_loaders():
            if loader.name in wanted:
                collected[loader.name] = loader.collect(root, collected, problems)
    items = collected.get("roleplays")
    if items is None:
        raise click.ClickException("the role-play content has problems: run flask --app lms content check")
    out = {}
    for slug, scenario in items.scenarios.items():
        rubric = items.rubrics.get(scenario.rubric)
        out[slug] = (scenario.data | {"mode": scenario.mode, "channel": scenario.channel, "id": slug},
                     rubric.data if rubric else None)
    return out


def read_transcripts(path: Path, scenarios: dict | None = None):
    """(id, Transcript, raw, rubric) from a YAML or JSON list; problems as messages naming the transcript and the field."""
    from lms.roleplays import precheck  # the pre-check is loaded by the commands that run it

    data, problem = _read_list(path)
    if problem:
        return [], [problem.replace("a list", "a list of transcripts")]
    items, problems, seen = [], [], set()
    for n, raw in enumerate(data, start=1):
        label = f"transcript {n}" + (f" ({raw.get('id')})" if isinstance(raw, dict) and "id" in raw else "")
        try:
            tid, transcript, rubric = precheck.parse_transcript(raw, scenarios)
        except precheck.TranscriptError as exc:
            problems.append(f"{path}: {label}: {exc}")
            continue
        if tid in seen:
            problems.append(f"{path}: {label}: field 'id': duplicate id")
            continue
        seen.add(tid)
        items.append((tid, transcript, raw, rubric))
    return items, problems


def _needs_scenarios(path: Path) -> bool:
    data, _problem = _read_list(path)
    return bool(data) and any(isinstance(raw, dict) and "scenario" in raw for raw in data)


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
@with_appcontext
def precheck_command(path: Path):
    """Read a YAML or JSON list of transcripts {id, channel, customer_type, opening_message,
    turns: [{speaker: agent|customer, text, seconds}]}, each optionally with `scenario` (+ `customer`) or inline
    `context`, `objectives` and `escalation` {required, level, destination}, and print JSON
    {id: {score, band, criteria, evidence, flags, ...}}."""
    from lms.roleplays import precheck

    scenarios = content_scenarios() if _needs_scenarios(path) else None
    items, problems = read_transcripts(path, scenarios)
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        sys.exit(1)
    click.echo(json.dumps({tid: precheck.check(t, rubric).as_json() for tid, t, _raw, rubric in items}, ensure_ascii=False, indent=2))


@roleplays_cli.command("simulate")
@click.argument("scenario_id")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def simulate_command(scenario_id: str, path: Path):
    """Play a scenario without a browser: PATH is a YAML or JSON list of agent replies (text, or {text, seconds}, and
    `customer` in surge scenarios). Prints JSON: per turn the customer's message, the moves recognised, the needs met so
    far and the mood; at the end the `ending` and the `precheck`."""
    from lms.roleplays.engine import simulation

    scenarios = content_scenarios()
    if scenario_id not in scenarios:
        raise click.ClickException(f"unknown scenario {scenario_id!r} (known: {', '.join(sorted(scenarios))})")
    data, problem = _read_list(path)
    if problem:
        raise click.ClickException(problem.replace("a list", "a list of agent replies"))
    try:
        result = simulation.run(scenarios[scenario_id], data)
    except simulation.SimulationError as exc:
        raise click.ClickException(f"{path}: {exc}") from None
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))


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
            created = [calibration.import_anchor(session, tid, raw, scenario_slug=scenario_slug, now=now_utc()) for tid, _t, raw, _r in items]
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    for submission in created:
        click.echo(f"anchor {submission.anchor_label}: submission {submission.id} ({submission.scenario.slug})")
