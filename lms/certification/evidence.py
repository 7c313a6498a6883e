"""The evidence check's rules and what it reads (:func:`lms.certification.services.evaluate_and_issue` runs on every
graded quiz that reaches its pass mark, completed lesson and released role-play): which certifications a piece of
evidence can change, the one statement that reads the live definitions with the agent's records, and the evaluation
of a definition's requirements that stops at the first one unmet. Importable from :mod:`lms.certification.services`."""
from __future__ import annotations

import json
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Text, bindparam, cast, exists, select

from lms.certification.models import CertificationDefinition, CertificationRecord
from lms.certification.requirements import Context, RequirementResult, evaluate
from lms.tracks.models import LessonCompletion

#: (statements built once)
_DEFINITIONS, _RECORDS = CertificationDefinition.__table__.c, CertificationRecord.__table__.c
_AGENTS_RECORD = CertificationRecord.__table__.alias("agents_record")
#: what the evidence check reads, in one statement: every live definition (its requirements as JSON text, parsed once
#: per process: :func:`parsed`) with the agent's records of it (none: one row of NULLs; their certification, status,
#: expiry and evidence), and whether the agent holds any record at all (a recertification path belongs to one)
EVIDENCE_CHECK_ROWS = (
    select(_DEFINITIONS.id, _DEFINITIONS.version, _DEFINITIONS.validity_months,
           cast(_DEFINITIONS.requirements, Text).label("requirements_json"),
           cast(_DEFINITIONS.recertification, Text).label("recertification_json"),
           _RECORDS.status, _RECORDS.expires_at, _RECORDS.evidence_hash,
           exists().where(_AGENTS_RECORD.c.user_id == bindparam("b_user_id")).label("has_records"))
    .select_from(CertificationDefinition.__table__.outerjoin(
        CertificationRecord.__table__, (_RECORDS.definition_id == _DEFINITIONS.id) & (_RECORDS.user_id == bindparam("b_user_id"))))
    .where(_DEFINITIONS.is_archived.is_(False)).order_by(_DEFINITIONS.area, _DEFINITIONS.slug))


#: whether the agent has completed any lesson, read with a quiz's submission (:func:`register_with_submissions`): an
#: agent who has completed none meets no lessons requirement, so the evidence check then reads no completions
COMPLETIONS_KEY = "any_lesson_completed"
_ANY_COMPLETION = exists().where(LessonCompletion.__table__.c.user_id == bindparam("b_user_id"))


def register_with_submissions() -> None:
    from lms.quizzes import services as quizzes

    quizzes.read_with_submission(COMPLETIONS_KEY, _ANY_COMPLETION, lambda attempt: {})


def known_completions(read_with_submission: dict | None) -> dict | None:
    """The agent's completions as far as a submission read them: none ({}) when it found that the agent has completed no
    lesson, else None (to be read)."""
    if read_with_submission is not None and not read_with_submission.get(COMPLETIONS_KEY, True):
        return {}
    return None


class LiveDefinition(NamedTuple):
    """What the evidence check and :func:`lms.certification.services._issue` need of a live definition (read as a plain row)."""
    id: int
    version: int
    validity_months: int
    requirements: list
    recertification: dict | None


@lru_cache(maxsize=256)
def parsed(text: str | None):
    """A definition's JSON column as read as text, parsed once per process (a definition's requirements change only with
    its text). Shared between requests: read, never change it."""
    return None if text is None else json.loads(text)


#: what a piece of evidence is → the requirement types it can change (a lesson completed, a role-play grade
#: released); a graded quiz attempt changes only the "quiz_passed" requirements of its own quiz
EVIDENCE_REQUIREMENTS = {"lesson": ("lessons_completed",), "roleplay": ("roleplay_grade", "coverage")}


def could_change(requirements: list[dict], evidence: tuple[str, str | None] | None) -> bool:
    """Whether ``evidence`` — ("quiz", slug), ("lesson", None), ("roleplay", None), or None for "anything" — can
    change whether these requirements are met. Requirements read nothing else (lessons completed, the agent's
    results in named quizzes, released role-play grades), so evidence of another kind cannot."""
    if evidence is None:
        return True
    kind, ref = evidence
    if kind == "quiz":
        return any(r["type"] == "quiz_passed" and r.get("quiz") == ref for r in requirements)
    return any(r["type"] in EVIDENCE_REQUIREMENTS[kind] for r in requirements)


def attempt_evidence(attempt) -> tuple[str, str] | None:
    """The evidence a graded quiz attempt brings: ("quiz", its quiz's slug), or None when it cannot make any requirement
    newly met, so that nothing is evaluated for it.

    A "quiz_passed" requirement reads the agent's grade in its quiz by the quiz's grade method (highest, last or average
    of the graded attempts) — on a recertification path, their best attempt since the path opened — against the quiz's
    pass mark (or the requirement's higher ``min_score``). An attempt graded below the quiz's pass mark raises none of
    these to it: the highest and the best stay where they were, the last is this attempt, and an average below the mark
    stays below it. Like evidence a requirement does not read (:func:`could_change`), it evaluates nothing: a
    certification whose requirements were met without being issued (a definition added or edited since) is issued by
    the next evidence that can change it, or by ``flask --app lms certification evaluate``."""
    quiz = attempt.quiz
    if attempt.percent is not None and attempt.percent < float(quiz.settings["pass_mark"]):
        return None
    return ("quiz", quiz.slug)


def met_results(ctx: Context, requirements: list[dict]) -> list[RequirementResult] | None:
    """Every requirement's result, in their order, when all are met; None at the first one that is not.

    Cheap kinds are evaluated first (lessons: the agent's completions, then the lessons when there are any; a quiz: two;
    role-plays: the agent's released grades and their graders' calibration), so an agent who has not finished the lessons
    costs one or two queries."""
    order = sorted(range(len(requirements)), key=lambda i: REQUIREMENT_COST.get(requirements[i]["type"], len(REQUIREMENT_COST)))
    results: list[RequirementResult | None] = [None] * len(requirements)
    for i in order:
        if requirements[i]["type"] == "lessons_completed" and not ctx.completions:
            return None  # no lesson completed: unmet whatever its lessons are (they are not read)
        result = evaluate(ctx, [requirements[i]])[0]
        if not result.met:
            return None
        results[i] = result
    return results  # type: ignore[return-value]


#: requirement type → its evaluation's relative cost (met_results evaluates the cheapest first)
REQUIREMENT_COST = {"lessons_completed": 0, "quiz_passed": 1, "roleplay_grade": 2, "coverage": 2}
