"""The revision impact page: content citing reference passages that changed, old and new text side by side,
to re-confirm or edit; certifications resting on items not yet re-confirmed are flagged."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.authoring import diff as diffs
from lms.authoring import impact as impacts
from lms.authoring.views import AUTHORS, bp, user_names
from lms.core.clock import now_utc
from lms.core.db import get_session
from lms.core.errors import DomainError
from lms.core.security import roles_required


@bp.route("/impact", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def impact():
    session = get_session()
    if request.method == "POST":
        impact_id = request.form.get("impact_id", type=int)
        if not impact_id:
            abort(400)
        try:
            done = impacts.confirm(session, impact_id, actor=current_user, now=now_utc())
        except DomainError as exc:
            session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("Reconfirmado: %(item)s sigue diciendo lo que dice el pasaje.", item=f"{done.kind} {done.slug}"), "success")
        return redirect(url_for("authoring.impact", all=request.args.get("all")))
    include_resolved = bool(request.args.get("all"))
    revisions = impacts.open_revisions(session, include_resolved=include_resolved)
    rows = {r.id: diffs.side_by_side(r.old_text or "", r.new_text or "") for r in revisions}
    names = user_names(session, [i.resolved_by_id for r in revisions for i in r.impacts])
    return render_template("authoring/impact.html", revisions=revisions, rows=rows, names=names,
                           flagged=impacts.flagged_certifications(session), include_resolved=include_resolved)
