"""Managers and admins: certification records of their agents, coverage, revocation and manual issuing."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.accounts import services as accounts
from lms.certification import services
from lms.core.clock import now_utc
from lms.core.db import get_session
from lms.core.errors import DomainError
from lms.core.forms import EmptyForm
from lms.core.security import roles_required

bp = Blueprint("certification_manage", __name__, template_folder="templates", url_prefix="/manage/certifications")

STAFF = ("trainer", "manager", "admin")


@bp.route("/")
@roles_required(*STAFF)
def records():
    session = get_session()
    now = now_utc()
    agents = sorted(session.scalars(accounts.supervised_agents_query(session, current_user)), key=lambda a: a.name)
    window = request.args.get("expiring", type=int)
    by_id = {agent.id: agent for agent in agents}
    rows = []
    for record in services.records_for(session, list(by_id)):
        status = services.effective_status(record, now)
        if window and not (status == "active" and record.expires_at <= now + timedelta(days=window)):
            continue
        rows.append((by_id[record.user_id], record, status))
    rows.sort(key=lambda row: (row[0].name, row[1].issued_at))
    renewing = {p.record_id for p in services.paths_for(session, list(by_id)) if p.status == "open"}
    return render_template("certification/manage/records.html", rows=rows, window=window, now=now, renewing=renewing)


@bp.route("/agents/<int:user_id>")
@roles_required(*STAFF)
def agent(user_id: int):
    session = get_session()
    agent = accounts.get_user(session, user_id)
    if agent.role != "agent" or not accounts.can_supervise(session, current_user, agent):
        abort(404)
    now = now_utc()
    paths = services.path_progress(session, agent, services.open_paths_of(session, agent.id))
    return render_template("certification/manage/agent.html", agent=agent, progress=services.progress_for(session, agent, now), paths=paths, names=services.requirement_names(session),
                           records=services.records_of(session, agent.id), status=services.effective_status, now=now,
                           definitions=services.list_definitions(session), form=EmptyForm())


@bp.route("/records/<int:record_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def record(record_id: int):
    session = get_session()
    item = services.get_record(session, record_id)
    agent = accounts.get_user(session, item.user_id)
    if not accounts.can_supervise(session, current_user, agent):
        abort(404)
    if request.method == "POST":
        if current_user.role != "admin":
            abort(403)
        if not EmptyForm().validate_on_submit():
            abort(400)
        action, reason = request.form.get("action"), request.form.get("reason", "")
        try:
            if action == "revoke":
                services.revoke(session, item, actor=current_user, reason=reason, now=now_utc())
                flash(_("Certificado revocado."), "success")
            elif action == "reinstate":
                services.reinstate(session, item, actor=current_user, reason=reason, now=now_utc())
                flash(_("Certificado rehabilitado."), "success")
            else:
                abort(400)
        except DomainError as exc:
            session.rollback()
            flash(str(exc), "error")
        return redirect(url_for("certification_manage.record", record_id=item.id))
    return render_template("certification/manage/record.html", record=item, agent=agent, events=services.events_of(session, item),
                           status=services.effective_status(item, now_utc()), form=EmptyForm())


@bp.route("/agents/<int:user_id>/issue", methods=["POST"])
@roles_required("admin")
def issue(user_id: int):
    session = get_session()
    agent = accounts.get_user(session, user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        definition = services.get_definition(session, request.form.get("definition", ""))
        services.issue_manually(session, definition, agent, actor=current_user, reason=request.form.get("reason", ""), now=now_utc())
    except DomainError as exc:
        session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("Certificado emitido."), "success")
    return redirect(url_for("certification_manage.agent", user_id=agent.id))
