"""The practice workspace's endpoints: the conversation state the page polls, per-conversation drafts, sending a
reply without a reload, the ticket, moving a social complaint to private, and the knowledge-base panel.

Every endpoint answers JSON to the page's script (``Accept: application/json``); the ticket and the move to private
also take a plain form post (the page without JavaScript) and redirect back. The JSON of ``state`` is documented in
docs/practice-workspace.md: the conversation engine adds its own keys (new customer messages, the ending, the
pre-check) without the page changing."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.core.clock import now_utc
from lms.core.db import get_session
from lms.core.errors import DomainError
from lms.core.markdown import rendered
from lms.core.security import roles_required
from lms.reference import services as reference
from lms.roleplays import services, workspace

bp = Blueprint("roleplays_workspace", __name__)


def _own(submission_id: int):
    session = get_session()
    submission = services.get_submission(session, submission_id)
    if submission.user_id != current_user.id:
        abort(404)
    return session, submission


def _wants_json() -> bool:
    return request.is_json or "application/json" in (request.headers.get("Accept") or "")


def _error(exc: DomainError):
    get_session().rollback()
    return jsonify({"ok": False, "message": str(exc)}), exc.status


def _turn(turn, private_from: int | None) -> dict:
    return {"position": turn.position, "speaker": turn.speaker, "text": turn.text, "at": turn.at.isoformat(),
            "seconds": turn.seconds, "place": "private" if private_from is not None and turn.position >= private_from else "public"}


def private_from(drafts: dict) -> int | None:
    """Social mode: the position from which the conversation continues in private messages (None: all public)."""
    moved = drafts.get(workspace.PRIVATE_MOVE)
    return int(moved["position"]) if moved and moved.get("position") is not None else None


def _pending_json(view, due) -> list[dict]:
    """The customer's messages due but not stored yet (read-only, see services.pending): rendered like customer
    messages, flagged ``pending``, keyed by the waiting message so a poll never shows one twice."""
    if due is None:
        return []
    base = f"{view.customer['id']}:{view.awaiting.position}"
    out = [{"key": f"{base}:{n}", "speaker": "customer", "text": text, "at": at.isoformat(), "seconds": None, "pending": True}
           for n, (text, at) in enumerate(due.nudges)]
    if due.walk_out:
        out.append({"key": f"{base}:out", "speaker": "customer", "text": due.walk_out[0], "at": due.walk_out[1].isoformat(),
                    "seconds": None, "pending": True})
    return out


def state(session, submission, now=None) -> dict:
    """Everything the page shows of the conversation, as the server has it ``now``: the stored turns, and the nudges
    and walk-outs due by now that the next reply or the hand-in stores (computed read-only: this answers a GET)."""
    now = now or now_utc()
    due_by_thread = services.pending(submission, now=now)
    drafts = workspace.drafts_of(session, submission)
    moved = private_from(drafts) if submission.scenario.mode == "social" else None
    tickets = workspace.tickets_of(session, submission)
    conversations = []
    for view in services.threads(submission):
        cid = view.customer["id"]
        agent_turns = [t for t in view.turns if t.speaker == "agent"]
        draft = drafts.get(cid)
        # a draft older than the last reply sent in its conversation was sent (the page without script)
        if draft is not None and agent_turns and (draft.get("_at") or "") < agent_turns[-1].at.isoformat():
            draft = None
        ticket = tickets.get(cid)
        due = due_by_thread.get(cid)
        gone = due is not None and due.walk_out is not None  # left while the agent typed elsewhere: stored at the next POST
        conversations.append({
            "id": cid, "name": view.customer["name"], "type": view.customer["type"],
            "awaiting_since": view.awaiting.at.isoformat() if view.awaiting is not None and not gone else None,
            "finished": view.finished or gone, "messages": [_turn(t, moved) for t in view.turns],
            "pending": _pending_json(view, due),
            "ending": "timed_out" if gone else view.ending, "ending_text": due.ending_text if gone else view.ending_text,
            "mood": due.mood if gone else view.mood,
            "draft": (draft or {}).get("text", ""),
            "ticket": _ticket_json(ticket) if ticket else None,
        })
    return {
        "conversation": submission.id, "mode": submission.scenario.mode, "ended": submission.state != "in_progress",
        "ending": getattr(submission, "ending", None), "precheck_url": url_for("roleplays.result", submission_id=submission.id),
        "server_now": now.isoformat(), "standard_seconds": submission.scenario.data["response_standard"]["seconds"],
        "private_from": moved, "handoff": {k: v for k, v in (drafts.get(workspace.HANDOFF) or {}).items() if not k.startswith("_")},
        "conversations": conversations, "all_finished": all(c["finished"] for c in conversations),
    }


def _ticket_json(ticket) -> dict:
    return {name: getattr(ticket, name) for name in ("cliente", "asunto", "descripcion", "prioridad", "estado", "agente")} | {
        "updated_at": ticket.updated_at.isoformat(), "history": ticket.history or []}


@bp.route("/practice/<int:submission_id>/state")
@roles_required("agent")
def practice_state(submission_id: int):
    session, submission = _own(submission_id)
    return jsonify(state(session, submission))


@bp.route("/practice/<int:submission_id>/draft", methods=["POST"])
@roles_required("agent")
def save_draft(submission_id: int):
    session, submission = _own(submission_id)
    data = request.get_json(silent=True) or {}
    now = now_utc()
    fields = dict(data.get("fields") or {})
    try:
        workspace.save_draft(session, submission, current_user, thread=str(data.get("thread") or ""), fields=fields, now=now)
    except DomainError as exc:
        return _error(exc)
    session.commit()
    return jsonify({"ok": True, "saved_at": now.isoformat()})


@bp.route("/practice/<int:submission_id>/send", methods=["POST"])
@roles_required("agent")
def send(submission_id: int):
    """The reply box's "Enviar" with the script: the same service as the form post, then this conversation's draft
    (and no other) is cleared."""
    session, submission = _own(submission_id)
    data = request.get_json(silent=True) or {}
    thread = str(data.get("thread") or "")
    try:
        services.reply(session, submission, current_user, thread=thread, text=str(data.get("text") or ""), now=now_utc())
    except DomainError as exc:
        return _error(exc)
    workspace.clear_draft(session, submission, thread)
    session.commit()
    return jsonify({"ok": True} | state(session, submission))


@bp.route("/practice/<int:submission_id>/email-draft", methods=["POST"])
@roles_required("agent")
def email_draft(submission_id: int):
    session, submission = _own(submission_id)
    data = request.get_json(silent=True) or {}
    try:
        services.save_email(session, submission, current_user, {k: str(data.get(k) or "") for k in services.EMAIL_FIELDS}, now=now_utc())
    except DomainError as exc:
        return _error(exc)
    session.commit()
    return jsonify({"ok": True, "saved_at": now_utc().isoformat()})


@bp.route("/practice/<int:submission_id>/ticket", methods=["POST"])
@roles_required("agent")
def save_ticket(submission_id: int):
    session, submission = _own(submission_id)
    data = (request.get_json(silent=True) or {}) if request.is_json else request.form
    thread = str(data.get("thread") or "")
    fields = {k: data.get(k, "") for k in ("cliente", "asunto", "descripcion", "prioridad", "estado", "agente")}
    try:
        ticket = workspace.save_ticket(session, submission, current_user, thread=thread, fields=fields, now=now_utc())
    except DomainError as exc:
        if _wants_json():
            return _error(exc)
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("roleplays.practice", submission_id=submission.id))
    session.commit()
    if _wants_json():
        return jsonify({"ok": True, "ticket": _ticket_json(ticket)})
    flash(_("Ticket guardado."), "success")
    return redirect(url_for("roleplays.practice", submission_id=submission.id))


@bp.route("/practice/<int:submission_id>/private", methods=["POST"])
@roles_required("agent")
def move_private(submission_id: int):
    """Social mode: the agent invites the customer to private messages; what follows is private."""
    session, submission = _own(submission_id)
    try:
        workspace.move_to_private(session, submission, current_user, now=now_utc())
    except DomainError as exc:
        if _wants_json():
            return _error(exc)
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("roleplays.practice", submission_id=submission.id))
    session.commit()
    if _wants_json():
        return jsonify({"ok": True} | state(session, submission))
    flash(_("Conversación movida a mensajes privados."), "success")
    return redirect(url_for("roleplays.practice", submission_id=submission.id))


@bp.route("/practice/<int:submission_id>/kb", methods=["POST"])
@roles_required("agent")
def kb_search(submission_id: int):
    """Search the handbook library from the practice; the search is recorded with it (a POST: it writes)."""
    session, submission = _own(submission_id)
    query = str((request.get_json(silent=True) or {}).get("q") or "").strip()[:200]
    results = [r for r in reference.search(session, query, limit=40) if r.document.kind == "reference"][:12] if query else []
    if query:
        workspace.record_lookup(session, submission, current_user, kind="search", query=query, now=now_utc())
        session.commit()
    return jsonify({"query": query, "results": [
        {"key": r.document.key, "title": r.document.title, "context": r.document.context, "snippet": r.snippet,
         "url": url_for(r.document.endpoint, **(r.document.args or {})) + (f"#{r.document.anchor}" if r.document.anchor else "")}
        for r in results]})


@bp.route("/practice/<int:submission_id>/kb/read", methods=["POST"])
@roles_required("agent")
def kb_read(submission_id: int):
    """One section of the handbook library (``manual/chapter#anchor``), rendered sanitized; the read is recorded."""
    session, submission = _own(submission_id)
    key = str((request.get_json(silent=True) or {}).get("key") or "").strip()[:300]
    if not key:
        return jsonify({"ok": False, "message": _("Elige una sección del manual.")}), 400
    slug, _sep, anchor = key.partition("#")
    page = reference.get_page(session, slug)
    if page is None:
        return jsonify({"ok": False, "message": _("Esa sección del manual no existe.")}), 404
    section = next((s for s in page.sections if s.anchor == anchor), None)
    title = f"{page.title} › {section.title}" if section else page.title
    workspace.record_lookup(session, submission, current_user, kind="read", query=key, title=title, now=now_utc())
    session.commit()
    html = rendered(section.text, section, "text") if section else rendered(page.body, page, "body")
    return jsonify({"ok": True, "key": key, "title": title, "html": str(html),
                    "url": url_for("reference.page", document=page.slug.split("/")[0], chapter=page.slug.split("/", 1)[1])
                    + (f"#{anchor}" if anchor else "")})


def register(app) -> None:
    """The blueprint, and ``practice_review(submission)`` for the result and grading pages."""
    app.register_blueprint(bp)

    @app.template_global()
    def practice_review(submission):
        return workspace.review(get_session(), submission)


def practice_context(session, submission) -> dict:
    """What the practice page needs beyond the conversation: drafts, tickets, the hand-off, the move to private."""
    drafts = workspace.drafts_of(session, submission)
    tickets = workspace.tickets_of(session, submission)
    handoff = {k: v for k, v in (drafts.get(workspace.HANDOFF) or {}).items() if not k.startswith("_")}
    if not handoff:
        # prefilled from what the agent already wrote: the ticket's description and priority
        ticket = next(iter(tickets.values()), None)
        if ticket is not None:
            handoff = {"context": ticket.descripcion, "priority": ticket.prioridad}
    for view in services.threads(submission):
        draft = drafts.get(view.customer["id"])
        agent_turns = [t for t in view.turns if t.speaker == "agent"]
        if draft is not None and agent_turns and draft.get("_at", "") < agent_turns[-1].at.isoformat():
            drafts.pop(view.customer["id"])  # sent since (the page without script)
    return {"drafts": drafts, "tickets": tickets, "handoff": handoff,
            "private_from": private_from(drafts) if submission.scenario.mode == "social" else None,
            "seconds_standard": submission.scenario.data["response_standard"]["seconds"],
            "ticket_priorities": workspace.PRIORITIES, "ticket_states": workspace.STATES,
            "ticket_priority_label": lambda p: str(workspace.PRIORITY_LABELS.get(p, p)),
            "ticket_state_label": lambda s: str(workspace.STATE_LABELS.get(s, s))}
