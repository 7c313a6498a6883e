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
