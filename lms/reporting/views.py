"""The team dashboard and its CSV export."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from lms.accounts import services as accounts
from lms.accounts.models import MembershipKind, TeamMembership, User
from lms.core.clock import local_today as today
from lms.core.clock import now_utc
from lms.core.db import get_db, get_session
from lms.core.forms import EmptyForm
from lms.core.security import roles_required
from lms.reporting import exports, jobs, services, table

bp = Blueprint("reporting", __name__, template_folder="templates", url_prefix="/manage/dashboard")

STAFF = ("trainer", "manager", "admin")


#: more agents than this (the organisation-wide view of an admin or of a manager of many teams) are shown a page
#: at a time, with a table of teams aggregated in SQL and no charts (choose a team for them)
PAGE_SIZE = 100
#: the organisation-wide table of teams is shown this many teams at a time (an admin of 500 teams: ten pages)
TEAM_PAGE_SIZE = 50


#: the page's repeated markup, written in Python (lms/reporting/table.py): the agents' rows, the team filter's options
#: and the teams' rows
TABLES = {"agent_rows": table.agent_rows, "team_options": table.team_options, "team_table_rows": table.team_rows}


@bp.route("/")
@roles_required(*STAFF)
def dashboard():
    team_id = request.args.get("team", type=int)
    state = request.args.get("state")
    sort = request.args.get("sort", "name")
    session = get_session()
    # (id, name) rows, in one query: the filter's options and the teams' table need nothing else (hundreds of teams
    # for an admin)
    teams = accounts.supervised_teams(session, current_user)
    team_ids = [t.id for t in teams]
    if team_id is not None and team_id not in team_ids:
        abort(404)
    day, now = today(), now_utc()
    # one page of agents by name (no filter, no figure to sort by): counted and cut in SQL, no list of every id
    by_name_only = not state and sort not in services.SORTS.keys() - {"name"}
    # ids and names only: DISTINCT over whole user rows would sort every column of every agent; the rows read here
    # are the dashboard's agents (it shows their id and name): no User entities are loaded
    agents_query = (accounts.supervised_agents_query(session, current_user, team_id, team_ids=team_ids)
                    .with_only_columns(User.id, User.name).subquery())
    page = max(1, request.args.get("page", 1, type=int))
    # unordered: stops at PAGE_SIZE + 1; with each agent's count of active certificates
    agents = services.first_agents(session, agents_query, now, PAGE_SIZE + 1)
    if len(agents) <= PAGE_SIZE:
        agents.sort(key=lambda a: a.name)
        rows, charts = services.dashboard_with_charts(session, agents, day, now)
        if state:
            rows = [r for r in rows if r.state == state]
        rows.sort(key=services.SORTS.get(sort, services.SORTS["name"]))
        return render_template("reporting/dashboard.html", **TABLES, rows=rows, teams=teams, team_id=team_id, sort=sort, state=state,
                               charts=charts, page=None, team_rows=None, start_days=_start_days(rows))
    # many agents: counted and paged over the memberships (an IN list, no DISTINCT over users joined to memberships)
    shown = [team_id] if team_id is not None else team_ids
    in_teams = (TeamMembership.kind == MembershipKind.agent.value, TeamMembership.team_id.in_(shown))
    total = session.scalar(select(func.count(func.distinct(TeamMembership.user_id))).where(*in_teams))
    by_name = services.agents_by_name(shown)
    if by_name_only:
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(page, pages)
        rows = services.dashboard(session, services.agents_page(session, by_name, now, PAGE_SIZE, (page - 1) * PAGE_SIZE), day, now)
    else:
        ids = list(session.scalars(by_name.with_only_columns(User.id)))
        rows, pages, total = services.dashboard_page(session, ids, day, now, state=state, sort=sort, page=page, size=PAGE_SIZE)
    if team_id is None:  # the table of teams, a page at a time (aggregated in SQL for that page's teams only)
        team_pages = max(1, -(-len(teams) // TEAM_PAGE_SIZE))
        team_page = min(max(1, request.args.get("teams_page", 1, type=int)), team_pages)
        first = (team_page - 1) * TEAM_PAGE_SIZE
        shown_teams = [t.id for t in teams[first:first + TEAM_PAGE_SIZE]]
    else:
        team_page, team_pages, first, shown_teams = 1, 1, 0, [team_id]
    team_rows = services.team_progress(session, shown_teams, day)
    return render_template("reporting/dashboard.html", **TABLES, rows=rows, teams=teams, team_id=team_id, sort=sort, state=state, charts=[],
                           page=page, pages=pages, total=total, team_rows=team_rows, start_days=_start_days(rows),
                           team_page=team_page, team_pages=team_pages, team_first=first + 1,
                           team_last=first + len(team_rows))


def _start_days(rows) -> dict:
    """{start date: as the ``day`` filter writes it}, each date formatted once (table.day_texts: once per process)."""
    return table.day_texts({r.start_date for r in rows if r.start_date})


CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(stem: str, extension: str, mimetype: str, body) -> Response:
    team_id = request.args.get("team", type=int)
    name = f"{stem}-{'equipo-' + str(team_id) if team_id else 'organizacion'}.{extension}"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _team_ids() -> list[int]:
    """The teams of the export's scope: ``?team=`` (one the user supervises: else 404) or all the user's teams."""
    session = get_session()
    team_id = request.args.get("team", type=int)
    team_ids = accounts.supervised_team_ids(session, current_user)
    if team_id is not None and team_id not in team_ids:
        abort(404)
    return [team_id] if team_id is not None else team_ids


def _agent_count(team_ids: list[int]) -> int:
    return get_session().scalar(select(func.count(func.distinct(TeamMembership.user_id))).where(
        TeamMembership.kind == MembershipKind.agent.value, TeamMembership.team_id.in_(team_ids))) or 0


def _offer_background(kind: str, team_ids: list[int], *, fmt: str | None = None):
    """A scope larger than EXPORT_BACKGROUND_AGENTS: the page that offers to prepare the export (None: stream it).
    ``fmt`` forces a format (the Excel workbook is offered as the CSV for Excel, which the worker writes in steps)."""
    agents = _agent_count(team_ids)
    if agents <= jobs.background_agents(current_app.config):
        return None
    return render_template("reporting/export_offer.html", form=EmptyForm(), kind=kind, agents=agents,
                           team_id=request.args.get("team", type=int), fmt=fmt or _format(), instead_of_xlsx=fmt is not None,
                           recent=jobs.recent_jobs(get_session(), current_user))


def _format() -> str:
    return exports.EXCEL_FORMAT if request.args.get("format") == exports.EXCEL_FORMAT else exports.STANDARD_FORMAT


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


def _state_labels() -> dict[str, str]:
    return exports.state_labels()


def _csv_style(kind: str) -> exports.CsvStyle:
    """``?format=excel``: for Spanish-locale Excel, in the reader's language and zone; otherwise the standard format."""
    return exports.style_for(kind, request.args.get("format"), get_timezone())


def _stem(stem: str) -> str:
    return stem + ("-excel" if request.args.get("format") == exports.EXCEL_FORMAT else "")


@bp.route("/export.csv")
@roles_required("manager", "admin")
def export():
    team_ids, day, now = _team_ids(), today(), now_utc()
    offer = _offer_background("progress", team_ids)
    if offer is not None:
        return offer
    style = _csv_style("progress")
    return _download(_stem("progreso"), "csv", CSV,
                     _streamed(lambda session: services.csv_lines(services.streamed_rows(session, team_ids, day, now), style)))


@bp.route("/certifications.csv")
@roles_required("manager", "admin")
def export_certifications():
    team_ids, now = _team_ids(), now_utc()
    offer = _offer_background("certifications", team_ids)
    if offer is not None:
        return offer
    style = _csv_style("certifications")
    return _download(_stem("certificaciones"), "csv", CSV,
                     _streamed(lambda session: services.certification_csv_lines(session, team_ids, now, style=style)))


@bp.route("/export.xlsx")
@roles_required("manager", "admin")
def export_xlsx():
    team_ids = _team_ids()
    offer = _offer_background("progress", team_ids, fmt=exports.EXCEL_FORMAT)  # a workbook is built whole, in memory
    if offer is not None:
        return offer
    with get_db().sessionmaker() as session:
        body = services.xlsx_bytes(services.streamed_rows(session, team_ids, today(), now_utc()), _state_labels(), get_timezone())
    return _download("progreso", "xlsx", XLSX, body)


@bp.route("/exports", methods=["POST"])
@roles_required("manager", "admin")
def start_export():
    """Prepare a large export in the background (the worker writes it); answers with its progress page."""
    form = EmptyForm()
    kind, fmt = request.form.get("kind"), request.form.get("format", exports.STANDARD_FORMAT)
    if not form.validate_on_submit() or kind not in jobs.KINDS or fmt not in (exports.STANDARD_FORMAT, exports.EXCEL_FORMAT):
        flash(_("No se pudo preparar la exportación: vuelve a intentarlo desde el panel."), "error")
        return redirect(url_for("reporting.dashboard"))
    team_id = request.form.get("team", type=int)
    session = get_session()
    team_ids = accounts.supervised_team_ids(session, current_user)
    if team_id is not None and team_id not in team_ids:
        abort(404)
    job = jobs.start(session, kind=kind, fmt=fmt, team_id=team_id, actor=current_user,
                     total=_agent_count([team_id] if team_id is not None else team_ids),
                     locale=str(get_locale() or "es"), time_zone=str(get_timezone()), now=now_utc())
    flash(_("Preparando la exportación en segundo plano: el enlace de descarga aparecerá aquí."), "success")
    return redirect(url_for("reporting.export_job", job_id=job.id))


def _own_job(job_id: int):
    job = jobs.get_job(get_session(), job_id)
    if not jobs.may_download(job, current_user):
        abort(403)
    return job


@bp.route("/exports/<int:job_id>")
@roles_required("manager", "admin")
def export_job(job_id: int):
    """A background export: its progress while the worker writes it, then the download link."""
    return render_template("reporting/export_job.html", job=_own_job(job_id))


@bp.route("/exports/<int:job_id>/download")
@roles_required("manager", "admin")
def download_export(job_id: int):
    job = _own_job(job_id)
    path = jobs.path_of(job)
    if job.status != "done" or not path.is_file():
        abort(404)
    stem = {"progress": "progreso", "certifications": "certificaciones"}[job.kind]
    stem += "-excel" if job.format == exports.EXCEL_FORMAT else ""
    name = f"{stem}-{'equipo-' + str(job.team_id) if job.team_id else 'organizacion'}.csv"
    return send_file(path, mimetype=CSV, as_attachment=True, download_name=name, max_age=0)


@bp.route("/agents/<int:user_id>")
@roles_required(*STAFF)
def agent(user_id: int):
    session = get_session()
    agent = accounts.get_user(session, user_id)
    if agent.role != "agent" or not accounts.can_supervise(session, current_user, agent):
        abort(404)
    return render_template("reporting/agent.html", agent=agent, entries=services.agent_timeline(session, agent, now_utc()))
