"""What the question editor shows beside the text: a calculated question's sample draws, a drill's ticket and
the key the escalation rules engine computes for it."""
from __future__ import annotations

import random

from lms.content.files import ContentFileError, parse_yaml, plain
from lms.escalation import services as escalation
from lms.quizzes.formula import FormulaError
from lms.quizzes.question_types import REGISTRY, draw_values


def preview(text: str) -> dict | None:
    try:
        q = plain(parse_yaml(text, "question"))
    except ContentFileError:
        return None
    if not isinstance(q, dict):
        return None
    kind = q.get("type")
    rng = random.Random(str(q.get("id")))  # nosec B311  # sample draws shown to the author
    if kind == "calculated":
        samples = []
        try:
            for _ in range(3):
                values, result = draw_values(q, rng)
                samples.append({"values": values, "result": round(result, q.get("decimals", 2) if isinstance(q.get("decimals"), int) else 2)})
        except (FormulaError, TypeError, KeyError, ValueError, AttributeError):
            return {"kind": kind, "samples": []}
        return {"kind": kind, "samples": samples}
    if kind == "escalation_drill":
        if not isinstance(q.get("ticket"), dict):
            return {"kind": kind, "generated": bool(q.get("generate"))}
        try:
            slot = REGISTRY["escalation_drill"].prepare(q, rng, False)
        except (escalation.TicketError, TypeError, KeyError, ValueError):
            return {"kind": kind, "ticket": q["ticket"], "key": None}
        return {"kind": kind, "ticket": slot["ticket"], "key": slot["key"], "rules": slot["rules"]}
    return None


def scenario_preview(text: str) -> dict | None:
    """What the agent sees when practising the draft scenario: the situation and each customer's messages in turn."""
    import re

    from lms.core.markdown import render_markdown

    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        return None
    try:
        meta = plain(parse_yaml("".join(lines[1:end]), "scenario"))
    except ContentFileError:
        return None
    if not isinstance(meta, dict):
        return None
    body = "".join(lines[end + 1:])
    parts = re.split(r"^##\s+(.+?)\s*$", body, flags=re.MULTILINE)
    sections = {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}
    customers = [{"id": str(c.get("id", "")), "name": str(c.get("name", "")), "type": str(c.get("type", "")),
                  "messages": [str(m) for m in c.get("messages") or []]}
                 for c in meta.get("customers") or [] if isinstance(c, dict)]
    standard = meta.get("response_standard") if isinstance(meta.get("response_standard"), dict) else {}
    return {"title": meta.get("title", ""), "mode": meta.get("mode", ""), "seconds": standard.get("seconds"),
            "situation": render_markdown(sections.get("Situación", "")), "customers": customers}
