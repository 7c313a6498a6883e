"""The team dashboard and its CSV export."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user

from lms.accounts import services as accounts
from lms.core.clock import now_utc, today
from lms.core.db import get_db, get_session
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


def _agent_ids() -> list[int]:
    session = get_session()
    team_id = request.args.get("team", type=int)
    team_ids = accounts.supervised_team_ids(session, current_user)
    if team_id is not None and team_id not in team_ids:
        abort(404)
    return accounts.supervised_agent_ids(session, current_user, team_id, team_ids=team_ids)


def _streamed(lines):
    """Run ``lines(session)`` while the response streams, in an app context and a session of its own
    (emptied batch by batch); the request's own session has already been closed by then."""
    app = current_app._get_current_object()

    def generate():
        session = get_db(app).sessionmaker()
        inner = lines(session)
        try:
            while True:
                # the context is pushed only while the next line is computed, never across a yield
                with app.app_context():
                    try:
                        line = next(inner)
                    except StopIteration:
                        return
                yield line
        finally:
            inner.close()
            session.close()
    return generate()


@bp.route("/export.csv")
@roles_required("manager", "admin")
def export():
    ids, day, now = _agent_ids(), today(), now_utc()
    return _download("progreso", "csv", CSV, _streamed(lambda session: services.csv_lines(services.streamed_rows(session, ids, day, now))))


@bp.route("/certifications.csv")
@roles_required("manager", "admin")
def export_certifications():
    ids, now = _agent_ids(), now_utc()
    return _download("certificaciones", "csv", CSV, _streamed(lambda session: services.certification_csv_lines(session, ids, now)))


@bp.route("/export.xlsx")
@roles_required("manager", "admin")
def export_xlsx():
    ids = _agent_ids()
    with get_db().sessionmaker() as session:
        body = services.xlsx_bytes(services.streamed_rows(session, ids, today(), now_utc()))
    return _download("progreso", "xlsx", XLSX, body)


@bp.route("/agents/<int:user_id>")
@roles_required(*STAFF)
def agent(user_id: int):
    session = get_session()
    agent = accounts.get_user(session, user_id)
    if agent.role != "agent" or not accounts.can_supervise(session, current_user, agent):
        abort(404)
    return render_template("reporting/agent.html", agent=agent, entries=services.agent_timeline(session, agent, now_utc()))
