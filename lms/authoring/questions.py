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
