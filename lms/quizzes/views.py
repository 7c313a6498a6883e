"""Agents take quizzes: intro, attempt (auto-saved), submit, review."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.core.clock import now_utc
from lms.core.db import get_session, reads_first
from lms.core.errors import DomainError
from lms.core.i18n import locale_name
from lms.core.forms import EmptyForm
from lms.core.idempotency import idempotent_for_user
from lms.accounts.services import read_with_session_user
from lms.core.security import read_with_user, roles_required
from lms.quizzes import services, versions
from lms.quizzes.page import attempt_page, cached_questions_html
from lms.quizzes.question_types import REGISTRY
from lms.quizzes.states import AttemptState

bp = Blueprint("quizzes", __name__, template_folder="templates")

def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.headers.get("X-Requested-With") == "fetch"


@bp.route("/quizzes/<slug>")
@roles_required("agent")
def quiz(slug: str):
    session = get_session()
    quiz = services.get_quiz(session, slug)
    now = now_utc()
    if not services.ACCESS_POLICY["may_take"](session, current_user, quiz):
        abort(404)
    attempts = services.attempts_of(session, current_user.id, quiz)
    rules = services.allowance(session, current_user, quiz, now=now, attempts=attempts, may_take=True)
    result = services.QuizResult(quiz, attempts)
    visibility = {a.id: services.review_visibility(a, result, rules) for a in attempts}
    return render_template("quizzes/learn/quiz.html", quiz=quiz, rules=rules, attempts=attempts, result=result,
                           visibility=visibility, now=now, effective_state=services.effective_state, form=EmptyForm())


@bp.route("/quizzes/<slug>/start", methods=["POST"])
@reads_first  # 200 agents starting an exam at 9:00 hold SQLite's write lock only for their inserts
@roles_required("agent")
def start(slug: str):
    session = get_session()
    quiz = services.get_quiz(session, slug)
    if not services.ACCESS_POLICY["may_take"](session, current_user, quiz):
        abort(404)
    # (the form's CSRF token was checked before the view, as on every POST: lms.core.security's CSRFProtect; a form
    # built here to check it again cost the exam start, the auto-save and the submission 0.2 ms of CPU each)
    try:
        attempt = services.start_attempt(session, current_user, quiz, now=now_utc(), may_take=True)
    except DomainError as exc:
        flash(str(exc), "error")
        return redirect(url_for("quizzes.quiz", slug=slug))
    return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))


def _own_attempt(attempt_id: int):
    """The signed-in agent's attempt with its quiz, for the auto-save and the submission, which read its slots as plain
    rows (:func:`services.slots_of`; on PostgreSQL they come with the attempt, read with the signed-in user: below)."""
    session = get_session()
    attempt = read_with_user().pop(request.endpoint, None) or services.get_attempt_to_write(session, attempt_id)
    if attempt.user_id != current_user.id:
        abort(404)
    return session, attempt


for _endpoint in ("quizzes.save", "quizzes.submit"):  # (a round trip less on the two hot paths, issue #22)
    read_with_session_user(_endpoint, services.attempt_with_user, services.attempt_with_user_params, services.attempt_read_with_user)


@bp.route("/attempts/<int:attempt_id>")
@roles_required("agent")
def attempt(attempt_id: int):
    page = attempt_page(get_session(), attempt_id, locale=locale_name())
    if page.user_id != current_user.id:
        abort(404)
    now = now_utc()
    if services.effective_state(page, now) != AttemptState.in_progress.value:
        return redirect(url_for("quizzes.review", attempt_id=page.id))
    remaining = None if page.deadline_at is None else max(0, int((page.deadline_at - now).total_seconds()))
    # (the URLs built here: a {% set %} in a block makes every later call in it copy the template's context)
    questions_html = cached_questions_html(page.keys)
    return render_template("quizzes/learn/attempt.html", attempt=page, quiz=page.quiz, question_count=len(page.keys),
                           views=page.views() if questions_html is None else (), answered=page.answered,
                           remaining=remaining, fragments=versions.FRAGMENTS, questions_html=questions_html,
                           save_url=url_for("quizzes.save", attempt_id=page.id), submit_url=url_for("quizzes.submit", attempt_id=page.id))


@bp.route("/attempts/<int:attempt_id>/save", methods=["POST"])
@reads_first  # the attempt and the answers are read and checked before the write lock
@roles_required("agent")
def save(attempt_id: int):
    session, attempt = _own_attempt(attempt_id)  # (its CSRF token: checked before the view, see start())
    values = request.form.to_dict(flat=False)
    try:
        changed = services.save_answers(session, attempt, current_user, values, now=now_utc())
    except services.AttemptClosed as exc:
        if _wants_json():
            return jsonify(ok=False, closed=True, message=str(exc)), 409
        flash(str(exc), "error")
        return redirect(url_for("quizzes.review", attempt_id=attempt.id))
    except DomainError as exc:
        session.rollback()
        if _wants_json():
            return jsonify(ok=False, message=str(exc)), exc.status
        flash(str(exc), "error")
        return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))
    if _wants_json():
        return jsonify(ok=True, changed=changed, saved_at=now_utc().isoformat())
    flash(_("Respuestas guardadas."), "success")
    return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
@reads_first  # the attempt, its questions and the answers are read and checked before the write lock
@roles_required("agent")
@idempotent_for_user  # a repeat with the form's key gets the first answer again
def submit(attempt_id: int):
    session, attempt = _own_attempt(attempt_id)  # (its CSRF token: checked before the view, see start())
    try:
        services.submit_attempt(session, attempt, current_user, request.form.to_dict(flat=False), now=now_utc())
    except services.AttemptClosed as exc:
        flash(str(exc), "info")
        return redirect(url_for("quizzes.review", attempt_id=attempt.id)), 303
    except DomainError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))
    # said by the review page itself (?submitted=1): a flashed message rewrote the session cookie twice, on the
    # submission and on the review page that showed it (0.1 ms of the submission's CPU, issue #22)
    return redirect(url_for("quizzes.review", attempt_id=attempt.id, submitted=1))


@bp.route("/attempts/<int:attempt_id>/review")
@login_required
def review(attempt_id: int):
    session = get_session()
    attempt = services.get_attempt(session, attempt_id)
    staff = current_user.role != "agent"
    if attempt.user_id != current_user.id and not (staff and services.ACCESS_POLICY["may_supervise"](session, current_user, attempt.user_id)):
        abort(404)
    now = now_utc()
    if attempt.user_id == current_user.id and services.effective_state(attempt, now) == AttemptState.in_progress.value:
        return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))
    quiz = attempt.quiz
    result = services.QuizResult(quiz, services.attempts_of(session, attempt.user_id, quiz))
    if staff:
        visibility = {"score": True, "correct_answers": True, "explanations": True}
    else:
        visibility = services.review_visibility(attempt, result, services.allowance(session, current_user, quiz, now=now))
    state = services.effective_state(attempt, now)
    just_submitted = request.args.get("submitted") == "1" and attempt.user_id == current_user.id and state != "abandoned"
    return render_template("quizzes/learn/review.html", attempt=attempt, quiz=quiz, views=services.slot_views(attempt),
                           visibility=visibility, state=state, staff=staff, registry=REGISTRY,
                           page_messages=[("success", _("Intento enviado."))] if just_submitted else [])
