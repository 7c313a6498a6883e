"""Calibration: trainers grade the same submission blind; agreement is measured and an agreed grade recorded.

* exact and adjacent agreement per criterion (share of trainer pairs within 0 or 1 level);
* Krippendorff's alpha (interval metric) over every unit graded by two trainers or more;
* each trainer's drift: the mean signed difference between their levels and the agreed ones;
* qualification: a new trainer grades the exemplar sessions and must reach
  :data:`QUALIFY_EXACT` exact and :data:`QUALIFY_ADJACENT` adjacent agreement with the
  agreed grades, over at least :data:`QUALIFY_MIN_EXEMPLARS` exemplars, before their
  grades count towards a certification. The exemplars graded must span the scale (a
  criterion agreed at :data:`FAILING_AT_MOST` or lower and one at :data:`PASSING_AT_LEAST` or
  higher), the trainer must not pass a criterion the exemplar fails (the trap), and a
  trainer who gives one level everywhere is not qualified: agreeing with a set of model
  transcripts proves nothing.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from itertools import combinations, permutations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.core.errors import Conflict, InvalidInput, NotFound
from lms.roleplays import precheck
from lms.roleplays.models import CalibrationSession, RoleplayGrade, RoleplaySubmission, RoleplayTurn, Rubric, RubricVersion, Scenario

#: house rule: what a new trainer must reach on the exemplars before their grades count
QUALIFY_EXACT = 0.70
QUALIFY_ADJACENT = 0.90
QUALIFY_MIN_EXEMPLARS = 2
#: house rule: the exemplars must span the scale: a failing criterion (agreed at this level or lower)…
FAILING_AT_MOST = 1
#: …and a passing one (agreed at this level or higher); a trainer who passes a failing criterion missed the trap
PASSING_AT_LEAST = 3
#: a criterion is highlighted as divergent below this exact agreement
DIVERGENT_BELOW = 0.5


def krippendorff_alpha_interval(units: list[list[float]]) -> float | None:
    """Krippendorff's alpha with the interval metric; ``units`` holds the values each unit received."""
    pairable = [u for u in units if len(u) >= 2]
    n = sum(len(u) for u in pairable)
    if n < 2:
        return None
    observed = sum(sum((a - b) ** 2 for a, b in permutations(u, 2)) / (len(u) - 1) for u in pairable) / n
    values = [v for u in pairable for v in u]
    expected = sum((a - b) ** 2 for a, b in permutations(values, 2)) / (n * (n - 1))
    if expected == 0:
        return 1.0 if observed == 0 else None
    return 1 - observed / expected


@dataclass
class CriterionAgreement:
    criterion: dict
    levels: list[int]
    exact: float | None
    adjacent: float | None

    @property
    def divergent(self) -> bool:
        return self.exact is not None and self.exact < DIVERGENT_BELOW


@dataclass
class Agreement:
    criteria: list[CriterionAgreement]
    alpha: float | None
    graders: int


def pair_agreement(levels: list[int]) -> tuple[float | None, float | None]:
    pairs = list(combinations(levels, 2))
    if not pairs:
        return None, None
    return (sum(a == b for a, b in pairs) / len(pairs), sum(abs(a - b) <= 1 for a, b in pairs) / len(pairs))


def import_anchor(session: Session, label: str, raw: dict, *, scenario_slug: str | None, now: datetime) -> RoleplaySubmission:
    """An anchor transcript (precheck format) becomes a submission without an agent, ready for calibration."""
    _tid, transcript = precheck.transcript_from_dict(raw)
    if scenario_slug:
        scenario = session.scalar(select(Scenario).where(Scenario.slug == scenario_slug, Scenario.is_archived.is_(False)))
        if scenario is None:
            raise NotFound(_("Ese role-play no existe."))
    else:
        scenario = session.scalar(select(Scenario).where(Scenario.channel == transcript.channel, Scenario.mode != "surge",
                                                         Scenario.is_archived.is_(False)).order_by(Scenario.slug))
        if scenario is None:
            raise NotFound(_("No hay ningún role-play del canal %(channel)s.", channel=transcript.channel))
    rubric = session.get(Rubric, scenario.rubric_id)
    version = session.scalar(select(RubricVersion).where(RubricVersion.rubric_id == rubric.id, RubricVersion.version == rubric.current_version))
    thread = scenario.data["customers"][0]["id"]
    submission = RoleplaySubmission(scenario_id=scenario.id, user_id=None, number=1, state="submitted", grade_state="ungraded",
                                    started_at=now, submitted_at=now, rubric_version_id=version.id, anchor_label=label[:200],
                                    precheck=precheck.check(transcript).as_json(), revision=1)
    session.add(submission)
    session.flush()
    session.add(RoleplayTurn(submission_id=submission.id, position=0, thread=thread, speaker="customer", text=transcript.opening_message, at=now))
    for n, turn in enumerate(transcript.turns, start=1):
        session.add(RoleplayTurn(submission_id=submission.id, position=n, thread=thread, speaker=turn.speaker, text=turn.text, at=now,
                                 seconds=turn.seconds))
    session.flush()
    return submission


def open_session(session: Session, *, submission: RoleplaySubmission, actor, title: str, exemplar: bool, now: datetime) -> CalibrationSession:
    if submission.state != "submitted":
        raise Conflict(_("Solo se calibran prácticas enviadas."))
    title = (title or "").strip() or submission.scenario.title
    calibration = CalibrationSession(submission_id=submission.id, created_by_id=actor.id, title=title[:200], state="open",
                                     is_exemplar=exemplar, created_at=now)
    session.add(calibration)
    session.flush()
    return calibration


def get_session_or_404(session: Session, calibration_id: int) -> CalibrationSession:
    calibration = session.get(CalibrationSession, calibration_id)
    if calibration is None:
        raise NotFound(_("Esa sesión de calibración no existe."))
    return calibration


def blind_grades(session: Session, calibration: CalibrationSession) -> list[RoleplayGrade]:
    return list(session.scalars(select(RoleplayGrade).where(RoleplayGrade.calibration_id == calibration.id).order_by(RoleplayGrade.id)))


def grade_blind(session: Session, calibration: CalibrationSession, *, actor, levels: dict, now: datetime) -> RoleplayGrade:
    """A trainer's blind grade; each trainer grades a session once."""
    if calibration.state != "open" and not calibration.is_exemplar:
        raise Conflict(_("Esta sesión de calibración ya está cerrada."))
    if any(g.grader_id == actor.id for g in blind_grades(session, calibration)):
        raise Conflict(_("Ya calificaste esta sesión."))
    submission = calibration.submission
    rubric = session.get(RubricVersion, submission.rubric_version_id)
    clean = _levels(rubric.data, levels)
    grade = RoleplayGrade(submission_id=submission.id, grader_id=actor.id, rubric_version_id=rubric.id, state="calibration",
                          levels=clean, comments={}, overall_comment="", inline_comments=[], calibration_id=calibration.id,
                          created_at=now, updated_at=now, revision=1)
    session.add(grade)
    session.flush()
    return grade


def _levels(rubric: dict, raw: dict) -> dict[str, int]:
    clean = {}
    for criterion in rubric["criteria"]:
        value = raw.get(criterion["id"])
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise InvalidInput(_("Falta el nivel del criterio «%(title)s».", title=criterion["title"])) from None
        if value not in range(5):
            raise InvalidInput(_("Nivel no válido en «%(title)s».", title=criterion["title"]))
        clean[criterion["id"]] = value
    return clean


def agreement(session: Session, calibration: CalibrationSession) -> Agreement:
    grades = blind_grades(session, calibration)
    rubric = session.get(RubricVersion, calibration.submission.rubric_version_id).data
    rows = []
    for criterion in rubric["criteria"]:
        levels = [g.levels[criterion["id"]] for g in grades if criterion["id"] in g.levels]
        exact, adjacent = pair_agreement(levels)
        rows.append(CriterionAgreement(criterion, levels, exact, adjacent))
    alpha = krippendorff_alpha_interval([[float(v) for v in row.levels] for row in rows])
    return Agreement(rows, alpha, len(grades))


def close_session(session: Session, calibration: CalibrationSession, *, actor, levels: dict, now: datetime) -> None:
    if calibration.state != "open":
        raise Conflict(_("Esta sesión de calibración ya está cerrada."))
    rubric = session.get(RubricVersion, calibration.submission.rubric_version_id).data
    calibration.agreed_levels = _levels(rubric, levels)
    calibration.state, calibration.closed_at = "closed", now
    session.flush()


@dataclass
class TrainerStanding:
    sessions: int = 0
    exemplars: int = 0
    exact: float | None = None
    adjacent: float | None = None
    #: criterion → mean (trainer level − agreed level)
    drift: dict[str, float] = field(default_factory=dict)
    #: month → mean signed difference, for the drift over time
    drift_by_month: dict[str, float] = field(default_factory=dict)
    qualified: bool = False
    #: why the trainer is not qualified yet (translated sentences; empty when qualified)
    missing: list[str] = field(default_factory=list)


def standing(session: Session, trainer_id: int) -> TrainerStanding:
    """A trainer's agreement with the agreed grades, drift, and qualification."""
    return standings(session, [trainer_id])[trainer_id]


def standings(session: Session, trainer_ids) -> dict[int, TrainerStanding]:
    """:func:`standing` of several trainers from one query (certification checks every grader of an agent)."""
    ids = sorted(set(trainer_ids))
    rows_by: dict[int, list] = {trainer_id: [] for trainer_id in ids}
    if ids:
        for grade, calibration in session.execute(
                select(RoleplayGrade, CalibrationSession).join(CalibrationSession, CalibrationSession.id == RoleplayGrade.calibration_id)
                .where(RoleplayGrade.grader_id.in_(ids), CalibrationSession.agreed_levels.is_not(None))
                .order_by(CalibrationSession.closed_at, CalibrationSession.id)):
            rows_by[grade.grader_id].append((grade, calibration))
    return {trainer_id: _standing(rows) for trainer_id, rows in rows_by.items()}


def _standing(rows: list) -> TrainerStanding:
    result = TrainerStanding()
    diffs: dict[str, list[int]] = defaultdict(list)
    months: dict[str, list[int]] = defaultdict(list)
    exact = adjacent = total = 0
    exemplar_ids = set()
    for grade, calibration in rows:
        result.sessions += 1
        if calibration.is_exemplar:
            exemplar_ids.add(calibration.id)
        for criterion_id, agreed in calibration.agreed_levels.items():
            if criterion_id not in grade.levels:
                continue
            diff = grade.levels[criterion_id] - agreed
            diffs[criterion_id].append(diff)
            months[(calibration.closed_at or grade.created_at).strftime("%Y-%m")].append(diff)
            total += 1
            exact += diff == 0
            adjacent += abs(diff) <= 1
    result.exemplars = len(exemplar_ids)
    if total:
        result.exact, result.adjacent = exact / total, adjacent / total
    result.drift = {k: round(sum(v) / len(v), 2) for k, v in diffs.items()}
    result.drift_by_month = {k: round(sum(v) / len(v), 2) for k, v in sorted(months.items())}
    exemplar_rows = [(g, c) for g, c in rows if c.is_exemplar]
    result.missing = qualification_gaps(exemplar_rows, len(exemplar_ids))
    result.qualified = not result.missing
    return result


def qualification_gaps(exemplar_rows: list, exemplars: int) -> list[str]:
    """What keeps a trainer from qualifying on these (grade, exemplar session) pairs; empty when qualified."""
    pairs = [(g.levels[k], agreed) for g, c in exemplar_rows for k, agreed in c.agreed_levels.items() if k in g.levels]
    gaps = []
    if exemplars < QUALIFY_MIN_EXEMPLARS or not pairs:
        gaps.append(_("Califica al menos %(n)d ejemplares.", n=QUALIFY_MIN_EXEMPLARS))
        return gaps
    agreed_levels = {agreed for _given, agreed in pairs}
    if min(agreed_levels) > FAILING_AT_MOST or max(agreed_levels) < PASSING_AT_LEAST:
        gaps.append(_("Los ejemplares calificados no cubren la escala: hace falta al menos uno con un criterio deficiente "
                      "(nivel %(low)d o menos) y uno con un criterio logrado (nivel %(high)d o más).",
                      low=FAILING_AT_MOST, high=PASSING_AT_LEAST))
    exact = sum(given == agreed for given, agreed in pairs) / len(pairs)
    adjacent = sum(abs(given - agreed) <= 1 for given, agreed in pairs) / len(pairs)
    if exact < QUALIFY_EXACT or adjacent < QUALIFY_ADJACENT:
        gaps.append(_("Coincidencia con los niveles acordados: %(exact)d%% exacta (mínimo %(min_exact)d%%) y %(adjacent)d%% a un "
                      "nivel (mínimo %(min_adjacent)d%%).", exact=round(exact * 100), min_exact=round(QUALIFY_EXACT * 100),
                      adjacent=round(adjacent * 100), min_adjacent=round(QUALIFY_ADJACENT * 100)))
    if len({given for given, _agreed in pairs}) == 1 and len(agreed_levels) > 1:
        gaps.append(_("Diste el mismo nivel a todos los criterios de todos los ejemplares."))
    missed = sum(1 for given, agreed in pairs if agreed <= FAILING_AT_MOST and given >= PASSING_AT_LEAST)
    if missed:
        gaps.append(_("Diste por logrados %(n)d criterios que el ejemplar no cumple (la trampa).", n=missed))
    return gaps


def list_sessions(session: Session) -> list[CalibrationSession]:
    return list(session.scalars(select(CalibrationSession).order_by(CalibrationSession.created_at.desc())))
