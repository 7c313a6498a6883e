"""Building form values for attempts, as a browser would send them."""
from __future__ import annotations

from lms.quizzes.simulate import answer_attempt, correct_values  # noqa: F401


def answer_all_correctly(attempt) -> dict[str, list[str]]:
    return answer_attempt(attempt, 1.0)


def drill_values(layout: dict, prefix: str) -> dict[str, list[str]]:
    return correct_values({"type": "escalation_drill"}, layout, prefix)
