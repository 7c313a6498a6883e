"""The lesson editor's fields ↔ the lesson file, and the checks the editor adds to ``content check``."""
from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.authoring.exporters import lesson_front_matter, lesson_text
from lms.authoring.tree import FieldProblem
from lms.content.export import dump_yaml
from lms.content.files import ContentFileError, parse_yaml, plain
from lms.core.markdown import ALLOWED_TAGS
from lms.tracks.models import Lesson, Module

#: the most a lesson's body may hold (the longest lesson is ~15,000 characters)
BODY_LIMIT = 200_000
#: the most any other field may hold
FIELD_LIMIT = 50_000
FIELDS = ("title", "day", "minutes", "objectives", "sources", "house_rules", "body")
_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9-]*)([^>]*)>")
_CODE = re.compile(r"```.*?```|~~~.*?~~~|`[^`\n]*`", re.DOTALL)
_EVENT_ATTR = re.compile(r"\bon[a-z]+\s*=|javascript:", re.IGNORECASE)


def lesson_path(module: str, slug: str) -> str:
    return f"courses/lessons/{module}/{slug}.md"


def get_lesson(session: Session, slug: str) -> tuple[Lesson, Module] | None:
    row = session.execute(select(Lesson, Module).join(Module, Module.id == Lesson.module_id)
                          .where(Lesson.slug == slug, Lesson.is_archived.is_(False))).first()
    return (row[0], row[1]) if row else None


def fields_of_lesson(lesson: Lesson, module: Module) -> dict:
    meta = lesson_front_matter(lesson, module.slug)
    return {
        "title": lesson.title, "day": str(lesson.day), "minutes": str(lesson.minutes),
        "objectives": "\n".join(lesson.objectives or []),
        "sources": dump_yaml(meta["sources"]) if meta.get("sources") else "",
        "house_rules": dump_yaml(meta["house_rules"]) if meta.get("house_rules") else "",
        "body": lesson.body.strip() + "\n",
    }


def published_text(lesson: Lesson, module: Module) -> str:
    return lesson_text(lesson_front_matter(lesson, module.slug), lesson.body)


def _whole(value: str, field: str, problems: list[FieldProblem]) -> int | None:
    try:
        number = int(str(value).strip())
    except ValueError:
        problems.append(FieldProblem(field, 0, _("Escribe un número entero.")))
        return None
    if number < 0:
        problems.append(FieldProblem(field, 0, _("Escribe un número entero mayor o igual que 0.")))
        return None
    return number


def _yaml_list(value: str, field: str, problems: list[FieldProblem]) -> list | None:
    if not value.strip():
        return []
    try:
        data = parse_yaml(value, field)
    except ContentFileError as exc:
        problems.append(FieldProblem(field, exc.error.line, exc.error.message))
        return None
    if not isinstance(data, list):
        problems.append(FieldProblem(field, 1, _("Debe ser una lista: cada elemento empieza con «- ».")))
        return None
    return plain(data)


def html_problems(body: str) -> list[str]:
    """Tags the site would strip from the lesson (scripts, frames, event handlers): better said than silently lost."""
    text = _CODE.sub("", body)
    found = []
    for closing, name, attrs in _TAG.findall(text):
        if name.lower() not in ALLOWED_TAGS and f"<{name.lower()}>" not in found:
            found.append(f"<{name.lower()}>")
        elif _EVENT_ATTR.search(attrs) and "on…= / javascript:" not in found:
            found.append("on…= / javascript:")
    return found


def too_long(fields: dict) -> bool:
    return any(len(fields.get(name) or "") > (BODY_LIMIT if name == "body" else FIELD_LIMIT) for name in FIELDS)


def compose(slug: str, module: str, fields: dict) -> tuple[str | None, list[FieldProblem]]:
    """The lesson file from the editor's fields, and the problems found before ``content check``.

    ``None`` as text when a field cannot be read at all (the previous text is kept; what was typed too)."""
    problems: list[FieldProblem] = []
    for name in FIELDS:
        limit = BODY_LIMIT if name == "body" else FIELD_LIMIT
        if len(fields.get(name) or "") > limit:
            problems.append(FieldProblem(name, 0, _("Demasiado largo: %(n)s caracteres; el máximo es %(max)s.",
                                                     n=f"{len(fields[name]):,}".replace(",", "."), max=f"{limit:,}".replace(",", "."))))
    if problems:
        return None, problems
    title = (fields.get("title") or "").strip()
    if not title:
        problems.append(FieldProblem("title", 0, _("Escribe el título.")))
    day = _whole(fields.get("day", ""), "day", problems)
    minutes = _whole(fields.get("minutes", ""), "minutes", problems)
    sources = _yaml_list(fields.get("sources") or "", "sources", problems)
    house_rules = _yaml_list(fields.get("house_rules") or "", "house_rules", problems)
    body = fields.get("body") or ""
    tags = html_problems(body)
    if tags:
        problems.append(FieldProblem("body", 0, _("La lección contiene HTML que el sitio no muestra por seguridad: %(tags)s. "
                                                   "Quítalo y usa Markdown.", tags=", ".join(tags))))
    if None in (day, minutes, sources, house_rules):
        return None, problems
    meta = {"id": slug, "title": title, "module": module, "day": day, "minutes": minutes}
    objectives = [line.strip() for line in (fields.get("objectives") or "").splitlines() if line.strip()]
    if objectives:
        meta["objectives"] = objectives
    meta["sources"] = sources
    if house_rules:
        meta["house_rules"] = house_rules
    return lesson_text(meta, body), problems
