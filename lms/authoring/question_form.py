"""A form per question type (the type's fields from the question-type registry) and for quizzes (the quiz file's
fields): inputs composed into the YAML mapping the file states; the problems ``content check`` finds are shown on
the field they concern."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lms.authoring.tree import FieldProblem
from lms.content.export import dump_yaml
from lms.content.files import ContentFileError, parse_yaml, plain
from lms.quizzes.loader import QUIZ_FIELDS
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
    # quizzes
    "description": _l("Descripción"), "module": _l("Módulo (id) que completa"), "day": _l("Día del módulo en que vence"),
    "draw": _l("Sorteo: de qué bancos y cuántas preguntas (lista: bank, count, tags; o questions)"),
    "shuffle_questions": _l("Barajar las preguntas"), "shuffle_choices": _l("Barajar las opciones"),
    "time_limit_minutes": _l("Tiempo límite (minutos)"), "attempts_allowed": _l("Intentos permitidos"),
    "delay_between_attempts_minutes": _l("Espera entre intentos (minutos)"), "pass_mark": _l("Nota para aprobar (%)"),
    "grade_method": _l("Nota de la evaluación"),
    "review": _l("Revisión: cuándo ve el agente nota, respuestas correctas y explicaciones (immediately, after_close, never)"),
}
#: fields chosen from a list: value → label
CHOICES = {"grade_method": [("highest", _l("El mejor intento")), ("last", _l("El último intento")), ("average", _l("La media de los intentos"))]}
#: fields typed as multi-line text (the others of kind str are one line)
LONG_TEXT = {"text", "explanation", "guidance", "model_answer", "situation"}


def fields_for(kind: str) -> list:
    """The type's fields in form order (id and type are fixed by the draft)."""
    common = [f for f in COMMON_FIELDS if f.name not in ("id", "type")]
    first = [f for f in common if f.name in ("title", "text")]
    last = [f for f in common if f.name not in ("title", "text")]
    return first + list(REGISTRY[kind].fields) + last


def quiz_fields() -> list:
    return [f for f in QUIZ_FIELDS if f.name != "id"]


def form_fields(draft_kind: str, question_type: str | None = None) -> list:
    return quiz_fields() if draft_kind == "quiz" else fields_for(question_type)


def widget(field) -> str:
    if field.name in CHOICES:
        return "choice"
    kinds = field.kind if isinstance(field.kind, tuple) else (field.kind,)
    if bool in kinds:
        return "bool"
    if list in kinds or dict in kinds:
        return "yaml"
    if str in kinds:
        return "long" if field.name in LONG_TEXT else "line"
    return "number"


def values_of(text: str, draft_kind: str = "question") -> tuple[str | None, dict]:
    """(question type, or "quiz"; {field: value as typed}) of the file's YAML text; (None, {}) if unreadable."""
    try:
        data = plain(parse_yaml(text, draft_kind))
    except ContentFileError:
        return None, {}
    if not isinstance(data, dict):
        return None, {}
    if draft_kind == "quiz":
        kind, fields = "quiz", quiz_fields()
    elif data.get("type") in REGISTRY:
        kind, fields = data["type"], fields_for(data["type"])
    else:
        return None, {}
    values = {}
    for field in fields:
        value = data.get(field.name)
        if value is None:
            values[field.name] = ""
        elif widget(field) == "yaml":
            values[field.name] = dump_yaml(value)
        elif widget(field) == "bool":
            values[field.name] = "1" if value else ""
        else:
            values[field.name] = str(value)
    if kind == "quiz" and "shuffle_questions" not in data:
        values["shuffle_questions"] = values["shuffle_choices"] = "1"  # the loader's defaults
    return kind, values


def _number(raw: str):
    raw = raw.strip().replace(",", ".")
    value = float(raw)
    return int(value) if value.is_integer() and "." not in raw else value


def compose(slug: str, kind: str, values: dict) -> tuple[str | None, list[FieldProblem]]:
    """The file's mapping from the form (``kind``: a question type, or "quiz")."""
    data: dict = {"id": slug} if kind == "quiz" else {"id": slug, "type": kind}
    problems: list[FieldProblem] = []
    for field in (quiz_fields() if kind == "quiz" else fields_for(kind)):
        raw = (values.get(field.name) or "").replace("\r\n", "\n")
        style = widget(field)
        if style == "bool":
            if raw or field.required or kind == "quiz":
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
