"""Requirement kinds of a certification: one evaluator per ``type``, each returning whether it is met
and the evidence it rests on."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from lms.core.templating import format_number
from lms.quizzes import services as quizzes
from lms.roleplays import services as roleplays
from lms.tracks import services as tracks


@dataclass
class Evidence:
    kind: str  # lesson | quiz_attempt | roleplay
    ref: int
    label: str
    score: float | None = None
    at: str | None = None

    def as_json(self) -> dict:
        return {"kind": self.kind, "ref": self.ref, "label": self.label, "score": self.score, "at": self.at}


@dataclass
class RequirementResult:
    requirement: dict
    met: bool
    detail: str
    evidence: list[Evidence] = field(default_factory=list)
    #: coverage requirements: {"channels": {channel: bool}, "customer_types": {type: bool}}
    grid: dict | None = None


class Context:
    """Everything the evaluators need about one agent, loaded once."""

    def __init__(self, session, user, since=None, completions: dict | None = None):
        #: recertification: only evidence dated on or after this moment counts
        self.session, self.user, self.since = session, user, since
        #: the agent's completions {lesson id: when}, when the caller already knows them (else read on first use)
        self._completions = completions
        self._released = None
        self._qualified: dict[int, bool] = {}
        self._quiz_results: dict[str, tuple] = {}
        self._lessons: dict[str, list] | None = None

    @property
    def completions(self):
        if self._completions is None:
            self._completions = tracks.completions_by_user(self.session, [self.user.id]).get(self.user.id, {})
        return self._completions

    @property
    def released(self) -> list:
        """Released role-play grades given by trainers whose grades count (qualified by calibration)."""
        if self._released is None:
            results = roleplays.released_results(self.session, self.user.id)
            graders = {r.grade.grader_id for r in results if r.grade.grader_id is not None} - set(self._qualified)
            if graders:  # every grader's calibration standing in one query
                from lms.roleplays import calibration  # with the pre-check it compares against: only where grades count

                self._qualified.update({tid: st.qualified for tid, st in calibration.standings(self.session, graders).items()})
            self._released = [r for r in results if self.counts(r.grade.grader_id)
                              and (self.since is None or (r.submission.submitted_at and r.submission.submitted_at >= self.since))]
        return self._released

    def counts(self, grader_id: int | None) -> bool:
        if grader_id is None:
            return False
        if grader_id not in self._qualified:
            from lms.roleplays import calibration

            self._qualified[grader_id] = calibration.standing(self.session, grader_id).qualified
        return self._qualified[grader_id]

    def lessons_of(self, module_slugs: list[str]) -> list:
        """The live lessons of these modules, (id, title) rows in module order (all modules read once)."""
        if self._lessons is None:
            self._lessons = tracks.live_lesson_refs_by_module(self.session)
        return [lesson for slug in module_slugs for lesson in self._lessons.get(slug, [])]

    def quiz_result(self, slug: str):
        """(quiz, the agent's result) of one quiz, loaded once however many certifications ask for it."""
        if slug not in self._quiz_results:
            quiz = quizzes.get_quiz(self.session, slug)
            self._quiz_results[slug] = (quiz, quizzes.results(self.session, [self.user.id], [quiz])[(self.user.id, quiz.id)])
        return self._quiz_results[slug]


def _lessons(ctx: Context, req: dict) -> RequirementResult:
    lessons = ctx.lessons_of(req["modules"])
    done = [lesson for lesson in lessons if lesson.id in ctx.completions]
    evidence = [Evidence("lesson", lesson.id, lesson.title, None, ctx.completions[lesson.id].isoformat()) for lesson in done]
    return RequirementResult(req, bool(lessons) and len(done) == len(lessons), f"{len(done)}/{len(lessons)}", evidence)


def _quiz(ctx: Context, req: dict) -> RequirementResult:
    quiz, result = ctx.quiz_result(req["quiz"])
    needed = max(float(quiz.settings["pass_mark"]), float(req.get("min_score") or 0))
    grade = result.grade
    graded = [a for a in result.attempts if a.state == "graded"]
    if ctx.since is not None:  # recertification: the best attempt started since the path opened
        graded = [a for a in graded if a.started_at >= ctx.since]
        grade = max((a.percent for a in graded if a.percent is not None), default=None)
    evidence = [Evidence("quiz_attempt", a.id, f"{quiz.title} · #{a.number}", a.percent, (a.graded_at or a.submitted_at).isoformat())
                for a in graded]
    met = grade is not None and grade >= needed
    return RequirementResult(req, met, f"{format_number(grade) if grade is not None else '—'} / {format_number(needed)}", evidence if met else [])


def _passing(ctx: Context, min_score: float):
    """Passed role-plays at this score, newest first (a certificate rests on the latest evidence)."""
    passing = [r for r in ctx.released if r.grade.passed and (r.grade.score or 0) >= min_score]
    return sorted(passing, key=lambda r: r.submission.submitted_at or r.grade.updated_at, reverse=True)


def _roleplay(ctx: Context, req: dict) -> RequirementResult:
    min_score = float(req.get("min_score") or roleplays.PASS_SCORE)
    matching = [r for r in _passing(ctx, min_score) if r.submission.scenario.slug in req["scenarios"]]
    evidence = [Evidence("roleplay", r.submission.id, r.submission.scenario.title, r.grade.score,
                         (r.grade.released_at or r.grade.updated_at).isoformat()) for r in matching[:1]]
    return RequirementResult(req, bool(matching), f"{len(matching)}", evidence)


def _coverage(ctx: Context, req: dict) -> RequirementResult:
    min_score = float(req.get("min_score") or roleplays.PASS_SCORE)
    passing = _passing(ctx, min_score)
    channels = {c: [r for r in passing if r.submission.scenario.channel == c] for c in req.get("channels", [])}
    types = {t: [r for r in passing if any(cu["type"] == t for cu in r.submission.scenario.data["customers"])]
             for t in req.get("customer_types", [])}
    grid = {"channels": {k: bool(v) for k, v in channels.items()}, "customer_types": {k: bool(v) for k, v in types.items()}}
    used = {id(r): r for group in (*channels.values(), *types.values()) for r in group[:1]}
    evidence = [Evidence("roleplay", r.submission.id, r.submission.scenario.title, r.grade.score,
                         (r.grade.released_at or r.grade.updated_at).isoformat()) for r in used.values()]
    met = all(grid["channels"].values()) and all(grid["customer_types"].values())
    covered = sum(grid["channels"].values()) + sum(grid["customer_types"].values())
    return RequirementResult(req, met, f"{covered}/{len(grid['channels']) + len(grid['customer_types'])}", evidence if met else [], grid)


#: requirement type → evaluator
EVALUATORS: dict[str, Callable[[Context, dict], RequirementResult]] = {
    "lessons_completed": _lessons,
    "quiz_passed": _quiz,
    "roleplay_grade": _roleplay,
    "coverage": _coverage,
}


def evaluate(ctx: Context, requirements: list[dict]) -> list[RequirementResult]:
    results = []
    for req in requirements:
        evaluator = EVALUATORS.get(req["type"])
        if evaluator is None:
            raise KeyError(f"unknown requirement type {req['type']!r}")
        results.append(evaluator(ctx, req))
    return results
