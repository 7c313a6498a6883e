"""Public functions of the reference library: citation checks and page reads."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, undefer

from lms.content import Problems
from lms.content.schema import Field, item_line, non_empty_text, validate_mapping
from lms.reference.models import ReferencePage, ReferenceSection
from lms.reference.parsing import normalise, quote_occurs
from lms.reference.search import SearchResult, index_document, indexed_keys, remove_document, search

CITATION_FIELDS = [
    Field("ref", str, check=lambda v: None if "#" in v else "must be '<page id>#<anchor>'"),
    Field("quote", str, check=non_empty_text),
]


def check_citations(
    problems: Problems, path: str, citations: Any, line: int, reference: dict, *, what: str = "sources", required: bool = True
) -> list[dict]:
    """Validate a list of citations against the collected reference; return the valid ones
    enriched with the cited section's title and text hash."""
    if citations is None:
        if required:
            problems.add(path, line, f"missing {what!r}: cite at least one reference passage")
        return []
    if not isinstance(citations, list) or (required and not citations):
        problems.add(path, line, f"{what!r} must be a list of {{ref, quote}} citations" + (" (at least one)" if required else ""))
        return []
    valid = []
    for index, citation in enumerate(citations):
        cline = getattr(citation, "line", item_line(citations, index, line))
        errors = validate_mapping(citation, CITATION_FIELDS, path, cline, what=f"{what}[{index + 1}]")
        if errors:
            problems.extend(errors)
            continue
        page_id, _, anchor = citation["ref"].partition("#")
        page = reference.get(page_id)
        if page is None:
            problems.add(path, cline, f"citation to unknown reference page {page_id!r}")
            continue
        section = page.sections.get(anchor)
        if section is None:
            problems.add(path, cline, f"citation to unknown section #{anchor} of {page_id} ({page.path})")
            continue
        if not quote_occurs(citation["quote"], section.text):
            problems.add(path, citation.line_of("quote") if hasattr(citation, "line_of") else cline,
                         f"quote not found in {citation['ref']}: {citation['quote']!r}")
            continue
        valid.append({
            "ref": citation["ref"],
            "quote": citation["quote"],
            "section_title": section.title,
            "text_hash": section.text_hash,
        })
    return valid


def list_pages(session: Session) -> list[ReferencePage]:
    return list(
        session.scalars(
            select(ReferencePage).where(ReferencePage.is_archived.is_(False)).order_by(ReferencePage.document, ReferencePage.position)
        )
    )


def get_page(session: Session, slug: str) -> ReferencePage | None:
    return session.scalar(
        select(ReferencePage)
        .where(ReferencePage.slug == slug, ReferencePage.is_archived.is_(False))
        .options(selectinload(ReferencePage.sections), undefer(ReferencePage.html))
    )


def citation_url_parts(ref: str) -> tuple[str, str, str]:
    """('manual', 'estandares-de-servicio', 'anchor') from 'manual/estandares-de-servicio#anchor'."""
    page_id, _, anchor = ref.partition("#")
    document, _, chapter = page_id.partition("/")
    return document, chapter, anchor


__all__ = [
    "SearchResult", "index_document", "indexed_keys", "remove_document", "search",
    "check_citations", "list_pages", "get_page", "citation_url_parts", "normalise", "quote_occurs",
    "ReferencePage", "ReferenceSection",
]


HOUSE_RULE_FIELDS = [Field("text", str, check=non_empty_text), Field("sources", list)]


def check_house_rules(problems: Problems, path: str, meta, reference: dict) -> list[dict]:
    """Validate a file's optional ``house_rules`` (each a text and the passages it rests on)."""
    rules = []
    for index, rule in enumerate(meta.get("house_rules") or []):
        line = item_line(meta["house_rules"], index, meta.line_of("house_rules"))
        errors = validate_mapping(rule, HOUSE_RULE_FIELDS, path, line, what=f"house_rules[{index + 1}]")
        if errors:
            problems.extend(errors)
            continue
        sources = check_citations(problems, path, rule["sources"], rule.line_of("sources"), reference, what=f"house_rules[{index + 1}].sources")
        rules.append({"text": rule["text"].strip(), "sources": sources})
    return rules
