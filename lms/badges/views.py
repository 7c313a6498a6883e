"""Open Badges documents (public JSON-LD, no login) and the credential downloads (the agent's own;
the agent's managers; admins)."""
from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request
from flask_login import current_user

from lms.accounts import services as accounts
from lms.badges import documents, image, services
from lms.badges.documents import Issuer
from lms.certification import services as certs
from lms.core.clock import now_utc
from lms.core.db import get_session, write_intent
from lms.core.errors import Conflict, NotFound
from lms.core.security import roles_required

bp = Blueprint("badges", __name__, template_folder="templates", url_prefix="/badges")
#: the issuer's did:web DID document, where the did:web method looks for it
did_bp = Blueprint("badges_did", __name__)

#: GET requests that may write (a record's first publication, the first signing key): they take SQLite's
#: write lock from the start, as POSTs do, rather than fail when another request wrote in the meantime
WRITING_GETS = {"badges.credential", "badges.open_badge", "badges.status_list"}


@bp.before_request
def _write_intent():
    if request.endpoint in WRITING_GETS:
        write_intent.set(True)


def _issuer() -> Issuer:
    return Issuer.from_config(current_app.config)


def _jsonld(document: dict, status: int = 200, *, max_age: int = 300) -> Response:
    """JSON-LD as Open Badges asks: application/ld+json, or application/json for a client that asks
    only for that; readable from any origin (verifiers and displayers run in browsers too)."""
    mimetype = request.accept_mimetypes.best_match(["application/ld+json", "application/json"], default="application/ld+json")
    response = Response(json.dumps(document, ensure_ascii=False, indent=2), status=status, mimetype=mimetype)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = f"public, max-age={max_age}" if status < 400 else "no-cache"
    return response


def _not_found(message: str) -> Response:
    return _jsonld({"error": message}, 404)


def _definition(slug: str):
    try:
        return certs.get_definition(get_session(), slug)
    except NotFound:
        return None


# Open Badges 2.0 -------------------------------------------------------------------------------

@bp.route("/v2/issuer")
def issuer_v2():
    return _jsonld(documents.issuer_profile_v2(_issuer()))


@bp.route("/v2/classes/<certification>")
def badge_class(certification: str):
    definition = _definition(certification)
    if definition is None:
        return _not_found("no such badge class")
    narrative = services.criteria_narrative(get_session(), definition)
    return _jsonld(documents.badge_class(_issuer(), definition, narrative))


@bp.route("/v2/assertions/<assertion_id>")
def assertion(assertion_id: str):
    """The hosted assertion; 410 Gone with ``revoked: true`` once its certificate is revoked."""
    session = get_session()
    published = services.by_public_id(session, assertion_id)
    if published is None:
        return _not_found("no such assertion")
    document, status = services.assertion_document(session, _issuer(), published)
    return _jsonld(document, status, max_age=60)


@bp.route("/v2/revocations")
def revocation_list():
    revoked = [(published.public_id, record.revoked_reason) for published, record in services.revoked(get_session())]
    return _jsonld(documents.revocation_list(_issuer(), revoked), max_age=60)


# Open Badges 3.0 -------------------------------------------------------------------------------

@bp.route("/v3/issuer")
def issuer_v3():
    """The issuer Profile with every public key that ever signed (the verification methods)."""
    return _jsonld(services.issuer_document(get_session(), _issuer()), max_age=60)


@did_bp.route("/.well-known/did.json")
@did_bp.route("/did.json")
def did_document():
    """The DID document of the issuer's did:web identifier (its signing keys as Multikey, rotated ones kept)."""
    response = _jsonld(services.did_document(get_session(), _issuer()))
    response.mimetype = "application/did+json" if request.accept_mimetypes.best == "application/did+json" else response.mimetype
    return response


@bp.route("/v3/achievements/<certification>")
def achievement(certification: str):
    definition = _definition(certification)
    if definition is None:
        return _not_found("no such achievement")
    narrative = services.criteria_narrative(get_session(), definition)
    return _jsonld(documents.achievement_document(_issuer(), definition, narrative))


@bp.route("/v3/status/revocation")
def status_list():
    """The signed Bitstring Status List of the 3.0 credentials (bit = record id; set = revoked)."""
    stored = services.status_list(get_session(), issuer=_issuer(), secret=current_app.config["SECRET_KEY"], now=now_utc())
    response = Response(stored.document, mimetype="application/ld+json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=60"
    response.set_etag(stored.digest[:16] + "-" + hashlib.sha256(stored.document.encode()).hexdigest()[:16])
    response.last_modified = stored.signed_at
    return response.make_conditional(request)


# Pages and images ------------------------------------------------------------------------------

@bp.route("/images/<certification>.svg")
def badge_image(certification: str):
    definition = _definition(certification)
    if definition is None:
        abort(404)
    response = Response(image.badge_svg(definition.title, definition.area, _issuer().name), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.route("/criteria/<certification>")
def criteria(certification: str):
    """Public: what earning the certification takes (the badge's criteria page)."""
    session = get_session()
    definition = _definition(certification)
    if definition is None:
        abort(404)
    issuer = _issuer()
    from lms.badges.documents import public_description

    return render_template("badges/criteria.html", definition=definition, names=certs.requirement_names(session),
                           summary=public_description(definition.description),
                           class_url=issuer.badge_class(definition.slug), achievement_url=issuer.achievement(definition.slug),
                           image_url=issuer.image(definition.slug))


# Downloads ------------------------------------------------------------------------------------

def _own_or_supervised(record_id: int):
    session = get_session()
    record = certs.get_record(session, record_id)
    agent = accounts.get_user(session, record.user_id)
    if record.user_id != current_user.id and not (current_user.role in ("manager", "admin") and accounts.can_supervise(session, current_user, agent)):
        abort(404)
    return session, record


@bp.route("/records/<int:record_id>/credential.json")
@roles_required("agent", "manager", "admin")
def credential(record_id: int):
    """Download the record's Open Badges 3.0 credential (signed now)."""
    session, record = _own_or_supervised(record_id)
    try:
        document = services.credential_for(session, record, issuer=_issuer(), secret=current_app.config["SECRET_KEY"], now=now_utc())
    except Conflict as exc:
        return Response(str(exc), status=410, mimetype="text/plain")
    filename = f"credencial-{record.definition.slug}-{record.id}.json"
    return Response(json.dumps(document, ensure_ascii=False, indent=2), mimetype="application/ld+json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/records/<int:record_id>/assertion")
@roles_required("agent", "manager", "admin")
def open_badge(record_id: int):
    """The record's hosted Open Badges 2.0 assertion (published the first time): its URL is what a
    backpack imports."""
    session, record = _own_or_supervised(record_id)
    published = services.publish(session, record, now=now_utc())
    return redirect(_issuer().assertion(published.public_id))
