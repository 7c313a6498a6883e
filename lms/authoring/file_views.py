"""Editors for the YAML content files (banks, questions, quizzes, rubrics, certifications, scenarios),
imports of GIFT / Aiken / Moodle XML into draft banks, and the revision impact page."""
from __future__ import annotations

from flask import render_template

from lms.authoring.views import AUTHORS, bp
from lms.core.security import roles_required


@bp.route("/files")
@roles_required(*AUTHORS)
def files():
    return render_template("authoring/index.html", drafts=[], published=[], names={})


@bp.route("/drafts/<int:draft_id>/edit", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def edit_file(draft_id: int):
    return render_template("authoring/index.html", drafts=[], published=[], names={})


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def import_bank():
    return render_template("authoring/index.html", drafts=[], published=[], names={})


@bp.route("/impact", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def impact():
    return render_template("authoring/index.html", drafts=[], published=[], names={})
