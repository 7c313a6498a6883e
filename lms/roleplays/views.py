"""Agents practise role-plays: scenario, conversation (timed), e-mail, escalation hand-off, result."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.accounts import services as accounts
from lms.core.clock import now_utc
from lms.core.db import get_session
from lms.core.errors import DomainError
from lms.core.forms import EmptyForm
from lms.core.idempotency import idempotent_for_user
from lms.core.security import roles_required
from lms.roleplays import services, workspace_views

bp = Blueprint("roleplays", __name__, template_folder="templates")


@bp.route("/roleplays")
@roles_required("agent")
def index():
    session = get_session()
    team_ids = [t.id for t in accounts.teams_of(session, current_user, "agent")]
    assignments = services.assignments_for(session, current_user.id, team_ids)
    submissions = services.submissions_of(session, current_user.id)
    return render_template("roleplays/learn/index.html", assignments=assignments, scenarios=services.list_scenarios(session),
                           submissions=submissions)


@bp.route("/roleplays/<slug>")
@roles_required("agent")
def scenario(slug: str):
    session = get_session()
    scenario = services.get_scenario(session, slug)
    return render_template("roleplays/learn/scenario.html", scenario=scenario,
                           submissions=services.submissions_of(session, current_user.id, scenario), form=EmptyForm())


@bp.route("/roleplays/<slug>/start", methods=["POST"])
@roles_required("agent")
def start(slug: str):
    session = get_session()
    scenario = services.get_scenario(session, slug)
    if not EmptyForm().validate_on_submit():
        abort(400)
    submission = services.start_practice(session, current_user, scenario, now=now_utc())
    return redirect(url_for("roleplays.practice", submission_id=submission.id))


def _own(submission_id: int):
    session = get_session()
    submission = services.get_submission(session, submission_id)
    if submission.user_id != current_user.id:
        abort(404)
    return session, submission


@bp.route("/practice/<int:submission_id>")
@roles_required("agent")
def practice(submission_id: int):
    session, submission = _own(submission_id)
    if submission.state != "in_progress":
        return redirect(url_for("roleplays.result", submission_id=submission.id))
    views = services.threads(submission)
    return render_template("roleplays/learn/practice.html", submission=submission, scenario=submission.scenario, threads=views,
                           all_answered=all(v.awaiting is None for v in views), now=now_utc(), form=EmptyForm(),
                           **workspace_views.practice_context(session, submission))  # the workspace: drafts, tickets


@bp.route("/practice/<int:submission_id>/reply", methods=["POST"])
@roles_required("agent")
def reply(submission_id: int):
    session, submission = _own(submission_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    thread = request.form.get("thread", "")
    try:
        services.reply(session, submission, current_user, thread=thread, text=request.form.get("text", ""), now=now_utc())
    except DomainError as exc:
        session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("roleplays.practice", submission_id=submission.id) + f"#thread-{thread}")


@bp.route("/practice/<int:submission_id>/email", methods=["POST"])
@roles_required("agent")
def email(submission_id: int):
    session, submission = _own(submission_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.save_email(session, submission, current_user, {k: request.form.get(k, "") for k in services.EMAIL_FIELDS}, now=now_utc())
    except DomainError as exc:
        session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("Borrador del email guardado."), "success")
    return redirect(url_for("roleplays.practice", submission_id=submission.id))


@bp.route("/practice/<int:submission_id>/submit", methods=["POST"])
@roles_required("agent")
@idempotent_for_user  # a repeat with the form's key gets the first answer again
def submit(submission_id: int):
    session, submission = _own(submission_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    escalation = {k: request.form.get(f"esc-{k}", "") for k in ("level", "destination", *services.HANDOFF_FIELDS)}
    try:
        if submission.scenario.mode == "email" and request.form.get("subject") is not None:
            services.save_email(session, submission, current_user, {k: request.form.get(k, "") for k in services.EMAIL_FIELDS}, now=now_utc())
        services.submit(session, submission, current_user, escalation=escalation, now=now_utc())
    except DomainError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("roleplays.practice", submission_id=submission.id))
    flash(_("Práctica enviada. Tu formador la calificará; mientras tanto tienes una revisión automática orientativa."), "success")
    return redirect(url_for("roleplays.result", submission_id=submission.id))


@bp.route("/practice/<int:submission_id>/result")
@roles_required("agent")
def result(submission_id: int):
    session, submission = _own(submission_id)
    if submission.state == "in_progress":
        return redirect(url_for("roleplays.practice", submission_id=submission.id))
    grade = services.visible_grade(session, submission)
    rubric = grade.rubric_version.data if grade else None
    return render_template("roleplays/learn/result.html", submission=submission, scenario=submission.scenario,
                           threads=services.threads(submission), grade=grade, rubric=rubric, form=EmptyForm(),
                           email_fields=services.EMAIL_FIELDS)
