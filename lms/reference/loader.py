"""Loads ``courses/reference/<doc>/<NN>-<slug>.md`` into reference pages and sections."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.content import Problems, SyncReport
from lms.content.walk import markdown_files
from lms.content.schema import Field, non_empty_text, non_negative_int
from lms.core.db import utcnow
from lms.reference import search
from lms.reference.models import ReferencePage, ReferenceSection
from lms.reference.parsing import ParsedSection, split_sections

PAGE_FIELDS = [
    Field("id", str, check=lambda v: None if "/" in v and all(v.split("/")) else "must look like '<doc>/<chapter>'"),
    Field("title", str, check=non_empty_text),
    Field("document", str, check=non_empty_text),
    Field("source", str, check=non_empty_text),
    Field("order", int, check=non_negative_int),
]


@dataclass
class CollectedPage:
    slug: str
    path: str
    title: str
    document: str
    document_title: str
    source: str
    order: int
    body: str
    sections: dict[str, ParsedSection] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.body.encode("utf-8")).hexdigest()


class ReferenceLoader:
    name = "reference"
    depends_on: tuple[str, ...] = ()

    def collect(self, root: Path, collected, problems: Problems) -> dict[str, CollectedPage]:
        pages: dict[str, CollectedPage] = {}

        for path, display, meta, body, body_line in markdown_files(root, "courses/reference/*/*.md", PAGE_FIELDS, problems):
            slug = meta["id"]
            doc_folder = path.parent.name
            if slug.split("/", 1)[0] != doc_folder:
                problems.add(display, meta.line_of("id"), f"id {slug!r} must start with its folder name '{doc_folder}/'")
                continue
            if slug in pages:
                problems.add(display, meta.line_of("id"), f"duplicate reference page id {slug!r} (also in {pages[slug].path})")
                continue
            sections, section_problems = split_sections(body, body_line)
            for line, message in section_problems:
                problems.add(display, line, message)
            pages[slug] = CollectedPage(
                slug=slug, path=display, title=meta["title"], document=doc_folder, document_title=meta["document"],
                source=meta["source"], order=meta["order"], body=body,
                sections={s.anchor: s for s in sections},
            )
        return pages

    def sync(self, session: Session, pages: dict[str, CollectedPage], collected, report: SyncReport) -> None:
        existing = {p.slug: p for p in session.scalars(select(ReferencePage))}
        indexed = search.indexed_keys(session, "reference")
        for slug, page in pages.items():
            row = existing.get(slug)
            if not all(f"{slug}#{anchor}" in indexed for anchor in page.sections):
                self._index(session, page)
            if row is None:
                row = ReferencePage(slug=slug, is_archived=False)
                session.add(row)
                report.count("created", "reference pages")
            elif row.content_hash != page.content_hash or row.is_archived or _meta_changed(row, page):
                report.count("restored" if row.is_archived else "updated", "reference pages")
            else:
                continue
            row.document = page.document
            row.document_title = page.document_title
            row.title = page.title
            row.source = page.source
            row.position = page.order
            row.body = page.body
            row.content_hash = page.content_hash
            row.is_archived = False
            row.updated_at = utcnow()
            self._sync_sections(session, row, page)
            self._index(session, page)
        wanted = {f"{slug}#{anchor}" for slug, page in pages.items() for anchor in page.sections}
        for key in indexed - wanted:
            search.remove_document(session, "reference", key)
        for slug, row in existing.items():
            if slug not in pages and not row.is_archived:
                row.is_archived = True
                report.count("archived", "reference pages")

    @staticmethod
    def _sync_sections(session: Session, row: ReferencePage, page: CollectedPage) -> None:
        """Update sections in place by anchor (ids stay), add new ones, drop removed ones."""
        current = {section.anchor: section for section in row.sections}
        for anchor, section in current.items():
            if anchor not in page.sections:
                row.sections.remove(section)
        session.flush()
        for position, parsed in enumerate(page.sections.values()):
            section = current.get(parsed.anchor)
            if section is None:
                section = ReferenceSection(anchor=parsed.anchor)
                row.sections.append(section)
            section.title, section.level, section.position = parsed.title, parsed.level, position
            section.text, section.text_hash = parsed.text, parsed.text_hash

    @staticmethod
    def _index(session: Session, page: CollectedPage) -> None:
        document, _, chapter = page.slug.partition("/")
        for section in page.sections.values():
            search.index_document(
                session, kind="reference", key=f"{page.slug}#{section.anchor}", title=section.title,
                context=f"{page.document_title} › {page.title}", body=section.own_text, endpoint="reference.page",
                args={"document": document, "chapter": chapter}, anchor=section.anchor,
            )


def _meta_changed(row: ReferencePage, page: CollectedPage) -> bool:
    return (row.title, row.document_title, row.source, row.position) != (
        page.title, page.document_title, page.source, page.order
    )
