"""Citation checks against the reference library in the database (the same checks, same messages, as
``content check`` runs against the files)."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from lms.content import Problems
from lms.reference import services as reference


@dataclass
class _Section:
    title: str
    text: str
    text_hash: str


@dataclass
class _Page:
    path: str
    sections: dict = field(default_factory=dict)


def library_page(session: Session, page_id: str) -> _Page | None:
    page = reference.get_page(session, page_id)
    if page is None:
        return None
    return _Page(path=f"courses/reference/{page.document}/…", sections={
        s.anchor: _Section(s.title, s.text, s.text_hash) for s in page.sections})


def check_one(session: Session, ref: str, quote: str) -> str | None:
    """None when ``quote`` is in the section ``ref``; else the message ``content check`` gives."""
    page_id = ref.partition("#")[0]
    page = library_page(session, page_id)
    problems = Problems()
    reference.check_citations(problems, "citation", [{"ref": ref, "quote": quote}], 1,
                              {page_id: page} if page else {})
    return problems[0].message if problems else None
