"""Checking and publishing a draft through the same code path as ``content sync``.

The published content is exported (:func:`lms.content.export.export_texts`), the draft's files are put in
their place, and the whole tree is checked (:func:`lms.content.check`) or synced (:func:`lms.content.sync`) from a
temporary folder: a draft is refused with the very messages of ``content check``, and publishing creates
versions exactly as a sync of the files would.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from lms.content import sync
from lms.content.registry import _collect as collect_tree
from lms.content.conflicts import record_site_edit
from lms.content.export import export_texts, write_tree
from lms.content.files import ContentError, ContentFileError, read_front_matter, read_yaml


@dataclass
class FieldProblem:
    field: str  # the form field (a top-level key of the file, "body", or "" for the file as a whole)
    line: int
    message: str

    def as_dict(self) -> dict:
        return {"field": self.field, "line": self.line, "message": self.message}


def overlay(texts: dict[str, str], files: dict[str, str | None]) -> dict[str, str]:
    out = dict(texts)
    for path, text in files.items():
        if text is None:
            out.pop(path, None)
        else:
            out[path] = text
    return out


def check_files(session: Session, files: dict[str, str | None], published: dict[str, str] | None = None) -> list[ContentError]:
    """Every problem ``content check`` finds in the published content with ``files`` put in place."""
    return collect_files(session, files, published)[1]


def collect_files(session: Session, files: dict[str, str | None], published: dict[str, str] | None = None) -> tuple[dict, list[ContentError]]:
    """(what every loader collected, every problem) of the published content with ``files`` put in place: the very
    checks of ``content check``, and the compiled items they build (a scenario's customer models)."""
    texts = overlay(export_texts(session) if published is None else published, files)
    with tempfile.TemporaryDirectory(prefix="lms-draft-") as tmp:
        write_tree(texts, Path(tmp))
        collected, problems = collect_tree(Path(tmp))
        return collected, list(problems)


class PublishRefused(Exception):
    def __init__(self, problems: list[ContentError]):
        super().__init__("; ".join(str(p) for p in problems[:5]))
        self.problems = problems


def publish_files(session: Session, files: dict[str, str | None], *, kind: str, slug: str, actor_id: int | None, now):
    """Sync the published content with ``files`` in place; record each changed file as edited in the site."""
    before = export_texts(session)
    texts = overlay(before, files)
    with tempfile.TemporaryDirectory(prefix="lms-publish-") as tmp:
        write_tree(texts, Path(tmp))
        problems, report = sync(session, Path(tmp))
    if problems:
        raise PublishRefused(list(problems))
    after = export_texts(session)
    for path in sorted(set(files) | {p for p in after if after.get(p) != before.get(p)}):
        if after.get(path) != before.get(path):
            record_site_edit(session, path=path, kind=kind, slug=slug, text=after.get(path, ""), actor_id=actor_id, now=now)
    return report


# -- where a problem is in the form --------------------------------------------------------------------------
def key_ranges(text: str, path: str, markdown: bool) -> tuple[list[tuple[int, str]], int | None]:
    """([(first line, top-level key)], first line of the body) of a file's text, or ([], None) if unreadable."""
    with tempfile.TemporaryDirectory(prefix="lms-lines-") as tmp:
        file = Path(tmp) / "file"
        file.write_text(text, encoding="utf-8")
        try:
            if markdown:
                meta, _body, body_line = read_front_matter(file, path)
            else:
                meta, body_line = read_yaml(file, path), None
        except ContentFileError:
            return [], None
    lines = getattr(meta, "key_lines", {}) or {}
    return sorted((line, str(key)) for key, line in lines.items()), body_line


def field_of(line: int, ranges: list[tuple[int, str]], body_line: int | None) -> str:
    if body_line is not None and line >= body_line:
        return "body"
    field = ""
    for start, key in ranges:
        if start <= line:
            field = key
    return field


def problems_for(errors: list[ContentError], path: str, text: str, *, markdown: bool, line_offset: int = 0) -> list[FieldProblem]:
    """The problems of ``path`` placed on the form's fields (others are listed as the file's)."""
    ranges, body_line = key_ranges(text, path, markdown)
    out = []
    for error in errors:
        if error.path == path:
            line = error.line - line_offset
            out.append(FieldProblem(field_of(line, ranges, body_line), line, error.message))
        else:
            out.append(FieldProblem("", error.line, str(error)))
    return out
