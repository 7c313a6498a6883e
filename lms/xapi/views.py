"""Admins: the xAPI queue towards the LRS (what is pending, sent, failed, and why)."""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from lms.core.clock import now_utc
from lms.core.db import get_session
from lms.core.forms import EmptyForm
from lms.core.security import roles_required
from lms.xapi import services
from lms.xapi.sender import statements_url

bp = Blueprint("xapi_manage", __name__, template_folder="templates", url_prefix="/manage/xapi")
#: the site's extension IRIs (``<PUBLIC_URL>/xapi/extensions/<name>``) resolve, as xAPI asks of an IRI one mints
extensions_bp = Blueprint("xapi_extensions", __name__, url_prefix="/xapi/extensions")


@extensions_bp.route("/<name>")
def extension(name: str):
    from lms.xapi.statements import Site, extension_document

    document = extension_document(Site(base_url=str(current_app.config["PUBLIC_URL"]).rstrip("/")), name)
    if document is None:
        abort(404)
    response = Response(json.dumps(document, ensure_ascii=False, indent=2), mimetype="application/ld+json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.route("/")
@roles_required("admin")
def status():
    cfg = current_app.config
    endpoint = statements_url(cfg["XAPI_ENDPOINT"]) if cfg.get("XAPI_ENDPOINT") else None
    return render_template("xapi/status.html", status=services.queue_status(get_session(), now=now_utc(), errors=20), endpoint=endpoint,
                           recording=bool(cfg.get("XAPI_ENDPOINT") or cfg.get("XAPI_RECORD")), form=EmptyForm())


@bp.route("/retry", methods=["POST"])
@roles_required("admin")
def retry():
    if not EmptyForm().validate_on_submit():
        abort(400)
    n = services.retry(get_session(), now=now_utc())
    flash(_("Declaraciones de nuevo en la cola: %(n)d. El proceso de envío las entregará en su próxima pasada.", n=n), "success")
    return redirect(url_for("xapi_manage.status"))
