"""Agents' certifications, the certificate PDF, and the public verification page."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, render_template, url_for
from flask_login import current_user, login_required

from lms.accounts import services as accounts
from lms.accounts.zones import zone_of
from lms.certification import services
from lms.certification.pdf import certificate_pdf
from lms.core.clock import now_utc
from lms.core.db import get_session
from lms.core.security import roles_required

bp = Blueprint("certification", __name__, template_folder="templates")

AREA_LABELS = {"producto": "Producto", "proceso": "Proceso", "tecnica": "Técnica", "soft-skills": "Soft skills", "liderazgo": "Liderazgo"}


@bp.route("/certifications")
@roles_required("agent")
def mine():
    session = get_session()
    now = now_utc()
    paths = services.path_progress(session, current_user, services.open_paths_of(session, current_user.id))
    return render_template("certification/learn/mine.html", progress=services.progress_for(session, current_user, now), paths=paths, names=services.requirement_names(session),
                           records=services.records_of(session, current_user.id), now=now, status=services.effective_status)


@bp.route("/certificates/<int:record_id>.pdf")
@login_required
def certificate(record_id: int):
    session = get_session()
    record = services.get_record(session, record_id)
    agent = accounts.get_user(session, record.user_id)
    if record.user_id != current_user.id and not (current_user.role in ("manager", "admin") and accounts.can_supervise(session, current_user, agent)):
        abort(404)
    url = url_for("certification.verify", code=record.code, _external=True)
    holder_zone = ZoneInfo(zone_of(session, agent))
    pdf = certificate_pdf(agent_name=agent.name, title=record.definition.title, area=AREA_LABELS.get(record.definition.area, record.definition.area),
                          # the days as the holder lives them (their time zone), not the UTC day
                          issued=record.issued_at.astimezone(holder_zone).strftime("%d/%m/%Y"),
                          expires=record.expires_at.astimezone(holder_zone).strftime("%d/%m/%Y"),
                          code=record.code, url=url, status=services.effective_status(record, now_utc()))
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="certificado-{record.definition.slug}-{record.id}.pdf"'})


@bp.route("/verify/<code>")
def verify(code: str):
    """Public: is this certificate valid, for whom, what, issued when and valid until when. Nothing else."""
    session = get_session()
    record = services.by_code(session, code)
    if record is None:
        return render_template("certification/public/verify.html", record=None, code=code[:40]), 404
    agent = accounts.get_user(session, record.user_id)
    return render_template("certification/public/verify.html", record=record, agent_name=agent.name,
                           status=services.effective_status(record, now_utc()), area=AREA_LABELS.get(record.definition.area, record.definition.area))
