"""A form per question type: the type's fields (from the question-type registry) as inputs, composed into the
question's YAML mapping; the problems ``content check`` finds are shown on the field they concern."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lms.authoring.tree import FieldProblem
from lms.content.export import dump_yaml
from lms.content.files import ContentFileError, parse_yaml, plain
from lms.quizzes.question_types import COMMON_FIELDS, REGISTRY

LABELS = {
    "title": _l("Título"), "text": _l("Enunciado"), "explanation": _l("Explicación (se muestra al revisar)"),
    "sources": _l("Fuentes: citas del manual ({ref, quote})"), "tags": _l("Etiquetas (lista)"), "points": _l("Puntos"),
    "choices": _l("Opciones (lista: text, correct, feedback)"), "answer": _l("Respuesta"), "answers": _l("Respuestas aceptadas (lista)"),
    "pairs": _l("Parejas (lista: left, right)"), "distractors": _l("Distractores (lista)"), "items": _l("Elementos en su orden correcto (lista)"),
    "tolerance": _l("Tolerancia"), "unit": _l("Unidad"), "variables": _l("Variables (nombre: {min, max, step})"),
    "formula": _l("Fórmula"), "decimals": _l("Decimales"), "constraints": _l("Condiciones (lista)"),
    "guidance": _l("Guía para quien corrige"), "model_answer": _l("Respuesta modelo"), "rubric": _l("Rúbrica (id)"),
    "min_words": _l("Palabras mínimas"), "situation": _l("Situación"), "parts": _l("Partes (lista de preguntas)"),
    "ticket": _l("Ticket (channel, current_level, hours_since_opening, hours_at_current_level, impact, complexity)"),
    "generate": _l("Generar un ticket en cada intento"),
}
#: fields typed as multi-line text (the others of kind str are one line)
LONG_TEXT = {"text", "explanation", "guidance", "model_answer", "situation"}


def fields_for(kind: str) -> list:
    """The type's fields in form order (id and type are fixed by the draft)."""
    common = [f for f in COMMON_FIELDS if f.name not in ("id", "type")]
    first = [f for f in common if f.name in ("title", "text")]
    last = [f for f in common if f.name not in ("title", "text")]
    return first + list(REGISTRY[kind].fields) + last


def widget(field) -> str:
    kinds = field.kind if isinstance(field.kind, tuple) else (field.kind,)
    if bool in kinds:
        return "bool"
    if list in kinds or dict in kinds:
        return "yaml"
    if str in kinds:
        return "long" if field.name in LONG_TEXT else "line"
    return "number"


def values_of(text: str) -> tuple[str | None, dict]:
    """(type, {field: value as typed}) of a question's YAML text."""
    try:
        data = plain(parse_yaml(text, "question"))
    except ContentFileError:
        return None, {}
    if not isinstance(data, dict) or data.get("type") not in REGISTRY:
        return None, {}
    values = {}
    for field in fields_for(data["type"]):
        value = data.get(field.name)
        if value is None:
            values[field.name] = ""
        elif widget(field) == "yaml":
            values[field.name] = dump_yaml(value)
        elif widget(field) == "bool":
            values[field.name] = "1" if value else ""
        else:
            values[field.name] = str(value)
    return data["type"], values


def _number(raw: str):
    raw = raw.strip().replace(",", ".")
    value = float(raw)
    return int(value) if value.is_integer() and "." not in raw else value


def compose(slug: str, kind: str, values: dict) -> tuple[str | None, list[FieldProblem]]:
    data: dict = {"id": slug, "type": kind}
    problems: list[FieldProblem] = []
    for field in fields_for(kind):
        raw = (values.get(field.name) or "").replace("\r\n", "\n")
        style = widget(field)
        if style == "bool":
            if raw or field.required:
                data[field.name] = bool(raw)
            continue
        if not raw.strip():
            continue
        if style == "number":
            try:
                data[field.name] = _number(raw)
            except ValueError:
                problems.append(FieldProblem(field.name, 0, str(_l("Escribe un número."))))
        elif style == "yaml":
            try:
                data[field.name] = plain(parse_yaml(raw, field.name))
            except ContentFileError as exc:
                problems.append(FieldProblem(field.name, exc.error.line, exc.error.message))
        else:
            data[field.name] = raw.strip() + ("\n" if style == "long" and "\n" in raw.strip() else "")
    if any(p for p in problems):
        return None, problems
    return dump_yaml(data), problems
