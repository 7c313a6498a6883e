"""The JSON API under /api/v1, described by ``data/openapi.yaml`` (served at /api/v1/openapi.json).

Views are thin: authenticate the token and its scope, read the query or body, call the
domains' services, serialise.  A token acts with an admin's reach within its scopes.
Every URL under /api answers JSON, errors included (see :mod:`lms.api.errors`).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import undefer

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.accounts.zones import by_local_day as zone_days
from lms.api import serialize
from lms.api.auth import idempotent_for_token, scope_required
from lms.api.errors import allowed_methods, error_response, not_found, register_handlers
from lms.api.params import Body, Query, page
from lms.certification import services as certs
from lms.core.clock import now_utc
from lms.core.db import get_session
from lms.core.errors import InvalidInput, NotFound
from lms.core.security import password_problem
from lms.quizzes import staff as quiz_staff
from lms.quizzes.states import AttemptState
from lms.roleplays import services as roleplays
from lms.tracks import services as tracks

OPENAPI_PATH = Path(__file__).resolve().parent / "data" / "openapi.yaml"
V1 = "/v1"

bp = Blueprint("api", __name__, url_prefix="/api")
register_handlers(bp)

RECORD_STATUSES = ("active", "expired", "revoked", "superseded")


@lru_cache(maxsize=1)
def openapi_document() -> dict:
    import yaml  # only for the API's description: not at start-up

    return yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))


def _created(document: dict, location: str):
    response = jsonify(document)
    response.status_code = 201
    response.headers["Location"] = location
    return response


def _team_filter(query: Query):
    team_id = query.integer("team")
    return accounts.member_ids_query(team_id) if team_id is not None else None


@bp.after_request
def _no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")
    if request.method == "OPTIONS":  # Flask's automatic answer would list the catch-all's methods too
        allowed = allowed_methods()
        response.headers["Allow"] = ", ".join(allowed + (["HEAD"] if "GET" in allowed else []) + ["OPTIONS"])
    return response


# The description ------------------------------------------------------------------------

@bp.get(V1 + "/openapi.json")
def openapi():
    Query(paged=False).done()
    response = jsonify(openapi_document())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


# Users -------------------------------------------------------------------------------------

def _users_json(session, users: list) -> list[dict]:
    memberships = accounts.memberships_by_user(session, [u.id for u in users])
    return [serialize.user(u, memberships[u.id]) for u in users]


@bp.get(V1 + "/users")
@scope_required("users:read")
def list_users():
    session = get_session()
    query = Query("role", "team", "email", "active")
    stmt = accounts.users_query(role=query.choice("role", accounts.ROLES), team_id=query.integer("team"),
                                email=query.string("email", 254), active=query.boolean("active"))
    users, next_cursor = page(session, query, stmt)
    return jsonify(data=_users_json(session, users), next_cursor=next_cursor)


@bp.get(V1 + "/users/<int:user_id>")
@scope_required("users:read")
def get_user(user_id: int):
    Query(paged=False).done()
    session = get_session()
    return jsonify(_users_json(session, [accounts.get_user(session, user_id)])[0])


def _check_locale(body: Body) -> None:
    languages = current_app.config["LANGUAGES"]
    if body.has("locale") and body.data["locale"] is not None and body.data["locale"] not in languages:
        body.fail("locale", _("Valor no admitido; usa uno de: %(choices)s.", choices=", ".join(languages)) + " (null)")


@bp.post(V1 + "/users")
@scope_required("users:write")
@idempotent_for_token
def create_user():
    session = get_session()
    body = Body("email", "name", "role", "active", "locale", "teams", "password", required=("email", "name", "role"))
    body.not_null("active", "teams", "password")
    email, name = body.string("email", 254), body.string("name", 200)
    role, active, team_ids = body.choice("role", accounts.ROLES), body.boolean("active"), body.integers("teams")
    password = body.string("password", 1024) if body.has("password") else None
    _check_locale(body)
    if email is not None:
        try:
            email = accounts.normalise_email(email)
        except InvalidInput as exc:
            body.fail("email", str(exc))
    problem = password_problem(password) if password is not None else None
    if problem:
        body.fail("password", problem)
    teams = _existing_teams(session, body, team_ids or [])
    if teams and role == "admin":
        body.fail("teams", _("Los administradores no pertenecen a equipos."))
    body.done()
    user = accounts.create_user(session, email=email, name=name, role=role, password=password,
                                locale=body.data.get("locale"))
    for team in teams:
        accounts.add_to_team(session, team, user)
    if active is False:
        accounts.change_user(session, user, is_active=False)
    return _created(_users_json(session, [user])[0], url_for("api.get_user", user_id=user.id))


def _existing_teams(session, body: Body, team_ids: list[int]) -> list:
    teams = []
    for team_id in team_ids:
        try:
            teams.append(accounts.get_team(session, team_id))
        except NotFound:
            body.fail("teams", _("No existe ningún equipo con id %(id)d.", id=team_id))
    return teams


@bp.patch(V1 + "/users/<int:user_id>")
@scope_required("users:write")
@idempotent_for_token
def update_user(user_id: int):
    session = get_session()
    user = accounts.get_user(session, user_id)
    body = Body("name", "role", "active", "locale")
    body.not_null("name", "role", "active")
    name, role, active = body.string("name", 200), body.choice("role", accounts.ROLES), body.boolean("active")
    _check_locale(body)
    body.done()
    accounts.change_user(session, user, name=name, role=role, is_active=active)
    if "locale" in body.data:
        accounts.set_locale(session, user, body.data["locale"], current_app.config["LANGUAGES"])
    return jsonify(_users_json(session, [user])[0])


# Teams -------------------------------------------------------------------------------------

@bp.get(V1 + "/teams")
@scope_required("teams:read")
def list_teams():
    session = get_session()
    query = Query("name")
    teams, next_cursor = page(session, query, accounts.teams_query(name=query.string("name")))
    return jsonify(data=[serialize.team(t) for t in teams], next_cursor=next_cursor)


@bp.get(V1 + "/teams/<int:team_id>")
@scope_required("teams:read")
def get_team(team_id: int):
    Query(paged=False).done()
    session = get_session()
    team = accounts.get_team(session, team_id)
    return jsonify(serialize.team(team, accounts.team_roster(session, team)))


@bp.post(V1 + "/teams")
@scope_required("teams:write")
@idempotent_for_token
def create_team():
    session = get_session()
    body = Body("name", required=("name",))
    name = body.string("name", 200)
    body.done()
    team = accounts.create_team(session, name)
    return _created(serialize.team(team, []), url_for("api.get_team", team_id=team.id))


@bp.post(V1 + "/teams/<int:team_id>/members")
@scope_required("teams:write")
@idempotent_for_token
def add_team_member(team_id: int):
    session = get_session()
    team = accounts.get_team(session, team_id)
    body = Body("user_id", required=("user_id",))
    user = _existing_user(session, body, body.integer("user_id"))
    if user is not None and user.role == "admin":
        body.fail("user_id", _("Los administradores no pertenecen a equipos."))
    body.done()
    before = {(kind, member.id) for kind, member in accounts.team_roster(session, team)}
    membership = accounts.add_to_team(session, team, user)
    response = jsonify(serialize.membership(team, user, membership.kind))
    if (membership.kind, user.id) not in before:
        response.status_code = 201
        response.headers["Location"] = url_for("api.get_team", team_id=team.id)
    return response


def _existing_user(session, body: Body, user_id: int | None):
    if user_id is None:
        return None
    try:
        return accounts.get_user(session, user_id)
    except NotFound:
        body.fail("user_id", _("No existe ningún usuario con id %(id)d.", id=user_id))
        return None


@bp.delete(V1 + "/teams/<int:team_id>/members/<int:user_id>")
@scope_required("teams:write")
@idempotent_for_token
def remove_team_member(team_id: int, user_id: int):
    Query(paged=False).done()
    session = get_session()
    team = accounts.get_team(session, team_id)
    user = accounts.get_user(session, user_id)
    if team.id not in {t.id for t in accounts.teams_of(session, user)}:
        raise NotFound(_("%(name)s no es miembro de %(team)s.", name=user.name, team=team.name))
    accounts.remove_from_team(session, team, user)
    return "", 204


# Tracks and enrollments ---------------------------------------------------------------------

@bp.get(V1 + "/tracks")
@scope_required("enrollments:read")
def list_tracks():
    Query(paged=False).done()
    return jsonify(data=[serialize.track(t) for t in tracks.list_tracks(get_session())], next_cursor=None)


@bp.get(V1 + "/enrollments")
@scope_required("enrollments:read")
def list_enrollments():
    session = get_session()
    query = Query("user_id", "team", "track")
    stmt = tracks.enrollments_query(user_id=query.integer("user_id"), user_ids=_team_filter(query),
                                    track_slug=query.string("track", 100))
    enrollments, next_cursor = page(session, query, stmt)
    return jsonify(data=[serialize.enrollment(e) for e in enrollments], next_cursor=next_cursor)


@bp.get(V1 + "/enrollments/<int:enrollment_id>")
@scope_required("enrollments:read")
def get_enrollment(enrollment_id: int):
    Query(paged=False).done()
    return jsonify(serialize.enrollment(tracks.get_enrollment(get_session(), enrollment_id)))


@bp.post(V1 + "/enrollments")
@scope_required("enrollments:write")
@idempotent_for_token
def create_enrollment():
    session = get_session()
    body = Body("user_id", "track", "start_date", required=("user_id", "track", "start_date"))
    agent = _existing_user(session, body, body.integer("user_id"))
    if agent is not None and agent.role != "agent":
        body.fail("user_id", _("Solo se puede inscribir a agentes; %(email)s no es agente.", email=agent.email))
    slug, start_date = body.string("track", 100), body.day("start_date")
    track = tracks.find_track(session, slug) if slug else None
    if slug and track is None:
        body.fail("track", _("Itinerario desconocido «%(track)s».", track=slug))
    body.done()
    enrollment, outcome = tracks.enroll_for_organisation(session, agent=agent, track=track, start_date=start_date, now=now_utc())
    document = serialize.enrollment(tracks.get_enrollment(session, enrollment.id))
    if outcome is tracks.EnrollOutcome.created:
        return _created(document, url_for("api.get_enrollment", enrollment_id=enrollment.id))
    return jsonify(document)


# Progress ----------------------------------------------------------------------------------

def _overview(session, agents: list) -> list:
    """Each agent's progress as of their own day (on track, behind or overdue where they are: Madrid or Bogotá)."""
    rows = {}
    for day, group in zone_days(session, agents, now_utc()).items():
        rows.update((row.agent.id, row) for row in tracks.team_overview(session, group, day))
    return [rows[agent.id] for agent in agents]


@bp.get(V1 + "/progress")
@scope_required("progress:read")
def list_progress():
    session = get_session()
    query = Query("team", "active")
    stmt = accounts.users_query(role="agent", team_id=query.integer("team"), active=query.boolean("active"))
    agents, next_cursor = page(session, query, stmt.options(undefer(User.zone_in_effect)))
    rows = _overview(session, agents)
    return jsonify(data=[serialize.agent_progress(row.agent, row.progress, row.state) for row in rows], next_cursor=next_cursor)


@bp.get(V1 + "/users/<int:user_id>/progress")
@scope_required("progress:read")
def user_progress(user_id: int):
    Query(paged=False).done()
    session = get_session()
    (row,) = _overview(session, [accounts.get_user(session, user_id)])
    return jsonify(serialize.agent_progress(row.agent, row.progress, row.state))


# Results -----------------------------------------------------------------------------------

@bp.get(V1 + "/quiz-results")
@scope_required("results:read")
def list_quiz_results():
    session = get_session()
    query = Query("user_id", "team", "quiz", "state", "passed", "submitted_after")
    stmt = quiz_staff.attempts_query(user_id=query.integer("user_id"), user_ids=_team_filter(query), quiz_slug=query.string("quiz", 100),
                                  state=query.choice("state", [s.value for s in AttemptState]), passed=query.boolean("passed"),
                                  submitted_after=query.moment("submitted_after"))
    attempts, next_cursor = page(session, query, stmt)
    return jsonify(data=[serialize.quiz_attempt(a) for a in attempts], next_cursor=next_cursor)


@bp.get(V1 + "/roleplay-grades")
@scope_required("results:read")
def list_roleplay_grades():
    session = get_session()
    query = Query("user_id", "team", "scenario", "passed", "released_after")
    stmt = roleplays.released_grades_query(user_id=query.integer("user_id"), user_ids=_team_filter(query),
                                           scenario_slug=query.string("scenario", 100), passed=query.boolean("passed"),
                                           released_after=query.moment("released_after"))
    rows, next_cursor = page(session, query, stmt, rows=True)
    return jsonify(data=[serialize.roleplay_grade(grade, submission) for grade, submission in rows], next_cursor=next_cursor)


# Certifications ----------------------------------------------------------------------------

def _record_json(record) -> dict:
    return serialize.certification_record(record, certs.effective_status(record, now_utc()))


@bp.get(V1 + "/certifications")
@scope_required("certifications:read")
def list_certifications():
    session = get_session()
    query = Query("user_id", "team", "certification", "status", "issued_after")
    stmt = certs.records_query(now=now_utc(), user_id=query.integer("user_id"), user_ids=_team_filter(query),
                               definition_slug=query.string("certification", 100), status=query.choice("status", RECORD_STATUSES),
                               issued_after=query.moment("issued_after"))
    records, next_cursor = page(session, query, stmt)
    return jsonify(data=[_record_json(r) for r in records], next_cursor=next_cursor)


@bp.get(V1 + "/certifications/<int:record_id>")
@scope_required("certifications:read")
def get_certification(record_id: int):
    Query(paged=False).done()
    return jsonify(_record_json(certs.get_record(get_session(), record_id)))


@bp.get(V1 + "/certifications/by-code/<code>")
@scope_required("certifications:read")
def get_certification_by_code(code: str):
    Query(paged=False).done()
    record = certs.by_code(get_session(), code)
    if record is None:
        raise NotFound(_("Ningún certificado tiene ese código."))
    return jsonify(_record_json(record))


# Anything else under /api ------------------------------------------------------------------

@bp.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"], endpoint="unknown_root")
@bp.route("/<path:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(path: str):
    """JSON 404 for unknown URLs, and 405 (with Allow) for a known URL asked with another method."""
    allowed = allowed_methods()
    if allowed:
        return error_response(405, "method_not_allowed", _("Este método no está permitido en esta dirección."),
                              headers={"Allow": ", ".join(allowed)})
    return not_found()
