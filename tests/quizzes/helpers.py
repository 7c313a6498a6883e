"""Building form values for attempts, as a browser would send them."""
from __future__ import annotations

from lms.quizzes.question_types import Matching


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
        return {prefix: ["Estimado cliente: ..."]}
    if t == "escalation_drill":
        return drill_values(layout, prefix)
    if t == "scenario":
        values = {}
        for index, part in enumerate(q["parts"]):
            values |= correct_values(part, layout["parts"][part["id"]], f"{prefix}-p{index}")
        return values
    raise AssertionError(t)


def answer_all_correctly(attempt) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for slot in attempt.slots:
        values |= correct_values(slot.question_version.data, slot.layout, f"q{slot.position}")
    return values


def drill_values(layout: dict, prefix: str) -> dict[str, list[str]]:
    from lms.quizzes.question_types import DRILL_DESTINATIONS, DRILL_PRIORITIES

    key = layout["key"]
    return {f"{prefix}-level": [str(key["level"])], f"{prefix}-destination": [str(DRILL_DESTINATIONS.index(key["destination"]))],
            f"{prefix}-outcome": [key["outcome"]], f"{prefix}-priority": [str(DRILL_PRIORITIES.index(key["priority"]))],
            f"{prefix}-deadline": [f"{key['deadline']:g}"]}
