"""The question-type registry: one small class per ``type`` of the content files.

Each type declares its own fields and checks (``validate``) and says which texts
make up its key (``key_texts``, for the key-vs-source number check).  Grading
and rendering join them in the quiz engine.
"""
from __future__ import annotations

import random
from typing import Any

from lms.content import Problems
from lms.content.schema import Field, item_line, non_empty_text, validate_mapping
from lms.quizzes.formula import FormulaError, evaluate, parse

COMMON_FIELDS = [
    Field("id", str),
    Field("type", str),
    Field("title", str, required=False),
    Field("text", str, check=non_empty_text),
    Field("explanation", str, check=non_empty_text),
    Field("sources", list),
    Field("tags", list, required=False),
    Field("points", (int, float), required=False, check=lambda v: None if v > 0 else "must be > 0"),
]

#: fields a scenario part has (no sources/explanation of its own: the scenario's apply)
PART_COMMON_FIELDS = [
    Field("id", str),
    Field("type", str),
    Field("text", str, check=non_empty_text),
    Field("points", (int, float), required=False, check=lambda v: None if v > 0 else "must be > 0"),
]


class QuestionType:
    name: str = ""
    fields: list[Field] = []
    #: may be a part of a scenario question
    can_be_part: bool = True

    def validate(self, q: dict, path: str, problems: Problems) -> None:
        """Semantic checks beyond field shapes."""

    def key_texts(self, q: dict) -> list[str]:
        """Texts stating the correct answer (their numbers must be in the cited quotes)."""
        return []


REGISTRY: dict[str, QuestionType] = {}


def register(cls):
    REGISTRY[cls.name] = cls()
    return cls


def get_type(name: str) -> QuestionType:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown question type {name!r} (known: {', '.join(sorted(REGISTRY))})") from None


def _choice_list(q: dict, path: str, problems: Problems, low: int, high: int) -> list[dict]:
    choices = q.get("choices") or []
    line = q.line_of("choices") if hasattr(q, "line_of") else 1
    if not (low <= len(choices) <= high):
        problems.add(path, line, f"question {q.get('id')!r}: needs {low} to {high} choices, has {len(choices)}")
    valid = []
    fields = [Field("text", (str, int, float), check=lambda v: None if str(v).strip() else "must be non-empty"),
              Field("correct", bool, required=False), Field("feedback", str, required=False)]
    texts = set()
    for index, choice in enumerate(choices):
        cline = item_line(choices, index, line)
        errors = validate_mapping(choice, fields, path, cline, what=f"choices[{index + 1}]")
        if errors:
            problems.extend(errors)
            continue
        text = str(choice["text"]).strip()
        if text.casefold() in texts:
            problems.add(path, cline, f"question {q.get('id')!r}: choice {text!r} appears twice")
        texts.add(text.casefold())
        valid.append(choice)
    return valid


@register
class SingleChoice(QuestionType):
    name = "single_choice"
    fields = [Field("choices", list)]

    def validate(self, q, path, problems):
        choices = _choice_list(q, path, problems, 2, 8)
        correct = [c for c in choices if c.get("correct")]
        if choices and len(correct) != 1:
            problems.add(path, q.line_of("choices"), f"question {q['id']!r}: a single_choice question needs exactly one correct choice, has {len(correct)}")

    def key_texts(self, q):
        return [str(c["text"]) for c in q.get("choices", []) if isinstance(c, dict) and c.get("correct")]


@register
class MultipleChoice(QuestionType):
    name = "multiple_choice"
    fields = [Field("choices", list)]

    def validate(self, q, path, problems):
        choices = _choice_list(q, path, problems, 3, 10)
        if choices and not any(c.get("correct") for c in choices):
            problems.add(path, q.line_of("choices"), f"question {q['id']!r}: needs at least one correct choice")

    key_texts = SingleChoice.key_texts


@register
class TrueFalse(QuestionType):
    name = "true_false"
    fields = [Field("answer", bool)]

    def key_texts(self, q):
        # A true statement is itself the key; a false one states a falsehood on purpose.
        return [q["text"]] if q.get("answer") is True else []


@register
class Matching(QuestionType):
    name = "matching"
    fields = [Field("pairs", list), Field("distractors", list, required=False)]

    def validate(self, q, path, problems):
        pairs = q.get("pairs") or []
        line = q.line_of("pairs")
        if not 2 <= len(pairs) <= 8:
            problems.add(path, line, f"question {q['id']!r}: needs 2 to 8 pairs, has {len(pairs)}")
        fields = [Field("left", (str, int, float)), Field("right", (str, int, float))]
        lefts, rights = set(), set()
        for index, pair in enumerate(pairs):
            pline = item_line(pairs, index, line)
            errors = validate_mapping(pair, fields, path, pline, what=f"pairs[{index + 1}]")
            if errors:
                problems.extend(errors)
                continue
            left, right = str(pair["left"]).strip().casefold(), str(pair["right"]).strip().casefold()
            if left in lefts:
                problems.add(path, pline, f"question {q['id']!r}: left item {pair['left']!r} appears twice")
            lefts.add(left)
            rights.add(right)
        for distractor in q.get("distractors") or []:
            if str(distractor).strip().casefold() in rights:
                problems.add(path, q.line_of("distractors"), f"question {q['id']!r}: distractor {distractor!r} is also a correct match")

    def key_texts(self, q):
        return [f"{p['left']} {p['right']}" for p in q.get("pairs", []) if isinstance(p, dict)]


@register
class Ordering(QuestionType):
    name = "ordering"
    fields = [Field("items", list)]

    def validate(self, q, path, problems):
        items = q.get("items") or []
        if not 2 <= len(items) <= 8:
            problems.add(path, q.line_of("items"), f"question {q['id']!r}: needs 2 to 8 items, has {len(items)}")
        seen = set()
        for index, item in enumerate(items):
            if not isinstance(item, (str, int, float)) or not str(item).strip():
                problems.add(path, item_line(items, index, q.line_of("items")), f"question {q['id']!r}: items must be non-empty text")
            elif str(item).strip().casefold() in seen:
                problems.add(path, item_line(items, index, q.line_of("items")), f"question {q['id']!r}: item {item!r} appears twice")
            seen.add(str(item).strip().casefold())

    def key_texts(self, q):
        return [str(i) for i in q.get("items", [])]


def _number(v) -> str | None:
    return None if isinstance(v, (int, float)) and not isinstance(v, bool) else "must be a number"


@register
class Numeric(QuestionType):
    name = "numeric"
    fields = [Field("answer", (int, float), check=_number), Field("tolerance", (int, float), required=False,
              check=lambda v: _number(v) or (None if v >= 0 else "must be >= 0")), Field("unit", str, required=False)]

    def key_texts(self, q):
        return [_plain_number(q["answer"])] if "answer" in q else []


def _plain_number(value) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


@register
class ShortText(QuestionType):
    name = "short_text"
    fields = [Field("answers", list)]

    def validate(self, q, path, problems):
        answers = q.get("answers") or []
        if not answers or any(not isinstance(a, (str, int, float)) or not str(a).strip() or str(a).strip() == "*" for a in answers):
            problems.add(path, q.line_of("answers"), f"question {q['id']!r}: 'answers' must list accepted texts (not just '*')")

    def key_texts(self, q):
        return [str(a).replace("*", " ") for a in q.get("answers", [])]


VARIABLE_FIELDS = [Field("min", (int, float), check=_number), Field("max", (int, float), check=_number),
                   Field("step", (int, float), required=False, check=_number)]


@register
class Calculated(QuestionType):
    name = "calculated"
    fields = [
        Field("variables", dict), Field("formula", str, check=non_empty_text),
        Field("tolerance", (int, float), check=lambda v: _number(v) or (None if v >= 0 else "must be >= 0")),
        Field("decimals", int, required=False), Field("unit", str, required=False), Field("constraints", list, required=False),
    ]
    SAMPLES = 50

    def validate(self, q, path, problems):
        variables = q.get("variables") or {}
        line = q.line_of("variables")
        for name, spec in variables.items():
            if not isinstance(name, str) or not name.isidentifier():
                problems.add(path, line, f"question {q['id']!r}: variable name {name!r} is not a plain word")
                return
            errors = validate_mapping(spec, VARIABLE_FIELDS, path, getattr(spec, "line", line), what=f"variables.{name}")
            if errors:
                problems.extend(errors)
                return
            if spec["min"] > spec["max"]:
                problems.add(path, getattr(spec, "line", line), f"variables.{name}: min is greater than max")
                return
            placeholder = "{" + name + "}"
            if placeholder not in q["text"]:
                problems.add(path, q.line_of("text"), f"question {q['id']!r}: variable {name!r} is never shown in the text as {placeholder}")
        names = set(variables)
        try:
            parse(q["formula"], names)
            for constraint in q.get("constraints") or []:
                parse(str(constraint), names, allow_comparison=True)
        except FormulaError as exc:
            problems.add(path, q.line_of("formula"), f"question {q['id']!r}: {exc}")
            return
        rng = random.Random(q["id"])
        for _ in range(self.SAMPLES):
            try:
                draw_values(q, rng)
            except FormulaError as exc:
                problems.add(path, q.line_of("formula"), f"question {q['id']!r}: {exc}")
                return


def draw_values(q: dict, rng: random.Random, tries: int = 200) -> tuple[dict[str, float], float]:
    """Numbers for one attempt that meet the constraints, and the formula's result."""
    variables = q["variables"]
    for _ in range(tries):
        values = {}
        for name, spec in variables.items():
            step = spec.get("step") or 1
            count = int((spec["max"] - spec["min"]) // step)
            value = spec["min"] + step * rng.randint(0, count)
            values[name] = round(value, 6) if isinstance(step, float) or isinstance(spec["min"], float) else int(value)
        if all(evaluate(str(c), values, allow_comparison=True) for c in q.get("constraints") or []):
            return values, float(evaluate(q["formula"], values))
    raise FormulaError(f"no numbers meeting the constraints were found in {tries} draws")


@register
class Essay(QuestionType):
    name = "essay"
    can_be_part = False
    fields = [Field("guidance", str, check=non_empty_text), Field("model_answer", str, required=False),
              Field("rubric", str, required=False), Field("min_words", int, required=False)]


@register
class Scenario(QuestionType):
    name = "scenario"
    can_be_part = False
    fields = [Field("situation", str, check=non_empty_text), Field("parts", list)]

    def validate(self, q, path, problems):
        parts = q.get("parts") or []
        line = q.line_of("parts")
        if not 2 <= len(parts) <= 5:
            problems.add(path, line, f"question {q['id']!r}: a scenario needs 2 to 5 parts, has {len(parts)}")
        ids = set()
        for index, part in enumerate(parts):
            pline = item_line(parts, index, line)
            if not isinstance(part, dict):
                problems.add(path, pline, f"parts[{index + 1}]: expected a mapping of fields")
                continue
            kind = REGISTRY.get(part.get("type"))
            if kind is None or not kind.can_be_part:
                problems.add(path, getattr(part, "line", pline), f"parts[{index + 1}]: type {part.get('type')!r} cannot be a scenario part")
                continue
            errors = validate_mapping(part, PART_COMMON_FIELDS + kind.fields, path, pline, what=f"question {q['id']!r} parts[{index + 1}]")
            if errors:
                problems.extend(errors)
                continue
            if part["id"] in ids:
                problems.add(path, pline, f"parts[{index + 1}]: part id {part['id']!r} repeats")
            ids.add(part["id"])
            kind.validate(part, path, problems)

    def key_texts(self, q):
        texts = []
        for part in q.get("parts", []):
            kind = REGISTRY.get(part.get("type")) if isinstance(part, dict) else None
            if kind:
                texts.extend(kind.key_texts(part))
        return texts


def plain(value: Any) -> Any:
    """Located YAML structures as plain dicts/lists (for JSON storage)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
