"""Revision impact: which content cites reference sections whose text changed.

Every citation stored in the database recorded the hash of its section's text
when it was synced.  Comparing those with the sections in the files tells which
lessons, questions, rubric criteria and scenarios cite revised text, and (through
the loaders that know them) which certifications rest on those items.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from lms.content.registry import registered_loaders


@dataclass(frozen=True)
class StoredCitation:
    kind: str  # lesson, module, question, rubric, scenario, certification
    slug: str
    ref: str
    text_hash: str


@dataclass
class RevisionImpact:
    #: ref → the items citing it, for every cited section whose text changed (or vanished)
    changed: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    #: items (kind, slug) resting on the changed items, e.g. certifications
    dependents: set[tuple[str, str]] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.changed)

    def lines(self) -> list[str]:
        out = []
        for ref in sorted(self.changed):
            items = ", ".join(f"{kind} {slug}" for kind, slug in sorted(self.changed[ref]))
            out.append(f"revised: {ref} is cited by {items}")
        if self.dependents:
            out.append("rests on them: " + ", ".join(f"{kind} {slug}" for kind, slug in sorted(self.dependents)))
        return out


def section_hashes(collected: dict) -> dict[str, str]:
    reference = collected.get("reference") or {}
    return {f"{slug}#{anchor}": s.text_hash for slug, page in reference.items() for anchor, s in page.sections.items()}


def revision_impact(session: Session, collected: dict) -> RevisionImpact:
    current = section_hashes(collected)
    impact = RevisionImpact()
    changed: dict[str, set] = defaultdict(set)
    for loader in registered_loaders():
        stored = getattr(loader, "stored_citations", None)
        if stored is None:
            continue
        for citation in stored(session):
            if current.get(citation.ref) != citation.text_hash:
                changed[citation.ref].add((citation.kind, citation.slug))
    impact.changed = dict(changed)
    affected = {item for items in changed.values() for item in items}
    if affected:
        for loader in registered_loaders():
            dependents = getattr(loader, "dependents", None)
            if dependents is not None:
                impact.dependents |= set(dependents(collected, affected))
    return impact


def citations_of(kind: str, slug: str, *lists) -> list[StoredCitation]:
    """StoredCitation rows for every citation dict in the given lists."""
    return [StoredCitation(kind, slug, c["ref"], c.get("text_hash", "")) for items in lists for c in (items or []) if c]
