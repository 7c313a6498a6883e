"""The revision impact page: content citing reference text that changed, to re-confirm or edit."""
from __future__ import annotations

from flask import render_template

from lms.authoring.views import AUTHORS, bp
from lms.core.security import roles_required


@bp.route("/impact", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def impact():
    return render_template("authoring/index.html", drafts=[], published=[], names={})
