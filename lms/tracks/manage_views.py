"""What managers, trainers and admins see: team progress, agent records, enrollment."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from lms.accounts import imports
from lms.accounts import services as accounts
from lms.accounts import zones
from lms.accounts.models import Role, User
from lms.core.clock import local_today as today
from lms.core.clock import now_utc
from lms.core.db import get_session
from lms.core.errors import DomainError
from lms.core.forms import EmptyForm, choices
from lms.core.security import roles_required
from lms.quizzes import services as quizzes, staff as quiz_staff
from lms.roleplays import services as roleplays
from lms.tracks import calendar, services
from lms.tracks.forms import EnrollCsvForm, EnrollForm, HolidayForm, OrganisationZoneForm
from lms.tracks.models import Enrollment

bp = Blueprint("tracks_manage", __name__, template_folder="templates", url_prefix="/manage")

STAFF = (Role.manager.value, Role.trainer.value, Role.admin.value)
ENROLLERS = (Role.manager.value, Role.admin.value)


def _enroll_form(team_id: int | None = None) -> EnrollForm:
    session = get_session()
    form = EnrollForm(prefix="enroll")
    agents = session.scalars(accounts.supervised_agents_query(session, current_user, team_id).order_by(User.name)).all()
    form.agent_id.choices = choices((a.id, f"{a.name} <{a.email}>") for a in agents)
    form.track.choices = choices((t.slug, t.title) for t in services.list_tracks(session))
    if not form.start_date.data and request.method == "GET":
        form.start_date.data = today()
    return form


@bp.route("/")
@roles_required(Role.admin.value)
def admin_home():
    session = get_session()
    counts = dict(session.execute(select(User.role, func.count()).group_by(User.role)).all())
    return render_template(
        "tracks/manage/admin_home.html", counts=counts, teams=accounts.list_teams(session),
        tracks=services.list_tracks(session),
        enrollments=session.scalar(select(func.count()).select_from(Enrollment)),
    )


@bp.route("/teams")
@roles_required(*STAFF)
def teams():
    session = get_session()
    team_ids = set(accounts.supervised_team_ids(session, current_user))
    teams = [t for t in accounts.list_teams(session) if t.id in team_ids]
    members = accounts.members_by_team(session, [t.id for t in teams], "agent")
    everyone = list({agent.id: agent for agents in members.values() for agent in agents}.values())
    rows = {row.agent.id: row for row in services.team_overview(session, everyone, today())}
    overview = {team.id: [rows[agent.id] for agent in members[team.id]] for team in teams}
    agent_ids = sorted(rows)
    backlog = {"roleplays": roleplays.count_open_submissions(session, agent_ids),
               "quizzes": len(quiz_staff.grading_queue(session, agent_ids))}
    return render_template("tracks/manage/teams.html", teams=teams, overview=overview, backlog=backlog)


@bp.route("/teams/<int:team_id>")
@roles_required(*STAFF)
def team(team_id: int):
    session = get_session()
    team = accounts.get_team(session, team_id)
    if team.id not in accounts.supervised_team_ids(session, current_user):
        abort(404)
    agents = accounts.team_members(session, team, "agent")
    rows = services.team_overview(session, agents, today())
    status = request.args.get("status")
    if status:
        rows = [r for r in rows if r.state == status]
    can_enroll = current_user.role in ENROLLERS
    return render_template(
        "tracks/manage/team.html", team=team, rows=rows, status=status,
        trainers=accounts.team_members(session, team, "trainer"),
        managers=accounts.team_members(session, team, "manager"),
        enroll_form=_enroll_form(team.id) if can_enroll else None,
        csv_form=EnrollCsvForm(prefix="csv") if can_enroll else None,
    )


@bp.route("/agents/<int:user_id>")
@roles_required(*STAFF)
def agent(user_id: int):
    session = get_session()
    agent = session.get(User, user_id)
    if agent is None or agent.role != Role.agent.value or not accounts.can_supervise(session, current_user, agent):
        abort(404)
    progress = services.progress_for_user(session, agent, today())
    quiz_list = [status.quiz for p in progress for status in p.quizzes]
    attempts = {quiz_id: result.attempts for (_user, quiz_id), result in quizzes.results(session, [agent.id], quiz_list).items()}
    return render_template(
        "tracks/manage/agent.html", agent=agent, progress=progress, attempts=attempts, teams=accounts.teams_of(session, agent, "agent"),
        can_enroll=services.may_enroll(session, current_user, agent), form=EmptyForm(),
    )


@bp.route("/enroll", methods=["POST"])
@roles_required(*ENROLLERS)
def enroll():
    session = get_session()
    team_id = request.args.get("team", type=int)
    form = _enroll_form(team_id)
    back = url_for("tracks_manage.team", team_id=team_id) if team_id else url_for("tracks_manage.teams")
    if not form.validate_on_submit():
        for field_errors in form.errors.values():
            for error in field_errors:
                flash(str(error), "error")
        return redirect(back)
    agent = session.get(User, form.agent_id.data)
    track = services.find_track(session, form.track.data)
    if agent is None or track is None:
        abort(404)
    try:
        _enrollment, outcome = services.enroll(
            session, actor=current_user, agent=agent, track=track, start_date=form.start_date.data, now=now_utc()
        )
    except DomainError as exc:
        flash(str(exc), "error")
        return redirect(back)
    messages = {
        services.EnrollOutcome.created: _("%(name)s inscrito en «%(track)s» desde el %(date)s."),
        services.EnrollOutcome.updated: _("Fecha de inicio de %(name)s en «%(track)s» cambiada al %(date)s."),
        services.EnrollOutcome.unchanged: _("%(name)s ya estaba inscrito en «%(track)s» desde el %(date)s."),
    }
    flash(messages[outcome] % {"name": agent.name, "track": track.title, "date": form.start_date.data.isoformat()}, "success")
    return redirect(back)


@bp.route("/enrollments/<int:enrollment_id>/delete", methods=["POST"])
@roles_required(*ENROLLERS)
def unenroll(enrollment_id: int):
    session = get_session()
    enrollment = session.get(Enrollment, enrollment_id)
    if enrollment is None:
        abort(404)
    agent = session.get(User, enrollment.user_id)
    if not services.may_enroll(session, current_user, agent):
        abort(404)
    if EmptyForm().validate_on_submit():
        services.unenroll(session, actor=current_user, enrollment=enrollment)
        flash(_("Inscripción retirada. Las lecciones completadas siguen en el historial del agente."), "success")
    return redirect(url_for("tracks_manage.agent", user_id=agent.id))


@bp.route("/enroll/import", methods=["GET", "POST"])
@roles_required(*ENROLLERS)
def enroll_import():
    from lms.accounts.views import read_uploaded_text

    form = EnrollCsvForm(prefix="csv")
    result = None
    if form.validate_on_submit():
        text, error = read_uploaded_text(form.file.data)
        if error:
            form.file.errors.append(error)
        elif imports.data_rows(text) > int(current_app.config.get("CSV_IMPORT_INLINE_ROWS") or imports.INLINE_ROWS):
            job = imports.start_import(get_session(), "enrollments", text, skip_invalid=form.skip_invalid.data,
                                       actor=current_user, now=now_utc(), locale=str(get_locale()))
            flash(_("La importación de %(n)d filas se hace en segundo plano: sigue su progreso aquí.", n=job.total), "success")
            return redirect(url_for("tracks_manage.enroll_import_job", job_id=job.id))
        else:
            result = services.import_enrollments_csv(
                get_session(), text, actor=current_user, now=now_utc(), skip_invalid=form.skip_invalid.data
            )
    return render_template("tracks/manage/enroll_import.html", form=form, result=result)


@bp.route("/enroll/import/jobs/<int:job_id>")
@roles_required(*ENROLLERS)
def enroll_import_job(job_id: int):
    """A background enrollment import: its progress, then its result (for whoever started it, and admins)."""
    from lms.accounts import services as accounts_services

    job = imports.get_job(get_session(), job_id)
    if job.kind != "enrollments" or (current_user.role != Role.admin.value and job.created_by_id != current_user.id):
        abort(404)
    result = None
    if job.status in ("done", "failed"):
        result = accounts_services.CsvImportResult(imported=job.imported, errors=[tuple(e) for e in job.errors or []],
                                                   rolled_back=job.rolled_back)
    return render_template("accounts/manage/import_job.html", job=job, result=result,
                           heading=_("Importación de inscripciones n.º %(id)d", id=job.id),
                           back_url=url_for("tracks_manage.enroll_import"))


# The organisation's calendar: its time zone and its non-working days -----------------------------------------

def _zone_form(session, formdata=None) -> OrganisationZoneForm:
    form = OrganisationZoneForm(formdata=formdata, prefix="org", time_zone=zones.organisation_zone(session))
    form.time_zone.choices = choices(zones.zone_choices())
    return form


@bp.route("/calendar", methods=["GET", "POST"])
@roles_required(Role.admin.value)
def work_calendar():
    """Admins: the organisation's time zone and its holidays (nothing falls due on them)."""
    session = get_session()
    zone_form, holiday_form = _zone_form(session), HolidayForm(prefix="day")
    if request.method == "POST" and "org-time_zone" in request.form:
        zone_form = _zone_form(session, request.form)
        if zone_form.validate_on_submit():
            try:
                zones.set_organisation_zone(session, zone_form.time_zone.data, now=now_utc())
            except DomainError as exc:
                zone_form.time_zone.errors = [str(exc)]
            else:
                flash(_("Zona horaria de la organización guardada."), "success")
                return redirect(url_for("tracks_manage.work_calendar"))
    elif request.method == "POST" and holiday_form.validate_on_submit():
        try:
            calendar.add_holiday(session, holiday_form.day.data, holiday_form.name.data, now=now_utc())
        except DomainError as exc:
            holiday_form.day.errors = [str(exc)]
        else:
            services.rebuild_progress(session, now=now_utc())  # every due date after it moves
            flash(_("Día no laborable añadido: lo que vencía ese día vence el siguiente día laborable."), "success")
            return redirect(url_for("tracks_manage.work_calendar"))
    return render_template("tracks/manage/calendar.html", zone_form=zone_form, holiday_form=holiday_form,
                           holidays=calendar.holidays(session))


@bp.route("/calendar/<int:holiday_id>/remove", methods=["POST"])
@roles_required(Role.admin.value)
def remove_holiday(holiday_id: int):
    session = get_session()
    if EmptyForm().validate_on_submit() and calendar.remove_holiday(session, holiday_id) is not None:
        services.rebuild_progress(session, now=now_utc())
        flash(_("Día no laborable quitado."), "success")
    return redirect(url_for("tracks_manage.work_calendar"))
