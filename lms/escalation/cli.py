"""``flask --app lms escalation advise FILE``"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from lms.escalation import services

escalation_cli = click.Group("escalation", help="The handbook's escalation rules engine.")


@escalation_cli.command("advise")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def advise_command(path: Path):
    """Read a YAML or JSON list of tickets {id, channel, current_level, hours_since_opening,
    hours_at_current_level, impact, complexity} and print JSON {id: {level, destination,
    deadline_hours, rules}}."""
    tickets, problems = services.read_tickets(path)
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        sys.exit(1)
    result = {t.id: services.advice_json(services.advise(t)) for t in tickets}
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))
