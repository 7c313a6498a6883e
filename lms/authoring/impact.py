"""Revision impact kept in the site: when a sync revises cited reference passages, their old and new text and
every item citing them are recorded, to be re-confirmed (or edited) by a trainer; certifications resting on items
not yet re-confirmed are flagged to admins."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lms.authoring.models import Impact, PassageRevision
from lms.certification.loader import CertificationsLoader
from lms.content.impact import revision_impact
from lms.core import audit
from lms.core.clock import now_utc
from lms.core.errors import DomainError, NotFound
from lms.reference.models import ReferencePage, ReferenceSection


def record_revisions(session: Session, collected: dict) -> None:
    """Sync listener: runs before the loaders write, while the database still holds the old passages."""
    impact = revision_impact(session, collected)
    if not impact:
        return
    evidence = {slug: CertificationsLoader.evidence_items(collected, cert)
                for slug, cert in (collected.get("certification") or {}).items()}
    reference = collected.get("reference") or {}
    now = now_utc()
    for ref in sorted(impact.changed):
        page_id, _sep, anchor = ref.partition("#")
        old = session.execute(select(ReferenceSection.text, ReferenceSection.title).join(ReferencePage)
                              .where(ReferencePage.slug == page_id, ReferenceSection.anchor == anchor)).first()
        page = reference.get(page_id)
        section = page.sections.get(anchor) if page else None
        revision = PassageRevision(ref=ref, title=(section.title if section else old.title if old else ""),
                                   old_text=old.text if old else "", new_text=section.text if section else None, at=now)
        for kind, slug in sorted(impact.changed[ref]):
            revision.impacts.append(Impact(kind=kind, slug=slug,
                                           certifications=sorted(c for c, items in evidence.items() if (kind, slug) in items)))
        session.add(revision)
    session.flush()


def open_revisions(session: Session, *, include_resolved: bool = False) -> list[PassageRevision]:
    stmt = select(PassageRevision).options(selectinload(PassageRevision.impacts)).order_by(PassageRevision.at.desc(), PassageRevision.id.desc())
    revisions = list(session.scalars(stmt))
    return revisions if include_resolved else [r for r in revisions if any(i.resolution is None for i in r.impacts)]


def flagged_certifications(session: Session) -> dict[str, list[Impact]]:
    """Certification slug → the open impacts it rests on."""
    flagged: dict[str, list[Impact]] = {}
    for impact in session.scalars(select(Impact).where(Impact.resolution.is_(None))):
        for slug in impact.certifications or []:
            flagged.setdefault(slug, []).append(impact)
        if impact.kind == "certification":
            flagged.setdefault(impact.slug, []).append(impact)
    return flagged


def confirm(session: Session, impact_id: int, *, actor, now: datetime) -> Impact:
    impact = session.get(Impact, impact_id)
    if impact is None:
        raise NotFound(_l("Ese elemento no existe."))
    if impact.resolution is not None:
        raise DomainError(_l("Ya estaba reconfirmado."))
    impact.resolution, impact.resolved_by_id, impact.resolved_at = "confirmed", actor.id, now
    audit.record(session, kind="authoring_impact_confirmed", subject=f"{impact.kind}:{impact.slug}", actor_id=actor.id,
                 data={"ref": impact.revision.ref, "revision": impact.revision_id}, now=now)
    return impact


def resolve_by_edit(session: Session, kind: str, slug: str, *, actor_id: int | None, now: datetime) -> int:
    """A published edit of the item settles its open impacts."""
    rows = list(session.scalars(select(Impact).where(Impact.kind == kind, Impact.slug == slug, Impact.resolution.is_(None))))
    for impact in rows:
        impact.resolution, impact.resolved_by_id, impact.resolved_at = "edited", actor_id, now
    return len(rows)
