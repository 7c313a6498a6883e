"""Role-play practice and grading: plain functions taking the session and ``now``; they flush, never commit."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from lms.accounts.models import User
from lms.core.caches import BoundedCache
from lms.core.db import any_of
from lms.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from lms.roleplays import signals
from lms.roleplays.models import (
    CriterionSummary,
    GradeEvent,
    RoleplayAssignment,
    RoleplayGrade,
    RoleplaySubmission,
    RoleplayTurn,
    Rubric,
    RubricVersion,
    Scenario,
)

# The customer engine, the pre-check and the grading rules are imported by the functions that run them: a worker
# that only lists or shows role-plays (the home page's notices, the dashboards) does not load them.
if TYPE_CHECKING:
    from lms.roleplays import precheck as precheck_module
    from lms.roleplays.engine import practice as engine_practice

MAX_REPLY = 5000
EMAIL_FIELDS = ("subject", "greeting", "body", "steps", "closing", "signature")
HANDOFF_FIELDS = ("context", "priority", "expectations", "timeline")


# Scenarios and assignments ---------------------------------------------------------

def list_scenarios(session: Session) -> list[Scenario]:
    return list(session.scalars(select(Scenario).where(Scenario.is_archived.is_(False)).order_by(Scenario.title)))


def get_scenario(session: Session, slug: str) -> Scenario:
    scenario = session.scalar(select(Scenario).where(Scenario.slug == slug, Scenario.is_archived.is_(False)))
    if scenario is None:
        raise NotFound(_("Ese role-play no existe."))
    return scenario


def assign(session: Session, *, actor, scenario: Scenario, team_id: int | None, user_id: int | None, due_date: date | None,
           now: datetime) -> RoleplayAssignment:
    if (team_id is None) == (user_id is None):
        raise InvalidInput(_("Asigna el role-play a un equipo o a un agente."))
    assignment = RoleplayAssignment(scenario_id=scenario.id, team_id=team_id, user_id=user_id, due_date=due_date,
                                    assigned_by_id=actor.id, created_at=now)
    session.add(assignment)
    session.flush()
    return assignment


def assignments_for(session: Session, user_id: int, team_ids: list[int]) -> list[RoleplayAssignment]:
    clauses = [RoleplayAssignment.user_id == user_id]
    if team_ids:
        clauses.append(RoleplayAssignment.team_id.in_(team_ids))
    return list(session.scalars(
        select(RoleplayAssignment).where(or_(*clauses)).options(selectinload(RoleplayAssignment.scenario))
        .order_by(RoleplayAssignment.due_date.is_(None), RoleplayAssignment.due_date, RoleplayAssignment.id)
    ))


# Practice ---------------------------------------------------------------------------

def submissions_of(session: Session, user_id: int, scenario: Scenario | None = None) -> list[RoleplaySubmission]:
    stmt = select(RoleplaySubmission).where(RoleplaySubmission.user_id == user_id).options(selectinload(RoleplaySubmission.scenario))
    if scenario is not None:
        stmt = stmt.where(RoleplaySubmission.scenario_id == scenario.id)
    return list(session.scalars(stmt.order_by(RoleplaySubmission.started_at.desc(), RoleplaySubmission.id.desc())))


def get_submission(session: Session, submission_id: int) -> RoleplaySubmission:
    submission = session.scalar(
        select(RoleplaySubmission).where(RoleplaySubmission.id == submission_id)
        .options(selectinload(RoleplaySubmission.turns), selectinload(RoleplaySubmission.scenario).selectinload(Scenario.rubric))
    )
    if submission is None:
        raise NotFound(_("Esa práctica no existe."))
    return submission


def start_practice(session: Session, user, scenario: Scenario, *, now: datetime) -> RoleplaySubmission:
    """Resume the practice in progress, or start a new one (a retry never touches earlier ones)."""
    if user.role != "agent":
        raise Forbidden(_("Solo los agentes practican role-plays."))
    previous = submissions_of(session, user.id, scenario)
    open_one = next((s for s in previous if s.state == "in_progress"), None)
    if open_one is not None:
        return open_one
    submission = RoleplaySubmission(scenario_id=scenario.id, user_id=user.id, number=len(previous) + 1, state="in_progress",
                                    grade_state="ungraded", started_at=now, revision=1)
    session.add(submission)
    session.flush()
    if scenario.mode != "email":
        position = 0
        for customer in scenario.data["customers"]:
            session.add(RoleplayTurn(submission_id=submission.id, position=position, thread=customer["id"], speaker="customer",
                                     text=customer["messages"][0], at=now))
            position += 1
    else:
        customer = scenario.data["customers"][0]
        session.add(RoleplayTurn(submission_id=submission.id, position=0, thread=customer["id"], speaker="customer",
                                 text=customer["messages"][0], at=now))
    session.flush()
    session.refresh(submission, ["turns"])
    return submission


def _own_open(submission: RoleplaySubmission, user) -> None:
    if submission.user_id != user.id:
        raise NotFound(_("Esa práctica no existe."))
    if submission.state != "in_progress":
        raise Conflict(_("Esta práctica ya se envió; no se ha cambiado nada."))


@dataclass
class ThreadView:
    customer: dict
    turns: list[RoleplayTurn]
    awaiting: RoleplayTurn | None  # the customer message waiting for a reply
    finished: bool
    #: customers with a model: how the conversation ended (kind, one line for the agent) and the customer's mood
    ending: str | None = None
    ending_text: str | None = None
    mood: int | None = None


def threads(submission: RoleplaySubmission) -> list[ThreadView]:
    from lms.roleplays.engine import practice as engine_practice

    views = []
    for customer in submission.scenario.data["customers"]:
        turns = [t for t in submission.turns if t.thread == customer["id"]]
        awaiting = turns[-1] if turns and turns[-1].speaker == "customer" else None
        if engine_practice.has_model(customer):
            state = engine_practice.thread_state(submission, customer["id"])
            ended = state.get("ending")
            if ended and not (ended in engine_practice.CLOSABLE and not state.get("closed") and awaiting is not None):
                # ended: nothing waits, except the agent's closing words after a customer who stayed to the end
                awaiting = None
            views.append(ThreadView(customer, turns, awaiting, bool(ended), ended, state.get("text"),
                                    state.get("mood", customer["model"]["mood"])))
            continue
        answered = sum(1 for t in turns if t.speaker == "agent")
        views.append(ThreadView(customer, turns, awaiting, answered >= len(customer["messages"])))
    return views


def advance(session: Session, submission: RoleplaySubmission, *, now: datetime, skip: str | None = None) -> None:
    """Server-side timing: a customer left waiting past their patience walks out (the thread ends as timed out), after
    the nudges they sent while waiting. The page's poll shows the same turns before they are stored (``pending``)."""
    from lms.roleplays.engine import practice as engine_practice

    if submission.state != "in_progress" or submission.scenario.mode == "email":
        return
    position = max(t.position for t in submission.turns) + 1
    changed = False
    for view in threads(submission):
        if view.customer["id"] == skip or view.awaiting is None or not engine_practice.has_model(view.customer) or view.ending:
            continue
        if (now - view.awaiting.at).total_seconds() > engine_practice.leave_after(submission, view.customer):
            # the nudges the page showed while the customer waited (engine_practice.pending), then the walk-out
            for said, at in engine_practice.pending(submission, view.customer, view.awaiting.at, now).nudges:
                session.add(RoleplayTurn(submission_id=submission.id, position=position, thread=view.customer["id"],
                                         speaker="customer", text=said, at=at))
                position += 1
            text, at = engine_practice.walk_out(submission, view.customer, view.awaiting.at)
            session.add(RoleplayTurn(submission_id=submission.id, position=position, thread=view.customer["id"], speaker="customer",
                                     text=text, at=at))
            position += 1
            changed = True
    if changed:
        session.flush()
        session.refresh(submission, ["turns"])


def pending(submission: RoleplaySubmission, *, now: datetime) -> dict[str, engine_practice.Pending]:
    """Read-only (the page's poll is a GET): per waiting conversation, the nudges and walk-out due by ``now`` that
    the agent's next reply or the hand-in stores (``advance`` and the engine's ``respond``). Writes nothing."""
    from lms.roleplays.engine import practice as engine_practice

    if submission.state != "in_progress" or submission.scenario.mode == "email":
        return {}
    out = {}
    for view in threads(submission):
        if view.awaiting is None or view.ending or not engine_practice.has_model(view.customer):
            continue
        due = engine_practice.pending(submission, view.customer, view.awaiting.at, now)
        if due.nudges or due.walk_out:
            out[view.customer["id"]] = due
    return out


def reply(session: Session, submission: RoleplaySubmission, user, *, thread: str, text: str, now: datetime) -> RoleplayTurn:
    """Record the agent's reply to the waiting customer message (timed) and show the customer's next one."""
    from lms.roleplays.engine import practice as engine_practice

    _own_open(submission, user)
    if submission.scenario.mode == "email":
        raise InvalidInput(_("En un role-play por email se envía una sola respuesta redactada."))
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("Escribe tu respuesta antes de enviarla."))
    if len(text) > MAX_REPLY:
        raise InvalidInput(_("La respuesta es demasiado larga (máximo %(n)d caracteres).", n=MAX_REPLY))
    if not any(c["id"] == thread for c in submission.scenario.data["customers"]):
        raise InvalidInput(_("Esa conversación no existe en este role-play."))
    advance(session, submission, now=now, skip=thread)  # the other customers keep waiting while this one is answered
    view = next(v for v in threads(submission) if v.customer["id"] == thread)
    if view.awaiting is None:
        raise Conflict(_("Esa conversación no espera respuesta ahora."))
    position = max(t.position for t in submission.turns) + 1
    seconds = max(0.0, (now - view.awaiting.at).total_seconds())
    if engine_practice.has_model(view.customer) and view.ending:
        # the conversation ended with the customer still there: the agent's closing words, no answer
        turn = RoleplayTurn(submission_id=submission.id, position=position, thread=thread, speaker="agent", text=text, at=now,
                            seconds=round(seconds, 1))
        session.add(turn)
        engine_practice.close(submission, thread)
        session.flush()
        session.refresh(submission, ["turns"])
        return turn
    if engine_practice.has_model(view.customer):
        # the customer listens: the engine reads the reply and answers (nudges first if they waited)
        turn = None
        for offset, (speaker, said, at, secs) in enumerate(engine_practice.respond(submission, view.customer, text, seconds,
                                                                                  view.awaiting.at, now)):
            added = RoleplayTurn(submission_id=submission.id, position=position + offset, thread=thread, speaker=speaker, text=said,
                                 at=at, seconds=secs)
            session.add(added)
            turn = added if speaker == "agent" else turn
        session.flush()
        session.refresh(submission, ["turns"])
        return turn
    turn = RoleplayTurn(submission_id=submission.id, position=position, thread=thread, speaker="agent", text=text, at=now,
                        seconds=round(seconds, 1))
    session.add(turn)
    answered = sum(1 for t in view.turns if t.speaker == "agent") + 1
    messages = view.customer["messages"]
    if answered < len(messages):
        session.add(RoleplayTurn(submission_id=submission.id, position=position + 1, thread=thread, speaker="customer",
                                 text=messages[answered], at=now))
    session.flush()
    session.refresh(submission, ["turns"])
    return turn


def save_email(session: Session, submission: RoleplaySubmission, user, fields: dict[str, str], *, now: datetime) -> None:
    _own_open(submission, user)
    if submission.scenario.mode != "email":
        raise InvalidInput(_("Este role-play no es por email."))
    clean = {}
    for name in EMAIL_FIELDS:
        value = (fields.get(name) or "").strip()
        if len(value) > MAX_REPLY:
            raise InvalidInput(_("El campo %(field)s es demasiado largo.", field=name))
        clean[name] = value
    submission.email = clean
    session.flush()


def email_text(email: dict | None) -> str:
    if not email:
        return ""
    return "\n\n".join(email.get(name, "") for name in EMAIL_FIELDS if email.get(name))


def submit(session: Session, submission: RoleplaySubmission, user, *, escalation: dict | None, now: datetime) -> RoleplaySubmission:
    """Hand the practice in (exactly once): the rubric version is fixed and the pre-check computed."""
    from lms.roleplays.engine import practice as engine_practice

    _own_open(submission, user)
    scenario = submission.scenario
    if scenario.mode == "email":
        if not email_text(submission.email).strip():
            raise InvalidInput(_("Redacta el email antes de enviarlo."))
    else:
        advance(session, submission, now=now)
        views = threads(submission)
        if any(v.awaiting is not None and (not engine_practice.has_model(v.customer) or not any(t.speaker == "agent" for t in v.turns))
               for v in views):
            raise InvalidInput(_("Responde a todos los mensajes del cliente antes de terminar."))
    submission.escalation = clean_escalation(escalation)
    rubric = session.get(Rubric, scenario.rubric_id)
    version = session.scalar(select(RubricVersion).where(RubricVersion.rubric_id == rubric.id, RubricVersion.version == rubric.current_version))
    moved = session.execute(
        update(RoleplaySubmission).where(RoleplaySubmission.id == submission.id, RoleplaySubmission.state == "in_progress")
        .values(state="submitted", submitted_at=now, rubric_version_id=version.id, revision=RoleplaySubmission.revision + 1,
                escalation=submission.escalation)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict(_("Esta práctica ya se envió; no se ha cambiado nada."))
    for name, value in (("state", "submitted"), ("submitted_at", now), ("rubric_version_id", version.id),
                        ("revision", submission.revision + 1)):
        set_committed_value(submission, name, value)
    customer = scenario.data["customers"][0]
    if scenario.mode == "email" and engine_practice.has_model(customer):
        engine_practice.email_ending(submission, customer, email_text(submission.email), (now - submission.started_at).total_seconds())
    elif scenario.mode != "email":
        engine_practice.close_open_threads(submission, now)
    submission.precheck = run_precheck(submission, version.data).as_json()
    session.flush()
    signals.submitted.send(session, submission=submission, now=now)
    return submission


def clean_escalation(raw: dict | None) -> dict | None:
    if not raw or not str(raw.get("level") or "").strip():
        return None
    try:
        level = int(raw["level"])
    except (TypeError, ValueError):
        raise InvalidInput(_("El nivel de escalamiento debe ser 1, 2, 3 o 4.")) from None
    if level not in (1, 2, 3, 4):
        raise InvalidInput(_("El nivel de escalamiento debe ser 1, 2, 3 o 4."))
    clean = {"level": level, "destination": str(raw.get("destination") or "").strip()[:200]}
    for name in HANDOFF_FIELDS:
        clean[name] = str(raw.get(name) or "").strip()[:MAX_REPLY]
    return clean


def run_precheck(submission: RoleplaySubmission, rubric: dict | None = None) -> precheck_module.Result:
    """The advisory pre-check: each customer's conversation graded against the scenario's rubric (surge: the lowest
    level of the conversations per criterion, times over all of them)."""
    from lms.roleplays import grading
    from lms.roleplays import precheck as precheck_module
    from lms.roleplays.engine import practice as engine_practice

    scenario = submission.scenario
    data = scenario.data | {"mode": scenario.mode, "channel": scenario.channel}
    results = []
    for customer in data["customers"]:
        if scenario.mode == "email":
            seconds = (submission.submitted_at - submission.started_at).total_seconds() if submission.submitted_at else None
            turns = [precheck_module.Turn("agent", email_text(submission.email), seconds)]
        else:
            thread = [t for t in submission.turns if t.thread == customer["id"]]
            turns = [precheck_module.Turn(t.speaker, t.text, t.seconds) for t in thread[1:]]
        transcript = precheck_module.Transcript(
            channel=scenario.channel, customer_type=customer["type"], opening_message=customer["messages"][0], turns=turns,
            customer_names=[customer["name"]], standard_seconds=data["response_standard"]["seconds"],
            objectives=data.get("objectives", []), expected_escalation=data.get("escalation") or {"required": False},
            escalation=submission.escalation, scenario=data if engine_practice.has_model(customer) else None,
            customer_id=customer["id"], record=customer.get("record"))
        results.append(precheck_module.check(transcript, rubric if engine_practice.has_model(customer) else None))
    return results[0] if len(results) == 1 else grading.combine(results, rubric)


# Grading ---------------------------------------------------------------------------------

def rubric_score(rubric: dict, levels: dict[str, int]) -> tuple[float, bool, list[str]]:
    """Weighted mean of the levels as a percentage of level 4, and whether it passes (no critical criterion failed)."""
    total_weight = sum(c.get("weight", 1) for c in rubric["criteria"])
    earned = sum(c.get("weight", 1) * levels[c["id"]] for c in rubric["criteria"])
    score = round(100 * earned / (4 * total_weight), 1) if total_weight else 0.0
    failed = [c["id"] for c in rubric["criteria"] if c.get("critical") and levels[c["id"]] < (c.get("pass_level") or 0)]
    return score, not failed, failed


#: a role-play passes with this score when no critical criterion fails (house rule; see the certifications)
PASS_SCORE = 75.0


def grade_for(session: Session, submission: RoleplaySubmission) -> RoleplayGrade | None:
    """The submission's grade of record (not the blind calibration grades)."""
    return session.scalar(select(RoleplayGrade).where(RoleplayGrade.submission_id == submission.id,
                                                      RoleplayGrade.calibration_id.is_(None)))


def rubric_of(session: Session, submission: RoleplaySubmission) -> dict:
    """The rubric (as versioned when the practice started) a submission is graded against."""
    return session.get(RubricVersion, submission.rubric_version_id).data


def save_grade(session: Session, submission: RoleplaySubmission, *, actor, levels: dict, comments: dict, overall: str,
               inline: list[dict], action: str, expected_revision: int | None, reason: str = "", now: datetime) -> RoleplayGrade:
    """Save a trainer's grade as a draft, release it to the agent, or return the practice for another try.

    Two trainers saving at once cannot overwrite each other: the second gets a Conflict.
    """
    if submission.state != "submitted":
        raise Conflict(_("Solo se califican prácticas enviadas."))
    if action not in ("draft", "release", "return"):
        raise InvalidInput(_("Acción desconocida."))
    version = session.get(RubricVersion, submission.rubric_version_id)
    rubric = version.data
    clean_levels = {}
    for criterion in rubric["criteria"]:
        raw = levels.get(criterion["id"])
        if raw in (None, ""):
            if action != "draft":
                raise InvalidInput(_("Falta el nivel del criterio «%(title)s».", title=criterion["title"]))
            continue
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise InvalidInput(_("Nivel no válido en «%(title)s».", title=criterion["title"])) from None
        if value not in range(5):
            raise InvalidInput(_("Nivel no válido en «%(title)s».", title=criterion["title"]))
        clean_levels[criterion["id"]] = value
    known = {c["id"] for c in rubric["criteria"]}
    clean_comments = {k: str(v).strip()[:2000] for k, v in (comments or {}).items() if k in known and str(v).strip()}
    positions = {t.position for t in submission.turns if t.speaker == "agent"}
    clean_inline = []
    for item in inline or []:
        try:
            turn = int(item.get("turn"))
        except (TypeError, ValueError, AttributeError):
            continue
        text = str(item.get("text") or "").strip()[:2000]
        if turn in positions and text:
            clean_inline.append({"turn": turn, "text": text})
    grade = grade_for(session, submission)
    before = None
    if grade is None:
        if expected_revision not in (None, 0):
            raise Conflict(_("Otra persona cambió esta calificación mientras la editabas. Recarga la página y revisa sus cambios."))
        grade = RoleplayGrade(submission_id=submission.id, grader_id=actor.id, rubric_version_id=version.id, state="draft",
                              levels={}, comments={}, overall_comment="", inline_comments=[], created_at=now, updated_at=now, revision=0)
        session.add(grade)
        session.flush()
    else:
        before = _snapshot(grade)
        if grade.revision != expected_revision:
            raise Conflict(_("Otra persona cambió esta calificación mientras la editabas. Recarga la página y revisa sus cambios."))
        if grade.state == "released" and not (reason or "").strip():
            raise InvalidInput(_("Esta calificación ya se publicó: explica el motivo del cambio."))
    moved = session.execute(
        update(RoleplayGrade).where(RoleplayGrade.id == grade.id, RoleplayGrade.revision == grade.revision)
        .values(revision=RoleplayGrade.revision + 1).execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict(_("Otra persona cambió esta calificación mientras la editabas. Recarga la página y revisa sus cambios."))
    set_committed_value(grade, "revision", grade.revision + 1)
    grade.levels, grade.comments, grade.overall_comment, grade.inline_comments = clean_levels, clean_comments, (overall or "").strip()[:5000], clean_inline
    grade.grader_id, grade.updated_at = actor.id, now
    complete = len(clean_levels) == len(rubric["criteria"])
    if complete:
        score, no_critical_failure, _failed = rubric_score(rubric, clean_levels)
        grade.score, grade.passed = score, no_critical_failure and score >= PASS_SCORE
    else:
        grade.score = grade.passed = None
    state = {"draft": "draft", "release": "released", "return": "returned"}[action]
    if action == "draft" and before is not None and before["state"] in ("released", "returned"):
        state = before["state"]  # editing a released grade keeps it released (with history)
    grade.state = state
    if state == "released":
        grade.released_at = grade.released_at or now
    submission.grade_state = state
    submission.score = grade.score if state == "released" else None
    submission.passed = grade.passed if state == "released" else None
    session.flush()
    session.add(GradeEvent(grade_id=grade.id, actor_id=actor.id, kind=action if before is None or action != "draft" else "edit",
                           at=now, before=before, after=_snapshot(grade), reason=(reason or "").strip()[:500]))
    session.flush()
    if submission.user_id is not None and "released" in (state, before and before["state"]):
        refresh_criterion_summary(session, submission.user_id)  # given, edited or withdrawn
    if state == "released":
        signals.grade_released.send(session, submission=submission, now=now)
    elif state == "returned" and (before is None or before["state"] != "returned"):
        signals.grade_returned.send(session, submission=submission, now=now)
    return grade


def _snapshot(grade: RoleplayGrade) -> dict:
    return {"state": grade.state, "levels": dict(grade.levels or {}), "score": grade.score, "passed": grade.passed,
            "overall_comment": grade.overall_comment}


def grade_history(session: Session, grade: RoleplayGrade) -> list[GradeEvent]:
    return list(session.scalars(select(GradeEvent).where(GradeEvent.grade_id == grade.id).order_by(GradeEvent.id)))


def grading_queue(session: Session, agent_ids: list[int], *, scenario_id: int | None = None, agent_id: int | None = None,
                  status: str | None = None) -> list[RoleplaySubmission]:
    """Submissions of these agents waiting for (or under) grading, oldest first."""
    if not agent_ids:
        return []
    stmt = (select(RoleplaySubmission).where(RoleplaySubmission.user_id.in_(agent_ids), RoleplaySubmission.state == "submitted")
            .options(selectinload(RoleplaySubmission.scenario)).order_by(RoleplaySubmission.submitted_at, RoleplaySubmission.id))
    stmt = stmt.where(RoleplaySubmission.grade_state.in_([status] if status else ["ungraded", "draft"]))
    if scenario_id:
        stmt = stmt.where(RoleplaySubmission.scenario_id == scenario_id)
    if agent_id:
        stmt = stmt.where(RoleplaySubmission.user_id == agent_id)
    return list(session.scalars(stmt))


def visible_grade(session: Session, submission: RoleplaySubmission) -> RoleplayGrade | None:
    """What the agent may see: a released or returned grade, never a draft."""
    grade = grade_for(session, submission)
    return grade if grade is not None and grade.state in ("released", "returned") else None


def count_open_submissions(session: Session, agent_ids: list[int]) -> int:
    if not agent_ids:
        return 0
    return session.scalar(select(func.count()).select_from(RoleplaySubmission).where(
        RoleplaySubmission.user_id.in_(agent_ids), RoleplaySubmission.state == "submitted",
        RoleplaySubmission.grade_state.in_(["ungraded", "draft"]))) or 0


# Exemplars ---------------------------------------------------------------------------------

_SPEAKER = re.compile(r"^\*\*([^*:]+):\*\*\s*(.*)$")


def exemplar_turns(markdown: str) -> list[tuple[str, str, str]]:
    """(thread label, speaker label, text) turns of an exemplar written as '> **Name:** text' blockquotes."""
    turns: list[list[str]] = []
    thread = ""
    for raw in markdown.splitlines():
        if raw.startswith("### "):
            thread = raw[4:].strip()
            continue
        if not raw.startswith(">"):
            continue
        line = raw[1:].strip()
        match = _SPEAKER.match(line)
        if match:
            turns.append([thread, match.group(1).strip(), match.group(2).strip()])
        elif turns and line:
            turns[-1][2] = (turns[-1][2] + " " + line).strip()
    return [tuple(t) for t in turns]


def anchors(session: Session) -> list[RoleplaySubmission]:
    """Anchor transcripts imported for calibration."""
    return list(session.scalars(select(RoleplaySubmission).where(RoleplaySubmission.anchor_label.is_not(None))
                                .options(selectinload(RoleplaySubmission.scenario)).order_by(RoleplaySubmission.id)))


@dataclass
class ReleasedResult:
    submission: RoleplaySubmission
    grade: RoleplayGrade


def released_results(session: Session, user_id: int) -> list[ReleasedResult]:
    """The agent's role-plays with a released grade (the evidence certifications may rest on)."""
    rows = session.execute(
        select(RoleplaySubmission, RoleplayGrade).join(RoleplayGrade, RoleplayGrade.submission_id == RoleplaySubmission.id)
        .where(RoleplaySubmission.user_id == user_id, RoleplayGrade.calibration_id.is_(None), RoleplayGrade.state == "released")
        .options(selectinload(RoleplaySubmission.scenario))
    )
    return [ReleasedResult(submission, grade) for submission, grade in rows]


def released_scores(session: Session, user_ids: list[int]) -> dict[int, list[float]]:
    """Released role-play scores per agent (one query), each agent's by scenario then submission: a mean of floats
    depends on the order they are added in, so the order is stated (it is the index's: ix_roleplay_submissions_user_released
    answers the query alone, without a sort). Plain rows on the session's connection (no ORM loading): what is flushed."""
    return scores_by_agent(released_score_rows(session, user_ids))


def released_score_rows(session: Session, user_ids: list[int]) -> tuple:
    """The (agent id, score) rows :func:`released_scores` groups, as read: plain tuples (a page can key on them)."""
    if not user_ids:
        return ()
    # .all(): the driver's fetchall, not a fetchone per row (a hundred agents have a thousand scores: 0.8 ms less)
    connection = session.connection()
    return tuple(map(tuple, connection.execute(_released_scores_of(connection.dialect.name), {"b_user_ids": list(user_ids)}).all()))


def scores_by_agent(rows) -> dict[int, list[float]]:
    """{agent id: scores} of rows read by :func:`released_score_rows`, in their order."""
    out: dict[int, list[float]] = {}
    for user_id, score in rows:
        if score is not None:
            out.setdefault(user_id, []).append(score)
    return out


@lru_cache(maxsize=4)
def _released_scores_of(dialect: str):
    """The released scores of the agents ``b_user_ids`` in the order their means add them (built once per dialect)."""
    return (select(RoleplaySubmission.user_id, RoleplaySubmission.score)
            .where(any_of(dialect, RoleplaySubmission.user_id, "b_user_ids"), RoleplaySubmission.grade_state == "released")
            .order_by(RoleplaySubmission.user_id, RoleplaySubmission.scenario_id, RoleplaySubmission.id))


def criterion_averages(session: Session, user_ids: list[int]) -> list[tuple[str, float, int]]:
    """(criterion title, mean level, grades) over the agents' released grades, weakest first. The definition, read
    from the grades themselves: pages use :func:`summed_criterion_averages`, and the tests check the sums kept on
    write against this."""
    if not user_ids:
        return []
    return _weakest_first(session, _level_sums(session.execute(_released_levels(user_ids)).all(), per_agent=False))


def criterion_stamp_of(user_id):
    """A SQL expression: the stamp of the agent's (``user_id``, a column) criterion sums, NULL when they have none (a
    correlated subquery: a page of agents reads the stamps with its names, for :func:`summed_criterion_averages`)."""
    return (select(CriterionSummary.stamp).where(CriterionSummary.user_id == user_id)
            .order_by(CriterionSummary.rubric_version_id, CriterionSummary.criterion_id).limit(1).scalar_subquery())


#: (agent id, stamp) pairs of a set of agents → their :func:`summed_criterion_averages`; bounded, per process. A stamp
#: is new (random) whenever an agent's sums are rewritten, and NULL means no sums: the same pairs are the same sums
CRITERION_AVERAGES: "BoundedCache[tuple]" = BoundedCache(256)


def _new_stamp() -> int:
    """A criterion sums' stamp: random (two databases never share one), never 0 (rows written before stamps)."""
    return secrets.randbits(62) | 1


def summed_criterion_averages(session: Session, user_ids: list[int], stamps: dict | None = None) -> list[tuple[str, float, int]]:
    """:func:`criterion_averages` (same figures, same order) from the per-agent sums kept on write: one statement (the
    sums grouped in SQL, with the key of each rubric version's content), the versions' criterion titles from a
    per-process cache (a version is immutable; its data is read, and its JSON parsed, only the first time).

    ``stamps``: {agent id: stamp of their sums (:func:`criterion_stamp_of`), None when they have none} for every agent,
    read with the agents: the figures of the same agents under the same stamps come from a per-process cache without
    a statement (a team's dashboard shown again; any grade released, edited or withdrawn for one of them, a rebuild,
    or a change of the agents gives other pairs). Plain rows on the session's connection (no ORM loading): what is flushed."""
    if not user_ids:
        return []
    key = None
    if stamps is not None and all(uid in stamps and stamps[uid] != 0 for uid in user_ids):
        key = tuple(sorted({(uid, stamps[uid]) for uid in user_ids}))
        cached = CRITERION_AVERAGES.get(key)
        if cached is not None:
            return list(cached)
    grouped = (select(CriterionSummary.rubric_version_id.label("version_id"), CriterionSummary.criterion_id.label("criterion_id"),
                      func.sum(CriterionSummary.level_sum).label("total"), func.sum(CriterionSummary.grades).label("grades"))
               .where(any_of(session.connection().dialect.name, CriterionSummary.user_id, "b_user_ids"))
               .group_by(CriterionSummary.rubric_version_id, CriterionSummary.criterion_id).subquery())
    rows = session.connection().execute(select(grouped.c.version_id, grouped.c.criterion_id, grouped.c.total, grouped.c.grades,
                                  RubricVersion.content_hash, RubricVersion.created_at)
                           .outerjoin(RubricVersion, RubricVersion.id == grouped.c.version_id), {"b_user_ids": list(user_ids)}).all()
    keys = {row.version_id: (row.version_id, row.content_hash, row.created_at) for row in rows}
    result = _by_title({(version_id, criterion_id): (total, count) for version_id, criterion_id, total, count, _h, _c in rows},
                       _criterion_titles(session, keys))
    CRITERION_AVERAGES.put(key, tuple(result))
    return result


#: {(rubric version id, content hash, created_at): {criterion id: title}}: a version is immutable, and the hash and
#: moment tell two databases' versions of the same id apart; bounded, per process
CRITERION_TITLES: "BoundedCache[dict]" = BoundedCache(1024)


def _criterion_titles(session: Session, keys: dict[int, tuple]) -> dict[int, dict]:
    """{version id: {criterion id: title}} for these versions' keys ({id: (id, content hash, created_at)}), reading the
    data of those not cached yet in one statement."""
    titles: dict[int, dict] = {}
    missing = []
    for version_id, key in keys.items():
        found = CRITERION_TITLES.get(key if key[1] is not None else None)
        if found is None:
            missing.append(version_id)
        else:
            titles[version_id] = found
    if missing:
        for version_id, content_hash, created_at, data in session.execute(
                select(RubricVersion.id, RubricVersion.content_hash, RubricVersion.created_at, RubricVersion.data)
                .where(RubricVersion.id.in_(sorted(missing)))):
            titles[version_id] = CRITERION_TITLES.put((version_id, content_hash, created_at),
                                                      {c["id"]: c["title"] for c in data["criteria"]})
    return titles


def _weakest_first(session: Session, sums: dict[tuple, tuple]) -> list[tuple[str, float, int]]:
    """{(rubric version, criterion): (sum of levels, grades)} → (title, mean, grades) per criterion title, weakest
    first (each rubric version read, and its JSON parsed, once)."""
    version_ids = sorted({version_id for version_id, _criterion in sums})
    titles_of = {version_id: {c["id"]: c["title"] for c in data["criteria"]} for version_id, data in session.execute(
        select(RubricVersion.id, RubricVersion.data).where(RubricVersion.id.in_(version_ids)))} if version_ids else {}
    return _by_title(sums, titles_of)


def _by_title(sums: dict[tuple, tuple], titles_of: dict[int, dict]) -> list[tuple[str, float, int]]:
    """The sums per (rubric version, criterion) added up per criterion title, weakest first."""
    by_title: dict[str, list] = {}
    for (version_id, criterion_id), (total, count) in sums.items():
        both = by_title.setdefault(titles_of.get(version_id, {}).get(criterion_id, criterion_id), [0, 0])
        both[0] += total
        both[1] += count
    return sorted(((t, total / count, count) for t, (total, count) in by_title.items()), key=lambda x: (x[1], x[0]))


def _released_levels(user_ids=None):
    """(agent, rubric version, levels) of agents' released grades (never calibration grades). "+ 0": SQLite (without
    ANALYZE statistics) would otherwise walk the calibration_id index, where nearly every grade is NULL, instead of
    starting from the agents' submissions."""
    stmt = (select(RoleplaySubmission.user_id, RoleplayGrade.rubric_version_id, RoleplayGrade.levels)
            .join(RoleplaySubmission, RoleplaySubmission.id == RoleplayGrade.submission_id)
            .where(RoleplayGrade.state == "released", (RoleplayGrade.calibration_id + 0).is_(None), RoleplaySubmission.user_id.is_not(None)))
    return stmt if user_ids is None else stmt.where(RoleplaySubmission.user_id.in_(user_ids))


def _level_sums(rows, *, per_agent: bool = True) -> dict[tuple, list[int]]:
    """(agent, rubric version, levels) rows → {([agent,] version, criterion): [sum of levels, grades]}."""
    sums: dict[tuple, list[int]] = {}
    for user_id, version_id, levels in rows:
        for criterion_id, level in (levels or {}).items():
            both = sums.setdefault((user_id, version_id, criterion_id) if per_agent else (version_id, criterion_id), [0, 0])
            both[0] += level
            both[1] += 1
    return sums


def _summary_rows(rows, stamp: int) -> list[dict]:
    return [{"user_id": u, "rubric_version_id": v, "criterion_id": c, "level_sum": total, "grades": n, "stamp": stamp}
            for (u, v, c), (total, n) in _level_sums(rows).items()]


def refresh_criterion_summary(session: Session, user_id: int) -> None:
    """Recompute the agent's per-criterion sums from their released grades (a few dozen rows). The agent's user row is
    locked first (PostgreSQL), so two grades released for them at once recompute one after the other."""
    session.execute(select(User.id).where(User.id == user_id).with_for_update())
    rows = _summary_rows(session.execute(_released_levels([user_id])).all(), _new_stamp())  # a new stamp: cached sums of them go
    session.execute(delete(CriterionSummary).where(CriterionSummary.user_id == user_id))
    if rows:
        session.execute(insert(CriterionSummary), rows)


def rebuild_criterion_summaries(session: Session, *, batch: int = 500) -> int:
    """Recompute every agent's per-criterion sums (after a bulk import, or to repair); returns the rows written."""
    session.execute(delete(CriterionSummary))
    written = 0
    agents = list(session.scalars(select(User.id).order_by(User.id)))
    stamp = _new_stamp()  # new for everyone: no sums cached before the rebuild are used after it
    for i in range(0, len(agents), batch):
        rows = _summary_rows(session.execute(_released_levels(agents[i:i + batch])).all(), stamp)
        if rows:
            session.execute(insert(CriterionSummary), rows)
        written += len(rows)
    return written


# For integrations (the REST API) ---------------------------------------------------

def released_grades_query(*, user_id: int | None = None, user_ids=None, scenario_slug: str | None = None,
                          passed: bool | None = None, released_after: datetime | None = None):
    """A select() of (grade, submission) for agents' released grades (never drafts, returns or calibration grades),
    with the rubric version and the scenario loaded."""
    stmt = (select(RoleplayGrade, RoleplaySubmission).join(RoleplaySubmission, RoleplaySubmission.id == RoleplayGrade.submission_id)
            .where(RoleplayGrade.state == "released", RoleplayGrade.calibration_id.is_(None), RoleplaySubmission.user_id.is_not(None))
            .options(selectinload(RoleplayGrade.rubric_version), selectinload(RoleplaySubmission.scenario)))
    if user_id is not None:
        stmt = stmt.where(RoleplaySubmission.user_id == user_id)
    if user_ids is not None:
        stmt = stmt.where(RoleplaySubmission.user_id.in_(user_ids))
    if scenario_slug:
        stmt = stmt.where(RoleplaySubmission.scenario_id.in_(select(Scenario.id).where(Scenario.slug == scenario_slug)))
    if passed is not None:
        stmt = stmt.where(RoleplayGrade.passed.is_(passed))
    if released_after is not None:
        stmt = stmt.where(RoleplayGrade.released_at >= released_after)
    return stmt
