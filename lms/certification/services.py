"""Certification records: issued by rule (or by an admin, with a reason), verifiable, never deleted.

Every change is an event in the audit log.  Issuing is idempotent: the same evidence never
produces two active records for one certification, even with two requests at once (a unique
constraint backs the check).
"""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from lms.accounts import services as accounts
from lms.certification.models import CertificationDefinition, CertificationEvent, CertificationRecord
from lms.certification.requirements import Context, RequirementResult, evaluate
from lms.core.errors import Conflict, InvalidInput, NotFound

if TYPE_CHECKING:  # typing only: users come from lms.accounts.services
    from lms.accounts.models import User


def list_definitions(session: Session) -> list[CertificationDefinition]:
    return list(session.scalars(select(CertificationDefinition).where(CertificationDefinition.is_archived.is_(False))
                                .order_by(CertificationDefinition.area, CertificationDefinition.slug)))


def get_definition(session: Session, slug: str) -> CertificationDefinition:
    definition = session.scalar(select(CertificationDefinition).where(CertificationDefinition.slug == slug,
                                                                      CertificationDefinition.is_archived.is_(False)))
    if definition is None:
        raise NotFound(_("Esa certificación no existe."))
    return definition


@dataclass
class Progress:
    definition: CertificationDefinition
    results: list[RequirementResult]
    record: CertificationRecord | None

    @property
    def met(self) -> bool:
        return all(r.met for r in self.results)

    @property
    def coverage(self) -> dict | None:
        return next((r.grid for r in self.results if r.grid is not None), None)


def effective_status(record: CertificationRecord, now: datetime) -> str:
    if record.status == "active" and record.expires_at <= now:
        return "expired"
    return record.status


def records_of(session: Session, user_id: int) -> list[CertificationRecord]:
    return list(session.scalars(select(CertificationRecord).where(CertificationRecord.user_id == user_id)
                                .options(selectinload(CertificationRecord.definition)).order_by(CertificationRecord.issued_at.desc())))


def progress_for(session: Session, user: "User", now: datetime) -> list[Progress]:
    ctx = Context(session, user)
    records = records_of(session, user.id)
    out = []
    for definition in list_definitions(session):
        active = next((r for r in records if r.definition_id == definition.id and effective_status(r, now) == "active"), None)
        out.append(Progress(definition, evaluate(ctx, definition.requirements), active))
    return out


def _evidence(results: list[RequirementResult]) -> tuple[list[dict], str]:
    items = [e.as_json() for r in results for e in r.evidence]
    digest = hashlib.sha256(json.dumps(sorted((i["kind"], i["ref"]) for i in items)).encode()).hexdigest()
    return items, digest


def evaluate_and_issue(session: Session, user: "User", *, now: datetime) -> list[CertificationRecord]:
    """Issue every certification whose requirements the agent now meets (automatic issuing)."""
    if user.role != "agent":
        return []
    issued = []
    for progress in progress_for(session, user, now):
        if progress.met and progress.record is None:
            record = _issue(session, progress.definition, user, progress.results, actor=None, reason="", now=now)
            if record is not None:
                issued.append(record)
    return issued


def issue_manually(session: Session, definition: CertificationDefinition, user: "User", *, actor: "User", reason: str,
                   now: datetime) -> CertificationRecord:
    """An admin issues a certification on demand; the reason is required and recorded."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Explica el motivo de la emisión manual."))
    if user.role != "agent":
        raise InvalidInput(_("Solo se certifica a agentes."))
    results = evaluate(Context(session, user), definition.requirements)
    record = _issue(session, definition, user, results, actor=actor, reason=reason, now=now)
    if record is None:
        raise Conflict(_("Este agente ya tiene esta certificación activa."))
    return record


def _issue(session: Session, definition, user, results, *, actor, reason: str, now: datetime) -> CertificationRecord | None:
    evidence, digest = _evidence(results)
    # an expired active record gives way to the new one
    for old in session.scalars(select(CertificationRecord).where(CertificationRecord.definition_id == definition.id,
                                                                 CertificationRecord.user_id == user.id,
                                                                 CertificationRecord.status == "active")):
        if old.expires_at <= now:
            _set_status(session, old, "expired", actor=None, reason="", now=now)
        else:
            return None
    record = CertificationRecord(
        definition_id=definition.id, definition_version=definition.version, user_id=user.id, code=secrets.token_urlsafe(18),
        status="active", active_marker=1, issued_at=now, expires_at=now + relativedelta(months=definition.validity_months),
        issued_by_id=actor.id if actor else None, issue_reason=reason[:500], evidence=evidence, evidence_hash=digest,
    )
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        return None  # another request issued it at the same moment
    session.add(CertificationEvent(record_id=record.id, actor_id=actor.id if actor else None, kind="issued", at=now,
                                   reason=reason[:500], data={"evidence_hash": digest, "definition_version": definition.version}))
    session.flush()
    return record


def _set_status(session: Session, record: CertificationRecord, status: str, *, actor, reason: str, now: datetime) -> None:
    before = record.status
    moved = session.execute(
        update(CertificationRecord).where(CertificationRecord.id == record.id, CertificationRecord.status == before)
        .values(status=status, active_marker=1 if status == "active" else None,
                revoked_reason=reason[:500] if status == "revoked" else (None if status == "active" else record.revoked_reason))
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if moved != 1:
        raise Conflict(_("El certificado cambió mientras lo editabas; recarga la página."))
    kind = {"revoked": "revoked", "active": "reinstated", "expired": "expired", "superseded": "superseded"}[status]
    session.add(CertificationEvent(record_id=record.id, actor_id=actor.id if actor else None, kind=kind, at=now,
                                   reason=reason[:500], data={"before": before, "after": status}))
    session.flush()


def revoke(session: Session, record: CertificationRecord, *, actor: "User", reason: str, now: datetime) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Explica el motivo de la revocación."))
    if record.status != "active":
        raise Conflict(_("Solo se revoca un certificado activo."))
    _set_status(session, record, "revoked", actor=actor, reason=reason, now=now)


def reinstate(session: Session, record: CertificationRecord, *, actor: "User", reason: str, now: datetime) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Explica el motivo de la rehabilitación."))
    if record.status != "revoked":
        raise Conflict(_("Solo se rehabilita un certificado revocado."))
    try:
        with session.begin_nested():
            _set_status(session, record, "active", actor=actor, reason=reason, now=now)
    except IntegrityError:
        raise Conflict(_("El agente ya tiene otro certificado activo de esta certificación.")) from None


def expire_due(session: Session, *, now: datetime) -> int:
    """Record as expired every active record past its expiry date."""
    due = session.scalars(select(CertificationRecord).where(CertificationRecord.status == "active", CertificationRecord.expires_at <= now)).all()
    for record in due:
        _set_status(session, record, "expired", actor=None, reason="", now=now)
    return len(due)


def by_code(session: Session, code: str) -> CertificationRecord | None:
    if not code or len(code) > 40:
        return None
    return session.scalar(select(CertificationRecord).where(CertificationRecord.code == code)
                          .options(selectinload(CertificationRecord.definition)))


def get_record(session: Session, record_id: int) -> CertificationRecord:
    record = session.scalar(select(CertificationRecord).where(CertificationRecord.id == record_id)
                            .options(selectinload(CertificationRecord.definition)))
    if record is None:
        raise NotFound(_("Ese certificado no existe."))
    return record


def events_of(session: Session, record: CertificationRecord) -> list[CertificationEvent]:
    return list(session.scalars(select(CertificationEvent).where(CertificationEvent.record_id == record.id).order_by(CertificationEvent.id)))


def on_evidence(session: Session, user_id: int, now: datetime) -> None:
    """Signal handler body: new evidence for an agent → issue what they now meet."""
    try:
        user = accounts.get_user(session, user_id)
    except NotFound:
        return
    evaluate_and_issue(session, user, now=now)


def active_counts(session: Session, user_ids: list[int], now: datetime) -> dict[int, int]:
    """How many active certificates each agent holds (one query)."""
    out: dict[int, int] = {}
    if user_ids:
        for record in session.scalars(select(CertificationRecord).where(CertificationRecord.user_id.in_(user_ids))):
            if effective_status(record, now) == "active":
                out[record.user_id] = out.get(record.user_id, 0) + 1
    return out


REMINDER_WINDOWS = (30, 7)


def expiring(session: Session, user_ids: list[int] | None, *, now: datetime, days: int) -> list[CertificationRecord]:
    stmt = (select(CertificationRecord).where(CertificationRecord.status == "active", CertificationRecord.expires_at > now,
                                              CertificationRecord.expires_at <= now + relativedelta(days=days))
            .options(selectinload(CertificationRecord.definition)).order_by(CertificationRecord.expires_at))
    if user_ids is not None:
        stmt = stmt.where(CertificationRecord.user_id.in_(user_ids))
    return list(session.scalars(stmt))


def queue_expiry_reminders(session: Session, *, now: datetime, base_url: str) -> int:
    """Queue e-mails to the agent and their managers for certificates expiring within 30 and 7 days (once per window)."""
    from lms.core import outbox

    queued = 0
    for window in REMINDER_WINDOWS:
        for record in expiring(session, None, now=now, days=window):
            agent = accounts.get_user(session, record.user_id)
            link = f"{base_url.rstrip('/')}/verify/{record.code}"
            when = record.expires_at.strftime("%d/%m/%Y")
            recipients = [agent] + accounts.managers_of(session, agent)
            for person in recipients:
                subject = f"La certificación «{record.definition.title}» caduca el {when}"
                body = (f"Hola, {person.name}:\n\nLa certificación «{record.definition.title}» de {agent.name} caduca el {when}.\n"
                        f"Para renovarla hay que volver a cumplir sus requisitos antes de esa fecha.\n\nVerificación: {link}\n")
                queued += outbox.enqueue(session, kind="email", dedupe_key=f"cert-expiry:{record.id}:{window}:{person.id}",
                                         payload={"to": person.email, "subject": subject, "body": body}, now=now)
    return queued


def home_notices(session: Session, user, now: datetime) -> list[tuple[str, str]]:
    """Agent home-page notices: certificates expiring within 30 days."""
    from flask import url_for

    if user.role != "agent":
        return []
    return [(_("Tu certificación «%(title)s» caduca el %(date)s.", title=r.definition.title, date=r.expires_at.strftime("%d/%m/%Y")),
             url_for("certification.mine")) for r in expiring(session, [user.id], now=now, days=30)]


def records_for(session: Session, user_ids: list[int]) -> list[CertificationRecord]:
    """Every record of these agents (one query), newest first."""
    if not user_ids:
        return []
    return list(session.scalars(select(CertificationRecord).where(CertificationRecord.user_id.in_(user_ids))
                                .options(selectinload(CertificationRecord.definition)).order_by(CertificationRecord.issued_at.desc())))
