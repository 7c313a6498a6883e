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


@bp.route("/export.csv")
@roles_required("manager", "admin")
def export():
    team_id = request.args.get("team", type=int)
    session, agents, _team_ids = _agents(team_id)
    # the rows are computed here; the response streams their CSV lines (no database work while streaming)
    rows = services.dashboard(session, agents, today(), now_utc())
    name = f"progreso-{'equipo-' + str(team_id) if team_id else 'organizacion'}.csv"
    return Response(services.csv_lines(rows), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/certifications.csv")
@roles_required("manager", "admin")
def export_certifications():
    team_id = request.args.get("team", type=int)
    session, agents, _team_ids = _agents(team_id)
    lines = list(services.certification_csv_lines(session, agents, now_utc()))
    name = f"certificaciones-{'equipo-' + str(team_id) if team_id else 'organizacion'}.csv"
    return Response(lines, mimetype="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/export.xlsx")
@roles_required("manager", "admin")
def export_xlsx():
    team_id = request.args.get("team", type=int)
    session, agents, _team_ids = _agents(team_id)
    rows = services.dashboard(session, agents, today(), now_utc())
    name = f"progreso-{'equipo-' + str(team_id) if team_id else 'organizacion'}.xlsx"
    return Response(services.xlsx_bytes(rows), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/agents/<int:user_id>")
@roles_required(*STAFF)
def agent(user_id: int):
    session = get_session()
    agent = accounts.get_user(session, user_id)
    if agent.role != "agent" or not accounts.can_supervise(session, current_user, agent):
        abort(404)
    return render_template("reporting/agent.html", agent=agent, entries=services.agent_timeline(session, agent, now_utc()))
