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


#: Filters results a user may not open (kind → fn(session, user, keys) → allowed keys). Filled in by
#: higher domains at registration (tracks: agents see the lessons of their tracks only).
VISIBILITY_HOOKS: dict = {}


@bp.route("/search")
@login_required
def search_view():
    from flask import request
    from flask_login import current_user

    query = (request.args.get("q") or "").strip()[:200]
    session = get_session()
    audiences = ("all", "staff") if current_user.role != "agent" else ("all",)
    results = services.search(session, query, audiences=audiences, limit=60) if query else []
    for kind, hook in VISIBILITY_HOOKS.items():
        keys = {r.document.key for r in results if r.document.kind == kind}
        if keys:
            allowed = hook(session, current_user, keys)
            results = [r for r in results if r.document.kind != kind or r.document.key in allowed]
    return render_template("reference/search.html", query=query, results=results[:30])
