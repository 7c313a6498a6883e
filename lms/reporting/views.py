"""The team dashboard and its CSV export."""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user

from lms.accounts import services as accounts
from lms.core.clock import now_utc, today
from lms.core.db import get_session
from lms.core.security import roles_required
from lms.reporting import services

bp = Blueprint("reporting", __name__, template_folder="templates", url_prefix="/manage/dashboard")

STAFF = ("trainer", "manager", "admin")


def _agents(team_id: int | None):
    session = get_session()
    team_ids = accounts.supervised_team_ids(session, current_user)
    if team_id is not None and team_id not in team_ids:
        abort(404)
    agents = session.scalars(accounts.supervised_agents_query(session, current_user, team_id, team_ids=team_ids))
    return session, sorted(agents, key=lambda a: a.name), team_ids


@bp.route("/")
@roles_required(*STAFF)
def dashboard():
    team_id = request.args.get("team", type=int)
    session, agents, team_ids = _agents(team_id)
    rows, charts = services.dashboard_with_charts(session, agents, today(), now_utc())
    state = request.args.get("state")
    if state:
        rows = [r for r in rows if r.state == state]
    sort = request.args.get("sort", "name")
    rows.sort(key=services.SORTS.get(sort, services.SORTS["name"]))
    teams = [t for t in accounts.list_teams(session) if t.id in set(team_ids)]
    return render_template("reporting/dashboard.html", rows=rows, teams=teams, team_id=team_id, sort=sort, state=state, charts=charts)


CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(stem: str, extension: str, mimetype: str, body) -> Response:
    team_id = request.args.get("team", type=int)
    name = f"{stem}-{'equipo-' + str(team_id) if team_id else 'organizacion'}.{extension}"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/export.csv")
@roles_required("manager", "admin")
def export():
    session, agents, _team_ids = _agents(request.args.get("team", type=int))
    # the rows are computed here; the response streams their CSV lines (no database work while streaming)
    rows = services.dashboard(session, agents, today(), now_utc())
    return _download("progreso", "csv", CSV, services.csv_lines(rows))


@bp.route("/certifications.csv")
@roles_required("manager", "admin")
def export_certifications():
    session, agents, _team_ids = _agents(request.args.get("team", type=int))
    return _download("certificaciones", "csv", CSV, list(services.certification_csv_lines(session, agents, now_utc())))


@bp.route("/export.xlsx")
@roles_required("manager", "admin")
def export_xlsx():
    session, agents, _team_ids = _agents(request.args.get("team", type=int))
    return _download("progreso", "xlsx", XLSX, services.xlsx_bytes(services.dashboard(session, agents, today(), now_utc())))


@bp.route("/agents/<int:user_id>")
@roles_required(*STAFF)
def agent(user_id: int):
    session = get_session()
    agent = accounts.get_user(session, user_id)
    if agent.role != "agent" or not accounts.can_supervise(session, current_user, agent):
        abort(404)
    return render_template("reporting/agent.html", agent=agent, entries=services.agent_timeline(session, agent, now_utc()))
