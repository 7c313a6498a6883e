"""The agent's workspace around a practice: drafts per conversation, the ticket, knowledge-base lookups, and the
checks the end feedback and the trainer's grading page show (plain functions taking the session and ``now``;
they flush, never commit). Spec: docs/practice-workspace.md."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lms.core.errors import Conflict, InvalidInput, NotFound
from lms.roleplays.models import RoleplaySubmission
from lms.roleplays.workspace_models import PracticeDraft, PracticeLookup, PracticeTicket

MAX_DRAFT = 5000
HANDOFF = "_handoff"
#: the hand-off form: the handbook's transfer fields, as services.clean_escalation reads them
HANDOFF_KEYS = ("level", "destination", "context", "priority", "expectations", "timeline")
#: the handbook's ticket fields (manual/herramientas-y-sistemas#campos-del-ticket)
PRIORITIES = ("Crítica", "Alta", "Media", "Baja")
STATES = ("Abierto", "En Progreso", "Resuelto", "Cerrado")
PRIORITY_LABELS = {"Crítica": _l("Crítica"), "Alta": _l("Alta"), "Media": _l("Media"), "Baja": _l("Baja")}
STATE_LABELS = {"Abierto": _l("Abierto"), "En Progreso": _l("En Progreso"), "Resuelto": _l("Resuelto"), "Cerrado": _l("Cerrado")}
#: a description a colleague could act on: at least this many words
DESCRIPTION_WORDS = 12


def _open(submission: RoleplaySubmission, user) -> None:
    if submission.user_id != user.id:
        raise NotFound(_("Esa práctica no existe."))
    if submission.state != "in_progress":
        raise Conflict(_("Esta práctica ya se envió; no se ha cambiado nada."))


def _threads(submission: RoleplaySubmission) -> set[str]:
    return {c["id"] for c in submission.scenario.data["customers"]}


# Drafts ------------------------------------------------------------------------------------

def drafts_of(session: Session, submission: RoleplaySubmission) -> dict[str, dict]:
    """{thread: fields} of the practice's saved drafts."""
    return {d.thread: dict(d.fields or {}) | {"_at": d.updated_at.isoformat()} for d in session.scalars(
        select(PracticeDraft).where(PracticeDraft.submission_id == submission.id))}


def save_draft(session: Session, submission: RoleplaySubmission, user, *, thread: str, fields: dict, now: datetime) -> PracticeDraft:
    """Keep what the agent has typed in one conversation (or in the hand-off form); other drafts are not touched."""
    _open(submission, user)
    if thread == HANDOFF:
        keys = HANDOFF_KEYS
    elif thread in _threads(submission):
        keys = ("text",)
    else:
        raise InvalidInput(_("Esa conversación no existe en este role-play."))
    clean = {}
    for key in keys:
        value = str((fields or {}).get(key) or "")
        if len(value) > MAX_DRAFT:
            raise InvalidInput(_("El borrador es demasiado largo (máximo %(n)d caracteres).", n=MAX_DRAFT))
        clean[key] = value
    draft = session.scalar(select(PracticeDraft).where(PracticeDraft.submission_id == submission.id, PracticeDraft.thread == thread))
    if draft is None:
        draft = PracticeDraft(submission_id=submission.id, thread=thread, fields=clean, updated_at=now)
        session.add(draft)
    else:
        draft.fields, draft.updated_at = clean, now
    session.flush()
    return draft


def clear_draft(session: Session, submission: RoleplaySubmission, thread: str) -> None:
    """After a reply is sent in ``thread``: that conversation's draft only."""
    session.execute(delete(PracticeDraft).where(PracticeDraft.submission_id == submission.id, PracticeDraft.thread == thread))


# Tickets -----------------------------------------------------------------------------------

def tickets_of(session: Session, submission: RoleplaySubmission) -> dict[str, PracticeTicket]:
    return {t.thread: t for t in session.scalars(select(PracticeTicket).where(PracticeTicket.submission_id == submission.id))}


def save_ticket(session: Session, submission: RoleplaySubmission, user, *, thread: str, fields: dict, now: datetime) -> PracticeTicket:
    """Create or update the conversation's ticket with the handbook's fields; every save is kept in its history."""
    _open(submission, user)
    if thread not in _threads(submission):
        raise InvalidInput(_("Esa conversación no existe en este role-play."))
    prioridad = str(fields.get("prioridad") or "").strip()
    estado = str(fields.get("estado") or "").strip()
    if prioridad not in PRIORITIES:
        raise InvalidInput(_("Elige la prioridad del ticket: Crítica, Alta, Media o Baja."))
    if estado not in STATES:
        raise InvalidInput(_("Elige el estado del ticket: Abierto, En Progreso, Resuelto o Cerrado."))
    asunto = str(fields.get("asunto") or "").strip()
    if not asunto:
        raise InvalidInput(_("Escribe el asunto del ticket."))
    values = {"cliente": str(fields.get("cliente") or "").strip()[:200], "asunto": asunto[:200],
              "descripcion": str(fields.get("descripcion") or "").strip()[:MAX_DRAFT], "prioridad": prioridad, "estado": estado,
              "agente": str(fields.get("agente") or "").strip()[:200]}
    ticket = session.scalar(select(PracticeTicket).where(PracticeTicket.submission_id == submission.id, PracticeTicket.thread == thread))
    if ticket is None:
        ticket = PracticeTicket(submission_id=submission.id, thread=thread, history=[], created_at=now, **values)
        session.add(ticket)
    else:
        for name, value in values.items():
            setattr(ticket, name, value)
    ticket.updated_at = now
    ticket.history = [*(ticket.history or []), {"at": now.isoformat(), "prioridad": prioridad, "estado": estado}]
    session.flush()
    return ticket


@dataclass
class TicketFlag:
    code: str
    message: str


def check_ticket(spec: dict | None, ticket: PracticeTicket | dict | None) -> list[TicketFlag]:
    """What is wrong with the ticket against the scenario's ``ticket:`` block (no block: nothing is checked)."""
    if not spec:
        return []
    if ticket is None:
        return [TicketFlag("sin_ticket", _("No abriste ticket: el manual pide documentar todos los casos."))]
    get = ticket.get if isinstance(ticket, dict) else (lambda name, default=None: getattr(ticket, name, default))
    flags = []
    expected = spec.get("priority")
    if expected and get("prioridad") != expected:
        flags.append(TicketFlag("prioridad_distinta", _("Prioridad %(given)s; la que corresponde es %(expected)s.",
                                                        given=_(get("prioridad")), expected=_(expected))))
    if not spec.get("resolved", False) and get("estado") in ("Resuelto", "Cerrado"):
        flags.append(TicketFlag("resuelto_sin_resolver", _("Estado «%(state)s» para un caso que no queda resuelto en la conversación.",
                                                           state=_(get("estado")))))
    route = spec.get("route")
    if route and route.casefold() not in (get("agente") or "").casefold():
        flags.append(TicketFlag("ruta_distinta", _("Responsable «%(given)s»; el ticket va a %(expected)s.",
                                                   given=get("agente") or "—", expected=route)))
    if spec.get("resolved") and get("estado") == "Abierto":
        flags.append(TicketFlag("estado_sin_actualizar", _("El caso se resolvió pero el ticket sigue «Abierto».")))
    if len(re.findall(r"\w+", get("descripcion") or "")) < DESCRIPTION_WORDS:
        flags.append(TicketFlag("descripcion_insuficiente", _("La descripción es demasiado breve para que un compañero pueda actuar.")))
    if not (get("cliente") or "").strip():
        flags.append(TicketFlag("sin_cliente", _("Falta el cliente en el ticket.")))
    return flags


def spec_for(block: dict | None, thread: str) -> dict | None:
    """The correct ticket of one conversation: the block's defaults with that customer's overrides (ticket queues)."""
    if not block:
        return None
    spec = {k: v for k, v in block.items() if k != "customers"}
    return spec | (block.get("customers") or {}).get(thread, {})


def ticket_review(session: Session, submission: RoleplaySubmission) -> list[dict]:
    """Per conversation: the ticket (or None) and its flags, for the end feedback and the grading page."""
    block = submission.scenario.data.get("ticket")
    tickets = tickets_of(session, submission)
    out = []
    for customer in submission.scenario.data["customers"]:
        spec = spec_for(block, customer["id"])
        ticket = tickets.get(customer["id"])
        if ticket is None and not spec:
            continue
        out.append({"customer": customer, "ticket": ticket, "flags": check_ticket(spec, ticket), "spec": spec})
    return out


# Knowledge base ----------------------------------------------------------------------------

def record_lookup(session: Session, submission: RoleplaySubmission, user, *, kind: str, query: str, title: str = "",
                  now: datetime) -> PracticeLookup | None:
    """Keep what the agent searched or read in the knowledge base during the practice (nothing once it is sent)."""
    if submission.user_id != user.id or submission.state != "in_progress":
        return None
    if kind not in ("search", "read"):
        raise InvalidInput(_("Consulta desconocida."))
    query = (query or "").strip()[:200]
    if not query:
        return None
    lookup = PracticeLookup(submission_id=submission.id, kind=kind, query=query, title=(title or "").strip()[:300], at=now)
    session.add(lookup)
    session.flush()
    return lookup


def lookups_of(session: Session, submission: RoleplaySubmission) -> list[PracticeLookup]:
    return list(session.scalars(select(PracticeLookup).where(PracticeLookup.submission_id == submission.id)
                                .order_by(PracticeLookup.at, PracticeLookup.id)))


# Social mode -------------------------------------------------------------------------------

#: account details that must never be written in a public reply: e-mails, phone numbers, account or order ids,
#: card digits, addresses, passwords
_PRIVATE = [
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),
    re.compile(r"(?<!\d)(?:\+?\d[\s-]?){9,}(?!\d)"),
    re.compile(r"\b(?:cuenta|pedido|orden|factura|ticket|caso)\s*(?:n[º°o.]?\s*)?#?\s*[A-Z]*-?\d{3,}", re.I),
    re.compile(r"\b[A-Z]{1,4}-\d{3,}\b"),
    re.compile(r"\btarjeta\b[^.\n]{0,30}\d{4}", re.I),
    re.compile(r"\b(?:contraseña|password|dirección|domicilio|DNI|NIF|IBAN)\b", re.I),
]


def public_details(text: str) -> list[str]:
    """The account details a public social reply exposes (empty when there are none)."""
    found = []
    for pattern in _PRIVATE:
        found += [m.group(0).strip() for m in pattern.finditer(text or "")]
    return list(dict.fromkeys(found))


#: the draft row that records the move to private messages (social mode): {"position": first private turn, "at"}
PRIVATE_MOVE = "_private"


def move_to_private(session: Session, submission: RoleplaySubmission, user, *, now: datetime) -> None:
    """Social mode: from the next message on, the conversation continues in private messages (once)."""
    _open(submission, user)
    if submission.scenario.mode != "social":
        raise InvalidInput(_("Solo en redes sociales se pasa de lo público a lo privado."))
    if session.scalar(select(PracticeDraft).where(PracticeDraft.submission_id == submission.id, PracticeDraft.thread == PRIVATE_MOVE)):
        return
    position = max((t.position for t in submission.turns), default=-1) + 1
    session.add(PracticeDraft(submission_id=submission.id, thread=PRIVATE_MOVE, fields={"position": position, "at": now.isoformat()},
                              updated_at=now))
    session.flush()


def private_position(session: Session, submission: RoleplaySubmission) -> int | None:
    moved = drafts_of(session, submission).get(PRIVATE_MOVE)
    return int(moved["position"]) if moved else None


def social_flags(turns, private_from: int | None) -> list[TicketFlag]:
    """A public reply with account details is a fault (social mode); private messages may carry them."""
    flags = []
    for turn in turns:
        if turn.speaker == "agent" and (private_from is None or turn.position < private_from):
            details = public_details(turn.text)
            if details:
                flags.append(TicketFlag("datos_en_publico", _("Respuesta pública con datos de la cuenta: %(details)s.",
                                                              details=", ".join(details))))
    return flags


def review(session: Session, submission: RoleplaySubmission) -> dict:
    """What the end feedback and the trainer's grading page show of the workspace: tickets and their flags, the
    social-mode flags, the move to private, and the knowledge-base lookups."""
    moved = private_position(session, submission) if submission.scenario.mode == "social" else None
    social = social_flags(submission.turns, moved) if submission.scenario.mode == "social" else []
    return {"tickets": ticket_review(session, submission), "social": social, "private_from": moved,
            "moved_private": moved is not None, "lookups": lookups_of(session, submission)}


# The scenario's ``ticket:`` block ----------------------------------------------------------

TICKET_BLOCK_KEYS = {"priority", "resolved", "route", "reason", "sources", "customers"}
TICKET_CUSTOMER_KEYS = {"priority", "resolved", "route", "reason"}


def load_ticket_block(problems, path: str, meta, reference: dict) -> dict | None:
    """Validate a scenario's optional ``ticket:`` block (what a correct ticket is) and return it plain, citations
    checked; ``None`` when the scenario has none. Spec: docs/practice-workspace.md."""
    from lms.reference.services import check_citations

    block = meta.get("ticket")
    if block is None:
        return None
    line = meta.line_of("ticket")
    if not isinstance(block, dict):
        problems.add(path, line, "'ticket' must be a mapping (priority, resolved, reason, sources)")
        return None
    unknown = sorted(set(block) - TICKET_BLOCK_KEYS)
    if unknown:
        problems.add(path, line, f"ticket: unknown field {unknown[0]!r} (expected one of: {', '.join(sorted(TICKET_BLOCK_KEYS))})")
    customers = block.get("customers") or {}
    known = {str(c.get("id")) for c in meta.get("customers") or [] if isinstance(c, dict)}
    if not isinstance(customers, dict):
        problems.add(path, line, "ticket.customers must map customer ids to their correct ticket")
        customers = {}
    for cid, override in customers.items():
        if cid not in known:
            problems.add(path, line, f"ticket.customers: unknown customer {cid!r}")
        if not isinstance(override, dict) or set(override) - TICKET_CUSTOMER_KEYS:
            problems.add(path, line, f"ticket.customers.{cid}: expected a mapping of {', '.join(sorted(TICKET_CUSTOMER_KEYS))}")
            continue
        if "priority" in override and override["priority"] not in PRIORITIES:
            problems.add(path, line, f"ticket.customers.{cid}.priority must be one of {', '.join(PRIORITIES)}")
        if not isinstance(override.get("resolved", False), bool):
            problems.add(path, line, f"ticket.customers.{cid}.resolved must be true or false")
    every = set(customers) >= known and all(isinstance(o, dict) and "priority" in o for o in customers.values())
    if block.get("priority") not in PRIORITIES and not (block.get("priority") is None and every):
        problems.add(path, line, f"ticket.priority must be one of {', '.join(PRIORITIES)}")
    if not isinstance(block.get("resolved", False), bool):
        problems.add(path, line, "ticket.resolved must be true or false")
    if not str(block.get("reason") or "").strip():
        problems.add(path, line, "ticket.reason must say why this is the correct ticket")
    if not isinstance(block.get("sources"), list) or not block.get("sources"):
        problems.add(path, line, "ticket.sources must cite the passages the priority rests on")
        return None
    sources = check_citations(problems, path, block["sources"], line, reference, what="ticket.sources")
    out = {"priority": block.get("priority"), "resolved": bool(block.get("resolved", False)),
           "reason": str(block.get("reason") or "").strip(), "sources": sources}
    if block.get("route"):
        out["route"] = str(block["route"]).strip()
    if customers:
        out["customers"] = {cid: {k: (str(v).strip() if k in ("route", "reason") else v) for k, v in o.items()}
                            for cid, o in customers.items() if isinstance(o, dict)}
    return out
