"""Form values a person would send for an attempt: right answers, or a chosen share of them.

Used by the demo data, the benchmarks and the tests (never by the site's own pages).
"""
from __future__ import annotations

import random

from lms.quizzes.question_types import DRILL_DESTINATIONS, DRILL_PRIORITIES, Matching
from lms.quizzes.versions import version_of


def correct_values(q: dict, layout: dict, prefix: str) -> dict[str, list[str]]:
    t = q["type"]
    if t == "single_choice":
        return {prefix: [str(next(i for i, c in enumerate(q["choices"]) if c.get("correct")))]}
    if t == "multiple_choice":
        return {prefix: [str(i) for i, c in enumerate(q["choices"]) if c.get("correct")]}
    if t == "true_false":
        return {prefix: ["true" if q["answer"] else "false"]}
    if t == "matching":
        options = Matching.options(q)
        return {f"{prefix}-{left}": [str(options.index(str(pair["right"])))] for left, pair in enumerate(q["pairs"])}
    if t == "ordering":
        return {f"{prefix}-{item}": [str(item + 1)] for item in range(len(q["items"]))}
    if t == "numeric":
        return {prefix: [str(q["answer"]).replace(".", ",")]}
    if t == "calculated":
        return {prefix: [f"{layout['result']:.4f}"]}
    if t == "short_text":
        return {prefix: [str(q["answers"][0]).replace("*", "x").upper()]}
    if t == "essay":
        return {prefix: ["Estimado cliente: gracias por escribirnos. Entiendo su preocupación y ya estoy revisando su caso."]}
    if t == "escalation_drill":
        key = layout["key"]
        return {f"{prefix}-level": [str(key["level"])], f"{prefix}-destination": [str(DRILL_DESTINATIONS.index(key["destination"]))],
                f"{prefix}-outcome": [key["outcome"]], f"{prefix}-priority": [str(DRILL_PRIORITIES.index(key["priority"]))],
                f"{prefix}-deadline": [f"{key['deadline']:g}"]}
    if t == "scenario":
        values = {}
        for index, part in enumerate(q["parts"]):
            values |= correct_values(part, layout["parts"][part["id"]], f"{prefix}-p{index}")
        return values
    raise ValueError(f"unknown question type {t!r}")


def wrong_values(q: dict, layout: dict, prefix: str) -> dict[str, list[str]]:
    """A plausible wrong answer (a distractor where there is one), else nothing."""
    if q["type"] in ("single_choice", "multiple_choice"):
        wrong = [i for i, c in enumerate(q["choices"]) if not c.get("correct")]
        return {prefix: [str(wrong[0])]} if wrong else {}
    if q["type"] == "true_false":
        return {prefix: ["false" if q["answer"] else "true"]}
    return {}


def answer_attempt(attempt, accuracy: float = 1.0, rng: random.Random | None = None) -> dict[str, list[str]]:
    """Values answering every question right with probability ``accuracy``."""
    rng = rng or random.Random(attempt.id)  # nosec B311  # simulated answers for demos and tests, not security
    values: dict[str, list[str]] = {}
    for slot in attempt.slots:
        builder = correct_values if rng.random() < accuracy else wrong_values
        values |= builder(version_of(slot).data, slot.layout, f"q{slot.position}")
    return values
