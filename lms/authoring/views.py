"""Authoring pages: the drafts list, review (side-by-side diff, comments, approve, send back, publish),
permissions, the live preview and the citation picker's look-ups."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms.accounts.models import User
from lms.authoring import diff as diffs
from lms.authoring import services
from lms.authoring.lessons import html_problems
from lms.core.clock import now_utc
from lms.core.db import get_session
from lms.core.errors import DomainError
from lms.core.markdown import render_markdown
from lms.core.security import roles_required
from lms.reference import services as reference

bp = Blueprint("authoring", __name__, template_folder="templates", url_prefix="/authoring")

AUTHORS = services.AUTHOR_ROLES
def user_names(session, ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


@bp.route("/")
@roles_required(*AUTHORS)
def index():
    session = get_session()
    drafts = services.open_drafts(session)
    published = services.recent_published(session)
    names = user_names(session, [d.author_id for d in drafts + published] + [d.publisher_id for d in published])
    from lms.authoring.impact import flagged_certifications

    return render_template("authoring/index.html", drafts=drafts, published=published, names=names,
                           flagged=flagged_certifications(session),
                           can_review=services.can_review(session, current_user),
                           can_publish=services.can_publish(session, current_user))


def _draft_or_404(draft_id: int):
    try:
        return services.get_draft(get_session(), draft_id)
    except DomainError:
        abort(404)


@bp.route("/drafts/<int:draft_id>")
@roles_required(*AUTHORS)
def draft(draft_id: int):
    session = get_session()
    item = _draft_or_404(draft_id)
    published = diffs.published_text(session, item)
    rows = diffs.side_by_side(published or "", item.text)
    cites = diffs.citation_changes(published or "", item.text, markdown=item.kind in services.MARKDOWN_KINDS)
    names = user_names(session, [item.author_id, item.reviewer_id, item.publisher_id] + [c.author_id for c in item.comments])
    stale = item.base_text is not None and published is not None and published != item.base_text and item.state != "published"
    return render_template("authoring/draft.html", draft=item, rows=rows, cites=cites, names=names, stale=stale,
                           is_new=published is None, edit_url=diffs.edit_url(item),
                           can_review=services.can_review(session, current_user, item),
                           can_publish=services.can_publish(session, current_user, item))


@bp.route("/drafts/<int:draft_id>/act", methods=["POST"])
@roles_required(*AUTHORS)
def act(draft_id: int):
    session = get_session()
    item = _draft_or_404(draft_id)
    action, body, now = request.form.get("action"), request.form.get("comment", ""), now_utc()
    try:
        if action == "comment":
            services.comment(session, item, actor=current_user, body=body, now=now)
            message = _("Comentario añadido.")
        elif action == "approve":
            services.approve(session, item, reviewer=current_user, now=now, body=body)
            message = _("Aprobado.")
        elif action == "approve_publish":
            services.approve(session, item, reviewer=current_user, now=now, body=body)
            services.publish(session, item, publisher=current_user, now=now)
            message = _("Aprobado y publicado: los agentes ya ven esta versión.")
        elif action == "publish":
            services.publish(session, item, publisher=current_user, now=now)
            message = _("Publicado: los agentes ya ven esta versión.")
        elif action == "send_back":
            services.send_back(session, item, reviewer=current_user, now=now, body=body)
            message = _("Devuelto a quien lo redactó con tu comentario.")
        elif action == "withdraw":
            services.withdraw(session, item, actor=current_user, now=now)
            message = _("Borrador retirado.")
        else:
            abort(400)
    except DomainError as exc:
        problems = list(item.problems or [])
        session.rollback()
        if problems and action in ("publish", "approve_publish"):
            item = services.get_draft(session, draft_id)
            item.problems = problems
            session.commit()
        flash(str(exc), "error")
        return redirect(url_for("authoring.draft", draft_id=draft_id))
    flash(message, "success")
    return redirect(url_for("authoring.draft", draft_id=draft_id))


@bp.route("/permissions", methods=["GET", "POST"])
@roles_required("admin")
def permissions():
    session = get_session()
    if request.method == "POST":
        user = session.get(User, request.form.get("user_id", type=int) or 0)
        permission = request.form.get("permission")
        if user is None or permission not in services.PERMISSIONS:
            abort(400)
        try:
            if request.form.get("action") == "revoke":
                services.revoke(session, admin=current_user, user=user, permission=permission, now=now_utc())
            else:
                services.grant(session, admin=current_user, user=user, permission=permission, now=now_utc())
        except DomainError as exc:
            session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("Permisos actualizados."), "success")
        return redirect(url_for("authoring.permissions"))
    trainers = list(session.scalars(select(User).where(User.role == "trainer", User.is_active_user.is_(True)).order_by(User.name)))
    return render_template("authoring/permissions.html", trainers=trainers, grants=services.grants(session))


# -- live preview and the citation picker -----------------------------------------------------------------------
@bp.route("/preview", methods=["POST"])
@roles_required(*AUTHORS)
def preview():
    body = request.form.get("body", "")
    if len(body) > 1_000_000:
        return jsonify(html="", problems=[_("Demasiado largo para la vista previa.")])
    tags = html_problems(body)
    problems = [_("La lección contiene HTML que el sitio no muestra por seguridad: %(tags)s. Quítalo y usa Markdown.",
                  tags=", ".join(tags))] if tags else []
    return jsonify(html=str(render_markdown(body)), problems=problems)


@bp.route("/reference/search")
@roles_required(*AUTHORS)
def reference_search():
    query = request.args.get("q", "")[:200]
    results = reference.search(get_session(), query, audiences=("all", "staff"), limit=60)
    return jsonify(results=[
        {"ref": r.document.key, "title": r.document.title, "context": r.document.context, "snippet": r.snippet}
        for r in results if r.document.kind == "reference"][:15]
    )


@bp.route("/reference/section")
@roles_required(*AUTHORS)
def reference_section():
    ref = request.args.get("ref", "")
    if "#" not in ref:
        return jsonify(error=_("Esa sección no existe.")), 400
    page_id, _hash, anchor = ref.partition("#")
    page = reference.get_page(get_session(), page_id)
    section = next((s for s in (page.sections if page else []) if s.anchor == anchor), None)
    if section is None:
        return jsonify(error=_("Esa sección no existe.")), 404
    return jsonify(ref=ref, title=section.title, page=page.title, text=section.text)


@bp.route("/reference/check", methods=["POST"])
@roles_required(*AUTHORS)
def reference_check():
    """The content check's verdict on one citation, before it is inserted."""
    from lms.authoring.citations import check_one

    message = check_one(get_session(), request.form.get("ref", ""), request.form.get("quote", ""))
    return jsonify(ok=message is None, message=message)


from lms.authoring import lesson_views  # noqa: E402,F401  (routes on this blueprint)
from lms.authoring import file_views, impact_views  # noqa: E402,F401  (routes on this blueprint)
