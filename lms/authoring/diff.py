"""What a reviewer sees: the published text and the draft side by side, and the citations added and removed."""
from __future__ import annotations

import difflib
from dataclasses import dataclass

from flask import url_for
from sqlalchemy.orm import Session

from lms.authoring.models import Draft
from lms.content.export import dump_yaml, export_texts
from lms.content.files import ContentFileError, parse_yaml, plain


@dataclass
class Row:
    kind: str  # equal | replace | delete | insert
    left_no: int | None
    left: str
    right_no: int | None
    right: str


def published_text(session: Session, draft: Draft) -> str | None:
    """The item's published text in the form the draft states it (None: not published)."""
    text = export_texts(session).get(draft.path)
    if draft.kind != "question" or text is None:
        return text
    try:
        bank = plain(parse_yaml(text, draft.path))
    except ContentFileError:
        return None
    for question in bank.get("questions") or []:
        if isinstance(question, dict) and question.get("id") == draft.slug:
            return dump_yaml(question)
    return None


def side_by_side(old: str, new: str, context: int = 3) -> list[Row]:
    """Rows of the two texts side by side; long unchanged runs are folded to ``context`` lines around the changes
    (a ``skip`` row says how many lines are not shown)."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[Row] = []
    opcodes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            keep = [Row("equal", i1 + k + 1, a[i1 + k], j1 + k + 1, b[j1 + k]) for k in range(i2 - i1)]
            head = context if index > 0 else 0
            tail = context if index < len(opcodes) - 1 else 0
            if len(opcodes) > 1 and len(keep) > head + tail + 1:
                rows += keep[:head]
                rows.append(Row("skip", None, str(len(keep) - head - tail), None, ""))
                rows += keep[len(keep) - tail:] if tail else []
            else:
                rows += keep
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            left = a[i1 + k] if i1 + k < i2 else None
            right = b[j1 + k] if j1 + k < j2 else None
            kind = "replace" if left is not None and right is not None else ("delete" if right is None else "insert")
            rows.append(Row(kind, i1 + k + 1 if left is not None else None, left or "",
                            j1 + k + 1 if right is not None else None, right or ""))
    return rows


def _citations(text: str, markdown: bool) -> list[tuple[str, str]]:
    if not text:
        return []
    try:
        if markdown:
            lines = text.splitlines(keepends=True)
            end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
            data = plain(parse_yaml("".join(lines[1:end]), "draft"))
        else:
            data = plain(parse_yaml(text, "draft"))
    except (ContentFileError, StopIteration):
        return []
    found: list[tuple[str, str]] = []

    def walk(value):
        if isinstance(value, dict):
            if isinstance(value.get("ref"), str) and isinstance(value.get("quote"), str):
                found.append((value["ref"], value["quote"]))
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(data)
    return list(dict.fromkeys(found))


def citation_changes(old: str, new: str, *, markdown: bool) -> dict[str, list[tuple[str, str]]]:
    before, after = _citations(old, markdown), _citations(new, markdown)
    return {"kept": [c for c in after if c in before], "added": [c for c in after if c not in before],
            "removed": [c for c in before if c not in after]}


def edit_url(draft: Draft) -> str:
    if draft.kind == "lesson":
        return url_for("authoring.edit_lesson", slug=draft.slug)
    return url_for("authoring.edit_file", draft_id=draft.id)
