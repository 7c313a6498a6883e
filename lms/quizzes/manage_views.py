"""Trainers and managers: results, item statistics, grading and overrides, accommodations."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, IntegerField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.core.clock import now_utc
from lms.core.db import get_session
from lms.core.errors import DomainError
from lms.core.forms import LocalDecimalField, choices
from lms.core.security import roles_required
from lms.quizzes import services, staff
from lms.quizzes.question_types import REGISTRY
from lms.quizzes.stats import item_statistics

bp = Blueprint("quizzes_manage", __name__, template_folder="templates", url_prefix="/manage")

STAFF = ("trainer", "manager", "admin")


class SlotGradeForm(FlaskForm):
    revision = HiddenField()
    score = LocalDecimalField(_l("Puntos"), places=None, validators=[InputRequired(), NumberRange(min=0)])
    feedback = TextAreaField(_l("Comentario para el agente"), validators=[Length(max=5000)])
    reason = StringField(_l("Motivo del cambio (obligatorio si ya tenía nota)"), validators=[Length(max=500)])


class AccommodationForm(FlaskForm):
    agents = SelectMultipleField(_l("Agentes"), coerce=int, validators=[DataRequired(message=_l("Elige al menos un agente."))])
    time_multiplier = LocalDecimalField(_l("Multiplicador de tiempo (1,5 = 50% más)"), places=None, default=1.5,
                                   validators=[InputRequired(), NumberRange(min=1, max=4)])
    extra_attempts = IntegerField(_l("Intentos adicionales"), default=0, validators=[InputRequired(), NumberRange(min=0, max=10)])
    reason = StringField(_l("Motivo"), validators=[DataRequired(), Length(max=500)])


def _my_agent_ids(session) -> list[int]:
    return list(session.scalars(accounts.supervised_agents_query(session, current_user).with_only_columns(User.id)))


def _names(session, ids) -> dict[int, User]:
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}


@bp.route("/quizzes")
@roles_required(*STAFF)
def quizzes():
    session = get_session()
    agent_ids = _my_agent_ids(session)
    quiz_list = services.list_quizzes(session)
    results = services.results(session, agent_ids, quiz_list)
    summary = {}
    for quiz in quiz_list:
        rows = [results[(a, quiz.id)] for a in agent_ids]
        taken = [r for r in rows if r.attempts]
        summary[quiz.id] = {
            "agents": len(taken), "passed": sum(1 for r in taken if r.passed),
            "pending": sum(1 for r in taken for a in r.attempts if a.state == "submitted"),
        }
    queue = staff.grading_queue(session, agent_ids)
    return render_template("quizzes/manage/quizzes.html", quizzes=quiz_list, summary=summary, queue_size=len(queue))


@bp.route("/quizzes/<slug>")
@roles_required(*STAFF)
def quiz_results(slug: str):
    session = get_session()
    quiz = services.get_quiz(session, slug)
    agent_ids = _my_agent_ids(session)
    agents = _names(session, agent_ids)
    results = services.results(session, agent_ids, [quiz])
    rows = sorted((results[(a, quiz.id)] for a in agent_ids), key=lambda r: -len(r.attempts))
    attempts = staff.attempts_for(session, quiz, agent_ids, states=("graded",))
    stats = item_statistics(attempts)
    by_agent = {a: results[(a, quiz.id)] for a in agent_ids}
    return render_template("quizzes/manage/results.html", quiz=quiz, rows=rows, agents=agents, by_agent=by_agent,
                           stats=stats, graded=len(attempts), agent_ids=sorted(agent_ids, key=lambda a: agents[a].name))


@bp.route("/grading")
@roles_required(*STAFF)
def grading_queue():
    session = get_session()
    agent_ids = _my_agent_ids(session)
    queue = staff.grading_queue(session, agent_ids)
    return render_template("quizzes/manage/queue.html", queue=queue, agents=_names(session, agent_ids))


def _supervised_attempt(attempt_id: int):
    session = get_session()
    attempt = services.get_attempt(session, attempt_id)
    agent = session.get(User, attempt.user_id)
    if agent is None or not accounts.can_supervise(session, current_user, agent):
        abort(404)
    return session, attempt, agent


@bp.route("/attempts/<int:attempt_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def attempt(attempt_id: int):
    session, attempt, agent = _supervised_attempt(attempt_id)
    if request.method == "POST":
        slot = next((s for s in attempt.slots if str(s.position) == request.form.get("slot")), None)
        if slot is None:
            abort(400)
        form = SlotGradeForm(prefix=f"s{slot.position}")
        if form.validate_on_submit():
            try:
                services.set_slot_score(session, attempt, slot, score=float(form.score.data), feedback=form.feedback.data,
                                        reason=form.reason.data, actor=current_user, expected_revision=int(form.revision.data or 0),
                                        now=now_utc())
            except DomainError as exc:
                session.rollback()
                flash(str(exc), "error")
            else:
                flash(_("Nota guardada."), "success")
            return redirect(url_for("quizzes_manage.attempt", attempt_id=attempt.id))
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(url_for("quizzes_manage.attempt", attempt_id=attempt.id))
    forms = {slot.position: SlotGradeForm(prefix=f"s{slot.position}", revision=attempt.revision,
                                          score=slot.score, feedback=slot.feedback) for slot in attempt.slots}
    history = services.history(session, attempt)
    actors = _names(session, {e.actor_id for e in history if e.actor_id})
    return render_template("quizzes/manage/attempt.html", attempt=attempt, agent=agent, views=services.slot_views(attempt),
                           forms=forms, history=history, actors=actors, registry=REGISTRY)


@bp.route("/accommodations", methods=["GET", "POST"])
@roles_required("manager", "admin")
def accommodations():
    session = get_session()
    agent_ids = _my_agent_ids(session)
    agents = sorted(_names(session, agent_ids).values(), key=lambda u: u.name)
    form = AccommodationForm()
    form.agents.choices = choices((a.id, f"{a.name} <{a.email}>") for a in agents)
    if form.validate_on_submit():
        chosen = [a for a in form.agents.data if a in agent_ids]
        try:
            n = staff.grant_accommodation(session, actor=current_user, user_ids=chosen, time_multiplier=float(form.time_multiplier.data),
                                             extra_attempts=form.extra_attempts.data, reason=form.reason.data, now=now_utc())
        except DomainError as exc:
            session.rollback()
            flash(str(exc), "error")
        else:
            flash(ngettext("Adaptación aplicada a %(num)d agente.", "Adaptación aplicada a %(num)d agentes.", n), "success")
            return redirect(url_for("quizzes_manage.accommodations"))
    current = staff.accommodations_for(session, agent_ids)
    return render_template("quizzes/manage/accommodations.html", form=form, agents=agents, current=current)


@bp.route("/banks")
@roles_required(*STAFF)
def banks():
    """The banks and their exports; importing a GIFT, Aiken or Moodle XML file is done in the authoring pages
    (the file becomes a draft bank to review and publish)."""
    counts = staff.bank_counts(get_session())
    return render_template("quizzes/manage/banks.html", counts=counts)


@bp.route("/banks/export")
@roles_required(*STAFF)
def export_bank():
    from flask import Response

    from lms.quizzes.formats import aiken, gift

    fmt = request.args.get("format", "gift")
    bank = request.args.get("bank") or None
    if fmt not in ("gift", "aiken"):
        abort(400)
    try:
        questions = staff.exportable_questions(get_session(), bank=bank)
    except DomainError:
        abort(404)
    text, _skipped = gift.export(questions, category=bank) if fmt == "gift" else aiken.export(questions)
    name = f"{bank or 'banco-completo'}.{'gift' if fmt == 'gift' else 'txt'}"
    return Response(text, mimetype="text/plain; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'})
