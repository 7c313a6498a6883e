"""Item statistics over graded attempts, as Moodle's quiz statistics report computes them.

* facility index: the mean share of the points earned on the question (100 = everybody right);
* discrimination index: the correlation between the question's score and the score on the
  rest of the attempt (high = separates strong from weak agents; near 0 or negative = suspect);
* most-chosen wrong answer, for choice questions.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field


@dataclass
class ItemStats:
    question_id: int
    slug: str
    text: str
    type: str
    attempts: int = 0
    facility: float | None = None
    discrimination: float | None = None
    wrong_answers: Counter = field(default_factory=Counter)

    @property
    def most_chosen_wrong(self) -> tuple[str, int] | None:
        return self.wrong_answers.most_common(1)[0] if self.wrong_answers else None

    @property
    def flag(self) -> str | None:
        """Why a trainer should look at the question, if anything looks wrong."""
        if self.attempts < 5:
            return None
        if self.discrimination is not None and self.discrimination < 0:
            return "negative_discrimination"
        if self.facility is not None and self.facility < 20:
            return "very_hard"
        if self.facility is not None and self.facility > 95:
            return "very_easy"
        return None


def pearson(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / math.sqrt(sxx * syy)


def item_statistics(attempts) -> list[ItemStats]:
    """Statistics per question over graded attempts (each with its slots and question versions loaded)."""
    items: dict[int, ItemStats] = {}
    samples: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for attempt in attempts:
        if attempt.state != "graded" or not attempt.max_score:
            continue
        for slot in attempt.slots:
            version = slot.question_version
            data = version.data
            item = items.setdefault(version.question_id, ItemStats(version.question_id, data["id"], data["text"], data["type"]))
            fraction = (slot.score or 0.0) / slot.points if slot.points else 0.0
            rest_points = attempt.max_score - slot.points
            rest = ((attempt.score or 0.0) - (slot.score or 0.0)) / rest_points if rest_points else 0.0
            samples[version.question_id].append((fraction, rest))
            if fraction < 1 and data["type"] in ("single_choice", "multiple_choice") and slot.answer:
                picked = [slot.answer["choice"]] if "choice" in slot.answer else slot.answer.get("choices", [])
                for index in picked:
                    if index < len(data["choices"]) and not data["choices"][index].get("correct"):
                        item.wrong_answers[str(data["choices"][index]["text"])] += 1
    for question_id, pairs in samples.items():
        item = items[question_id]
        item.attempts = len(pairs)
        item.facility = round(100 * sum(f for f, _ in pairs) / len(pairs), 1)
        r = pearson([f for f, _ in pairs], [rest for _, rest in pairs])
        item.discrimination = None if r is None else round(100 * r, 1)
    return sorted(items.values(), key=lambda i: (i.facility if i.facility is not None else 101, i.slug))
