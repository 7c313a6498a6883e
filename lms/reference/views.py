"""The reference library pages."""
from __future__ import annotations

from itertools import groupby

from flask import Blueprint, abort, render_template
from flask_login import login_required

from lms.core.db import get_session
from lms.reference import services

bp = Blueprint("reference", __name__, template_folder="templates")


@bp.route("/reference")
@login_required
def index():
    pages = services.list_pages(get_session())
    documents = [(doc, list(items)) for doc, items in groupby(pages, key=lambda p: p.document)]
    return render_template("reference/index.html", documents=documents)


@bp.route("/reference/<document>/<chapter>")
@login_required
def page(document: str, chapter: str):
    page = services.get_page(get_session(), f"{document}/{chapter}")
    if page is None:
        abort(404)
    toc = [s for s in page.sections if s.level <= 3]
    return render_template("reference/page.html", page=page, toc=toc)
