"""Public functions of the escalation domain."""
from __future__ import annotations

import json
from pathlib import Path


from lms.escalation.rules import (  # noqa: F401
    CHANNELS,
    COMPLEXITIES,
    DESTINATIONS,
    IMPACTS,
    OUTCOMES,
    PRIORITY,
    RULES,
    TIME_LIMIT_HOURS,
    Advice,
    Ticket,
    TicketError,
    advise,
    ticket_from_dict,
)


def advice_json(advice: Advice) -> dict:
    """The CLI's per-ticket answer: {level, destination, deadline_hours, rules: [quoted rule, …]}.

    Where the handbook is ambiguous for the ticket, the rules list says so, naming the house reading applied.
    """
    rules = advice.quoted_rules() + [f"Ambigüedad del manual: {note}" for note in advice.ambiguities]
    return {"level": advice.level, "destination": advice.destination, "deadline_hours": advice.deadline_hours, "rules": rules}


def read_tickets(path: Path) -> tuple[list[Ticket], list[str]]:
    """Tickets from a YAML or JSON list; every problem as a message naming the ticket."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"{path}: cannot read the file: {exc}"]
    import yaml  # only when tickets are loaded: not at start-up

    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        return [], [f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: {exc}"]
    if not isinstance(data, list):
        return [], [f"{path}: expected a list of tickets"]
    tickets, problems, seen = [], [], set()
    for index, item in enumerate(data, start=1):
        label = f"ticket {index}" + (f" ({item.get('id')})" if isinstance(item, dict) and "id" in item else "")
        try:
            ticket = ticket_from_dict(item)
        except TicketError as exc:
            problems.append(f"{path}: {label}: {exc}")
            continue
        if ticket.id in seen:
            problems.append(f"{path}: {label}: duplicate id")
            continue
        seen.add(ticket.id)
        tickets.append(ticket)
    return tickets, problems
