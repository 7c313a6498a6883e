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
from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from lms.accounts import services as accounts
from lms.certification import signals
from lms.certification.models import CertificationDefinition, CertificationEvent, CertificationRecord, RecertificationPath
from lms.certification.evidence import (  # noqa: F401  # the evidence check's rules: importable from here
    EVIDENCE_CHECK_ROWS, EVIDENCE_REQUIREMENTS, REQUIREMENT_COST, LiveDefinition, attempt_evidence, could_change, met_results, parsed)
from lms.certification.requirements import Context, RequirementResult, evaluate
from lms.core.errors import Conflict, InvalidInput, NotFound

if TYPE_CHECKING:  # typing only: users come from lms.accounts.services
    from lms.accounts.models import User


#: statements of the evidence check that runs on every graded quiz, built once
_LIVE_DEFINITIONS = (select(CertificationDefinition).where(CertificationDefinition.is_archived.is_(False))
                     .order_by(CertificationDefinition.area, CertificationDefinition.slug))

def list_definitions(session: Session) -> list[CertificationDefinition]:
    return list(session.scalars(_LIVE_DEFINITIONS))


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


def requirement_names(session: Session) -> dict[str, dict[str, str]]:
    """What requirements name by slug, by title: {"quiz": {…}, "module": {…}, "scenario": {…}} (three queries)."""
    from lms.quizzes import services as quizzes
    from lms.roleplays import services as roleplays
    from lms.tracks import services as tracks

    return {"quiz": {q.slug: q.title for q in quizzes.list_quizzes(session)},
            "scenario": {s.slug: s.title for s in roleplays.list_scenarios(session)},
            "module": tracks.module_titles(session)}


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


def evaluate_and_issue(session: Session, user: "User", *, now: datetime,
                       evidence: tuple[str, str | None] | None = None, completions: dict | None = None) -> list[CertificationRecord]:
    """Issue every certification whose requirements the agent now meets (automatic issuing), and renew
    every certificate whose recertification path the agent has now completed.

    A certification is issued automatically once: evidence that already produced a record never
    produces another, and a certification with a recertification path is renewed only through it.

    This runs on every graded attempt that reaches its quiz's pass mark (:func:`attempt_evidence`), completed lesson
    and released role-play, so it does only what can change the outcome: ``evidence`` names what just arrived
    (:func:`could_change`), and only the certifications and recertification paths with a requirement it can change
    are evaluated (None: all of them, as ``flask --app lms certification evaluate`` does to catch up); a
    certification already held is not evaluated, and the others stop at their first unmet requirement, cheapest
    kinds first (:func:`met_results`). Definitions and records are read as plain rows (one statement).
    ``completions``: the agent's lesson completions when the caller knows them (a submission that read that there are
    none, :func:`known_completions`), else None (read if a requirement needs them).
    """
    if user.role != "agent":
        return []
    issued = []
    definitions: dict[int, LiveDefinition] = {}
    history: dict[int, list] = {}
    has_records = None
    for row in session.connection().execute(EVIDENCE_CHECK_ROWS, {"b_user_id": user.id}):  # (Core: no ORM execution)
        has_records = row.has_records
        if row.id not in definitions:
            definitions[row.id] = LiveDefinition(row.id, row.version, row.validity_months, parsed(row.requirements_json),
                                                 parsed(row.recertification_json))
        if row.status is not None:  # one of the agent's records of this certification
            history.setdefault(row.id, []).append(row)
    ctx = Context(session, user, completions=completions)
    candidates = [d for d in definitions.values() if could_change(d.requirements, evidence)]
    for definition in candidates:
        earlier = history.get(definition.id, [])
        if any(effective_status(r, now) == "active" for r in earlier):
            continue
        if earlier and definition.recertification:
            continue  # renewed through its recertification path
        results = met_results(ctx, definition.requirements)
        if results is None:
            continue
        _evidence_items, digest = _evidence(results)
        if any(r.evidence_hash == digest for r in earlier):
            continue  # this evidence was already certified once
        record = _issue(session, definition, user, results, actor=None, reason="", now=now)
        if record is not None:
            issued.append(record)
    # a recertification path belongs to one of the agent's records: none at all, no path to read
    for path in open_paths_of(session, user.id) if has_records or not candidates else ():
        if not could_change(path.requirements, evidence):
            continue
        record = _renew_if_met(session, path, user, now=now)
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
    """``definition``: its id, version and validity_months are read (a loaded definition, or a row of them)."""
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
    # an admin's manual issue also settles a pending recertification
    for path in session.scalars(select(RecertificationPath).where(RecertificationPath.user_id == user.id,
                                                                  RecertificationPath.definition_id == definition.id,
                                                                  RecertificationPath.status == "open")):
        _close_path(session, path, "completed", now=now, renewed=record)
    signals.record_issued.send(session, record=record, now=now)
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
    path = session.scalar(select(RecertificationPath).where(RecertificationPath.record_id == record.id, RecertificationPath.status == "open"))
    if path is not None:
        _close_path(session, path, "closed", now=now)


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


def on_evidence(session: Session, user_id: int, now: datetime, evidence: tuple[str, str | None] | None = None,
                completions: dict | None = None) -> list[CertificationRecord]:
    """Signal handler body: new evidence for an agent → issue what they now meet (returns what was issued)."""
    try:
        user = accounts.get_user(session, user_id)
    except NotFound:
        return []
    return evaluate_and_issue(session, user, now=now, evidence=evidence, completions=completions)


def active_count_of(user_id, now: datetime):
    """A SQL expression: how many active certificates the agent ``user_id`` (a column) holds, as
    :func:`active_counts` counts them (a correlated subquery: a page of agents reads its counts with its names)."""
    return (select(func.count()).where(CertificationRecord.user_id == user_id, CertificationRecord.status == "active",
                                       CertificationRecord.expires_at > now).scalar_subquery())


def active_counts(session: Session, user_ids: list[int], now: datetime) -> dict[int, int]:
    """How many active certificates each agent holds (one query)."""
    if not user_ids:
        return {}
    # counted in SQL, no record loaded: "active" as effective_status says it (active and not yet expired)
    return dict(session.execute(select(CertificationRecord.user_id, func.count()).where(
        CertificationRecord.user_id.in_(user_ids), CertificationRecord.status == "active", CertificationRecord.expires_at > now)
        .group_by(CertificationRecord.user_id)).all())


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
            recipients = [agent] + accounts.managers_of(session, agent)
            for person in recipients:
                signals.expiry_reminder.send(session, record=record, person=person, window=window, now=now)
                if not accounts.wants_email(session, person.id, "certificate_expiring"):
                    continue
                when = _day_for(session, person, record.expires_at)
                with force_locale(accounts.email_locale(person)):  # in the recipient's language
                    title = record.definition.title
                    subject = _("La certificación «%(title)s» caduca el %(when)s", title=title, when=when)
                    how = (_("Para renovarla hay que completar su recertificación antes de esa fecha.") if record.definition.recertification
                           else _("Para renovarla hay que volver a cumplir sus requisitos con evidencias nuevas."))
                    body = (_("Hola, %(name)s:", name=person.name) + "\n\n"
                            + _("La certificación «%(title)s» de %(agent)s caduca el %(when)s.", title=title, agent=agent.name, when=when)
                            + "\n" + how + "\n\n" + _("Verificación: %(url)s", url=link) + "\n\n"
                            + _("Para elegir qué avisos recibes por correo: %(url)s", url=f"{base_url.rstrip('/')}/account/notifications") + "\n")
                queued += outbox.enqueue(session, kind="email", dedupe_key=f"cert-expiry:{record.id}:{window}:{person.id}",
                                         payload={"to": person.email, "subject": subject, "body": body}, now=now)
    return queued


def _day_for(session: Session, person, moment: datetime) -> str:
    """The day of ``moment`` in ``person``'s time zone and language, as e-mails write dates ("25 de octubre de 2026")."""
    from flask_babel import force_locale

    from lms.accounts.zones import zone_of
    from lms.core.i18n import force_timezone
    from lms.core.templating import format_day

    with force_locale(person.locale or "es"), force_timezone(zone_of(session, person)):
        return format_day(moment, "long")


def home_notices(session: Session, user, now: datetime) -> list[tuple[str, str]]:
    """Agent home-page notices: certificates expiring within 30 days."""
    from flask import url_for

    from lms.core.templating import format_day

    if user.role != "agent":
        return []
    paths = open_paths_of(session, user.id)
    renewing = {p.record_id for p in paths}
    notices = [(_("Renueva tu certificación «%(title)s» antes del %(date)s: tienes una recertificación abierta.",
                  title=p.definition.title, date=format_day(p.due_at)), url_for("certification.mine")) for p in paths]
    return notices + [(_("Tu certificación «%(title)s» caduca el %(date)s.", title=r.definition.title, date=format_day(r.expires_at)),
                       url_for("certification.mine")) for r in expiring(session, [user.id], now=now, days=30) if r.id not in renewing]


def records_for(session: Session, user_ids: list[int]) -> list[CertificationRecord]:
    """Every record of these agents (one query), newest first."""
    if not user_ids:
        return []
    return list(session.scalars(select(CertificationRecord).where(CertificationRecord.user_id.in_(user_ids))
                                .options(selectinload(CertificationRecord.definition)).order_by(CertificationRecord.issued_at.desc())))


# Recertification ---------------------------------------------------------------

#: stored with renewed records (records and the audit log are kept in Spanish, whoever reads them)
RENEWAL_REASON = "Recertificación"

@dataclass
class PathProgress:
    path: RecertificationPath
    results: list[RequirementResult]

    @property
    def met(self) -> bool:
        return all(r.met for r in self.results)


def open_paths_of(session: Session, user_id: int) -> list[RecertificationPath]:
    return list(session.scalars(select(RecertificationPath).where(RecertificationPath.user_id == user_id,
                                                                  RecertificationPath.status == "open")
                                .options(selectinload(RecertificationPath.definition), selectinload(RecertificationPath.record))
                                .order_by(RecertificationPath.due_at)))


def paths_for(session: Session, user_ids: list[int]) -> list[RecertificationPath]:
    """Every recertification path of these agents (one query), newest first."""
    if not user_ids:
        return []
    return list(session.scalars(select(RecertificationPath).where(RecertificationPath.user_id.in_(user_ids))
                                .options(selectinload(RecertificationPath.definition)).order_by(RecertificationPath.opened_at.desc())))


def path_progress(session: Session, user: "User", paths: list[RecertificationPath]) -> list[PathProgress]:
    return [PathProgress(path, evaluate(Context(session, user, since=path.opened_at), path.requirements)) for path in paths]


def _close_path(session: Session, path: RecertificationPath, status: str, *, now: datetime,
                renewed: CertificationRecord | None = None, log: bool = True) -> bool:
    moved = session.execute(
        update(RecertificationPath).where(RecertificationPath.id == path.id, RecertificationPath.status == "open")
        .values(status=status, closed_at=now, renewed_record_id=renewed.id if renewed else None)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if moved == 1 and log:
        session.add(CertificationEvent(record_id=path.record_id, kind=f"recertification_{status}", at=now,
                                       data={"path": path.id, "renewed_record": renewed.id if renewed else None}))
        session.flush()
    return moved == 1


def _renew_if_met(session: Session, path: RecertificationPath, user: "User", *, now: datetime) -> CertificationRecord | None:
    """The path's requirements are met with fresh evidence → a new record; the old one gives way.

    Renewing early loses no time (house rule): the new record runs from the later of today and
    the old expiry date.  Two requests at once: the path closes once (conditional UPDATE).
    """
    results = met_results(Context(session, user, since=path.opened_at), path.requirements)
    if results is None:
        return None
    definition, old = path.definition, path.record
    try:
        with session.begin_nested():
            if not _close_path(session, path, "completed", now=now, log=False):
                return None
            if old.status == "active":
                _set_status(session, old, "expired" if old.expires_at <= now else "superseded", actor=None,
                            reason="Renovado por recertificación.", now=now)
            evidence, digest = _evidence(results)
            start = max(now, old.expires_at)
            record = CertificationRecord(
                definition_id=definition.id, definition_version=definition.version, user_id=user.id,
                code=secrets.token_urlsafe(18), status="active", active_marker=1, issued_at=now,
                expires_at=start + relativedelta(months=definition.validity_months), issued_by_id=None,
                issue_reason=RENEWAL_REASON, evidence=evidence, evidence_hash=digest,
            )
            session.add(record)
            session.flush()
            session.execute(update(RecertificationPath).where(RecertificationPath.id == path.id)
                            .values(renewed_record_id=record.id).execution_options(synchronize_session="fetch"))
            session.add(CertificationEvent(record_id=record.id, kind="issued", at=now, reason=RENEWAL_REASON,
                                           data={"evidence_hash": digest, "definition_version": definition.version,
                                                 "renews": old.id, "path": path.id}))
            session.add(CertificationEvent(record_id=old.id, kind="recertification_completed", at=now,
                                           data={"path": path.id, "renewed_record": record.id}))
            session.flush()
    except (IntegrityError, Conflict):
        return None  # another request renewed it at the same moment
    signals.record_issued.send(session, record=record, now=now)
    return record


def open_due_paths(session: Session, *, now: datetime, base_url: str = "") -> int:
    """Open a recertification path for every certificate whose renewal window has begun (active or
    expired, the agent's latest of that certification, with a recertification in its definition),
    tell the agent by e-mail, and log it.  Idempotent: one path per record."""
    from lms.core import outbox

    if not base_url and has_app_context():  # every e-mail link is absolute (PUBLIC_URL), whoever calls
        base_url = current_app.config["PUBLIC_URL"]

    horizon = max((d.recertification["window_days"] for d in list_definitions(session) if d.recertification), default=None)
    if horizon is None:
        return 0
    candidates = session.scalars(
        select(CertificationRecord)
        .outerjoin(RecertificationPath, RecertificationPath.record_id == CertificationRecord.id)
        .where(RecertificationPath.id.is_(None), CertificationRecord.status.in_(("active", "expired")),
               CertificationRecord.expires_at <= now + relativedelta(days=horizon))
        .options(selectinload(CertificationRecord.definition))
    ).all()
    latest = {}
    if candidates:
        for record in session.scalars(select(CertificationRecord).where(
                CertificationRecord.user_id.in_({c.user_id for c in candidates}), CertificationRecord.status != "revoked")):
            key = (record.user_id, record.definition_id)
            if key not in latest or record.issued_at > latest[key].issued_at:
                latest[key] = record
    opened, names = 0, requirement_names(session) if candidates else {}
    for record in candidates:
        definition = record.definition
        recert = definition.recertification
        if (not recert or definition.is_archived or latest.get((record.user_id, record.definition_id)) is not record
                or record.expires_at > now + relativedelta(days=recert["window_days"])):
            continue
        agent = accounts.get_user(session, record.user_id)
        if not agent.is_active_user:
            continue
        path = RecertificationPath(record_id=record.id, user_id=record.user_id, definition_id=definition.id,
                                   requirements=recert["requirements"], opened_at=now, due_at=record.expires_at, status="open")
        try:
            with session.begin_nested():
                session.add(path)
                session.flush()
        except IntegrityError:
            continue  # opened by another run at the same moment
        session.add(CertificationEvent(record_id=record.id, kind="recertification_opened", at=now,
                                       data={"path": path.id, "due": record.expires_at.isoformat()}))
        signals.recertification_opened.send(session, path=path, now=now)
        opened += 1
        if not accounts.wants_email(session, agent.id, "recertification_open"):
            continue
        when = _day_for(session, agent, record.expires_at)
        link = f"{base_url.rstrip('/')}/certifications"
        with force_locale(accounts.email_locale(agent)):  # in the agent's language
            payload = {
                "to": agent.email,
                "subject": _("Renueva tu certificación «%(title)s» antes del %(when)s", title=definition.title, when=when),
                "body": (_("Hola, %(name)s:", name=agent.name) + "\n\n"
                         + _("Se ha abierto la recertificación de «%(title)s», que caduca el %(when)s.", title=definition.title, when=when)
                         + "\n" + _("Para renovarla, completa estos pasos (cuentan los que hagas a partir de hoy):") + "\n"
                         + "".join(f"- {describe_requirement(r, names)}\n" for r in recert["requirements"])
                         + "\n" + _("Tus certificaciones: %(url)s", url=link) + "\n\n"
                         + _("Para elegir qué avisos recibes por correo: %(url)s", url=f"{base_url.rstrip('/')}/account/notifications") + "\n")}
        outbox.enqueue(session, kind="email", dedupe_key=f"recert-open:{path.id}", now=now, payload=payload)
    session.flush()
    return opened


def describe_requirement(req: dict, names: dict[str, dict[str, str]] | None = None) -> str:
    """A requirement in one line of the current language (e-mails): titles from ``names`` (see requirement_names)."""
    from lms.core.templating import format_number

    names = names or {}
    score = _(" con al menos %(n)s %%", n=format_number(req["min_score"])) if req.get("min_score") else ""
    if req["type"] == "quiz_passed":
        return _("Aprobar la evaluación «%(title)s»", title=names.get("quiz", {}).get(req["quiz"], req["quiz"])) + score
    if req["type"] == "roleplay_grade":
        titles = ", ".join(f"«{names.get('scenario', {}).get(s, s)}»" for s in req["scenarios"])
        return _("Un role-play calificado%(score)s en uno de estos: %(titles)s", score=score, titles=titles)
    if req["type"] == "coverage":
        parts = ", ".join([*req.get("channels", []), *req.get("customer_types", [])])
        return _("Un role-play aprobado%(score)s en cada uno de: %(parts)s", score=score, parts=parts)
    return _("Completar los módulos: %(modules)s", modules=", ".join(req.get("modules", [])))


def may_take_for_recertification(session: Session, user: "User", quiz) -> bool:
    """A refresher quiz is open to an agent with an open recertification path that asks for it."""
    if user.role != "agent":
        return False
    return any(req["type"] == "quiz_passed" and req["quiz"] == quiz.slug
               for path in open_paths_of(session, user.id) for req in path.requirements)


# For integrations (the REST API) ---------------------------------------------------

def records_query(*, now: datetime, user_id: int | None = None, user_ids=None, definition_slug: str | None = None,
                  status: str | None = None, issued_after: datetime | None = None):
    """A select() of records with their definition. ``status`` is the effective one (see :func:`effective_status`):
    an active record past its date counts as expired before the expiry job has run."""
    stmt = select(CertificationRecord).options(selectinload(CertificationRecord.definition))
    if user_id is not None:
        stmt = stmt.where(CertificationRecord.user_id == user_id)
    if user_ids is not None:
        stmt = stmt.where(CertificationRecord.user_id.in_(user_ids))
    if definition_slug:
        stmt = stmt.where(CertificationRecord.definition_id.in_(
            select(CertificationDefinition.id).where(CertificationDefinition.slug == definition_slug)))
    if status == "active":
        stmt = stmt.where(CertificationRecord.status == "active", CertificationRecord.expires_at > now)
    elif status == "expired":
        stmt = stmt.where((CertificationRecord.status == "expired")
                          | ((CertificationRecord.status == "active") & (CertificationRecord.expires_at <= now)))
    elif status:
        stmt = stmt.where(CertificationRecord.status == status)
    if issued_after is not None:
        stmt = stmt.where(CertificationRecord.issued_at >= issued_after)
    return stmt
