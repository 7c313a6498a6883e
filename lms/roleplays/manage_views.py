"""Trainers: the grading queue, the grader (rubric beside the timed transcript), assignments."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.core.clock import now_utc
from lms.core.db import get_session
from lms.core.errors import Conflict, DomainError
from lms.core.forms import EmptyForm
from lms.core.security import roles_required
from lms.roleplays import services
from lms.roleplays.models import RubricVersion

bp = Blueprint("roleplays_manage", __name__, template_folder="templates", url_prefix="/manage/roleplays")

STAFF = ("trainer", "manager", "admin")
#: a submission should be graded within this many hours (house rule)
GRADING_DUE_HOURS = 48


def _agents(session) -> dict[int, User]:
    return {u.id: u for u in session.scalars(accounts.supervised_agents_query(session, current_user))}


@bp.route("/")
@roles_required(*STAFF)
def queue():
    session = get_session()
    agents = _agents(session)
    team_id = request.args.get("team", type=int)
    if team_id:
        ids = {u.id for u in session.scalars(accounts.supervised_agents_query(session, current_user, team_id))}
    else:
        ids = set(agents)
    status = request.args.get("status") if request.args.get("status") in ("ungraded", "draft", "released", "returned") else None
    scenario_id = request.args.get("scenario", type=int)
    agent_id = request.args.get("agent", type=int)
    items = services.grading_queue(session, sorted(ids), scenario_id=scenario_id, agent_id=agent_id, status=status)
    due = {s.id: s.submitted_at + timedelta(hours=GRADING_DUE_HOURS) for s in items}
    teams = [t for t in accounts.list_teams(session) if t.id in set(accounts.supervised_team_ids(session, current_user))]
    return render_template("roleplays/manage/queue.html", items=items, agents=agents, due=due, now=now_utc(), teams=teams,
                           scenarios=services.list_scenarios(session), status=status, filters=request.args)


@bp.route("/<int:submission_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def grade(submission_id: int):
    session = get_session()
    submission = services.get_submission(session, submission_id)
    agent = session.get(User, submission.user_id) if submission.user_id else None
    if agent is None or not accounts.can_supervise(session, current_user, agent) or submission.state != "submitted":
        abort(404)
    version = session.get(RubricVersion, submission.rubric_version_id)
    if request.method == "POST":
        if not EmptyForm().validate_on_submit():
            abort(400)
        rubric = version.data
        levels = {c["id"]: request.form.get(f"level-{c['id']}") for c in rubric["criteria"]}
        comments = {c["id"]: request.form.get(f"comment-{c['id']}", "") for c in rubric["criteria"]}
        inline = [{"turn": t.position, "text": request.form.get(f"inline-{t.position}", "")} for t in submission.turns if t.speaker == "agent"]
        try:
            services.save_grade(session, submission, actor=current_user, levels=levels, comments=comments,
                                overall=request.form.get("overall", ""), inline=inline, action=request.form.get("action", "draft"),
                                expected_revision=request.form.get("revision", type=int), reason=request.form.get("reason", ""),
                                now=now_utc())
        except DomainError as exc:
            session.rollback()
            # nothing typed is lost: the page comes back with this trainer's levels and comments in the form and,
            # after a concurrent save (Conflict), the other trainer's beside them
            if not isinstance(exc, Conflict):  # a conflict is explained on the page itself, beside both versions
                flash(str(exc), "error")
            mine = {"levels": {k: _int_or_none(v) for k, v in levels.items()}, "comments": comments,
                    "overall": request.form.get("overall", ""), "inline": inline, "reason": request.form.get("reason", "")}
            return _grade_page(session, submission, agent, version, mine=mine, conflict=isinstance(exc, Conflict)), \
                409 if isinstance(exc, Conflict) else 422
        messages = {"draft": _("Borrador guardado: el agente todavía no lo ve."), "release": _("Calificación publicada para el agente."),
                    "return": _("Práctica devuelta: el agente verá tus comentarios y podrá repetirla.")}
        flash(messages.get(request.form.get("action", "draft"), ""), "success")
        return redirect(url_for("roleplays_manage.grade", submission_id=submission.id))
    return _grade_page(session, submission, agent, version)


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _grade_page(session, submission, agent, version, *, mine: dict | None = None, conflict: bool = False):
    """The grader; ``mine``: what this trainer sent and could not be saved (kept in the form); ``conflict``: another
    trainer saved first, and their levels and comments are shown beside this trainer's."""
    existing = services.grade_for(session, submission)
    history = services.grade_history(session, existing) if existing else []
    actors = {u.id: u for u in session.scalars(select(User).where(User.id.in_({e.actor_id for e in history if e.actor_id})))} if history else {}
    other = None
    if conflict and existing is not None:
        last = next((e.actor_id for e in reversed(history) if e.actor_id), existing.grader_id)
        other = actors.get(last) or session.get(User, last)
    return render_template("roleplays/manage/grade.html", submission=submission, scenario=submission.scenario, agent=agent,
                           rubric=version.data, rubric_version=version, grade=existing, threads=services.threads(submission),
                           history=history, actors=actors, form=EmptyForm(), email_fields=services.EMAIL_FIELDS,
                           mine=mine, conflict=conflict and existing is not None, other=other)


@bp.route("/assign", methods=["GET", "POST"])
@roles_required(*STAFF)
def assign():
    session = get_session()
    team_ids = set(accounts.supervised_team_ids(session, current_user))
    teams = [t for t in accounts.list_teams(session) if t.id in team_ids]
    scenarios = services.list_scenarios(session)
    if request.method == "POST":
        if not EmptyForm().validate_on_submit():
            abort(400)
        scenario = next((s for s in scenarios if s.slug == request.form.get("scenario")), None)
        team_id = request.form.get("team", type=int)
        if scenario is None or team_id not in team_ids:
            abort(404)
        due = request.form.get("due_date") or None
        try:
            due_date = _parse_date(due)
            services.assign(session, actor=current_user, scenario=scenario, team_id=team_id, user_id=None, due_date=due_date, now=now_utc())
        except DomainError as exc:
            session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("Role-play asignado."), "success")
        return redirect(url_for("roleplays_manage.assign"))
    return render_template("roleplays/manage/assign.html", teams=teams, scenarios=scenarios, form=EmptyForm())


def _parse_date(raw):
    from datetime import date

    from lms.core.errors import InvalidInput

    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(_("Fecha no válida: usa el formato AAAA-MM-DD.")) from None


# Calibration ----------------------------------------------------------------------------

@bp.route("/calibration", methods=["GET", "POST"])
@roles_required("trainer", "admin")
def calibration_list():
    from lms.roleplays import calibration as cal

    session = get_session()
    if request.method == "POST":
        if not EmptyForm().validate_on_submit():
            abort(400)
        submission = services.get_submission(session, request.form.get("submission", type=int) or 0)
        agent = session.get(User, submission.user_id) if submission.user_id else None
        if agent is not None and not accounts.can_supervise(session, current_user, agent):
            abort(404)
        try:
            created = cal.open_session(session, submission=submission, actor=current_user, title=request.form.get("title", ""),
                                       exemplar=bool(request.form.get("exemplar")), now=now_utc())
        except DomainError as exc:
            session.rollback()
            flash(str(exc), "error")
            return redirect(url_for("roleplays_manage.calibration_list"))
        return redirect(url_for("roleplays_manage.calibration", calibration_id=created.id))
    agents = _agents(session)
    candidates = services.grading_queue(session, sorted(agents), status=None) + services.grading_queue(session, sorted(agents), status="released")
    anchors = services.anchors(session)
    return render_template("roleplays/manage/calibration_list.html", sessions=cal.list_sessions(session), candidates=candidates,
                           anchors=anchors, agents=agents, standing=cal.standing(session, current_user.id), form=EmptyForm(), cal=cal)


@bp.route("/calibration/<int:calibration_id>", methods=["GET", "POST"])
@roles_required("trainer", "admin")
def calibration(calibration_id: int):
    from lms.roleplays import calibration as cal

    session = get_session()
    item = cal.get_session_or_404(session, calibration_id)
    rubric = session.get(RubricVersion, item.submission.rubric_version_id)
    if request.method == "POST":
        if not EmptyForm().validate_on_submit():
            abort(400)
        levels = {c["id"]: request.form.get(f"level-{c['id']}") for c in rubric.data["criteria"]}
        try:
            if request.form.get("action") == "close":
                if item.created_by_id != current_user.id and current_user.role != "admin":
                    abort(403)
                cal.close_session(session, item, actor=current_user, levels=levels, now=now_utc())
                flash(_("Calificación acordada registrada."), "success")
            else:
                cal.grade_blind(session, item, actor=current_user, levels=levels, now=now_utc())
                flash(_("Tu calificación a ciegas está guardada."), "success")
        except DomainError as exc:
            session.rollback()
            flash(str(exc), "error")
        return redirect(url_for("roleplays_manage.calibration", calibration_id=item.id))
    grades = cal.blind_grades(session, item)
    mine = next((g for g in grades if g.grader_id == current_user.id), None)
    lead = item.created_by_id == current_user.id or current_user.role == "admin"
    show_results = mine is not None or lead
    graders = {u.id: u for u in session.scalars(select(User).where(User.id.in_({g.grader_id for g in grades})))} if grades else {}
    return render_template("roleplays/manage/calibration.html", item=item, rubric=rubric.data, threads=services.threads(item.submission),
                           mine=mine, lead=lead, agreement=cal.agreement(session, item) if show_results else None,
                           grades=grades if show_results else [], graders=graders, form=EmptyForm(), email_fields=services.EMAIL_FIELDS)
