"""Rules about tracks: enrolling, completing lessons, due dates and progress.

Plain functions; ``today``/``now`` are arguments; they flush, never commit.
"""
from __future__ import annotations

import enum
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.core.errors import Forbidden, InvalidInput, NotFound
from lms.quizzes import services as quizzes
from lms.tracks import signals
from lms.tracks.models import Enrollment, Lesson, LessonCompletion, Module, Track, TrackModule


#: Notices for the agent's home page from the domains above tracks: fn(session, user, now) → [(text, url)]
HOME_NOTICES: list = []


class LessonState(str, enum.Enum):
    done = "done"
    overdue = "overdue"
    due_today = "due_today"
    open = "open"  # its module has opened, due later
    upcoming = "upcoming"  # its module has not opened yet


class TrackState(str, enum.Enum):
    not_started = "not_started"
    on_track = "on_track"
    #: something is past due, but by no more than BEHIND_GRACE_DAYS
    behind = "behind"
    #: something is past due by more than BEHIND_GRACE_DAYS
    overdue = "overdue"
    completed = "completed"


#: house rule: up to this many days late an agent is "behind"; later, "overdue"
BEHIND_GRACE_DAYS = 2


@dataclass
class LessonStatus:
    lesson: Lesson
    due_date: date
    completed_at: datetime | None
    state: LessonState
    kind = "lesson"

    @property
    def title(self) -> str:
        return self.lesson.title

    @property
    def slug(self) -> str:
        return self.lesson.slug

    @property
    def minutes(self) -> int | None:
        return self.lesson.minutes


@dataclass
class QuizStatus:
    """A quiz as a step of a module: done when passed."""

    quiz: object  # lms.quizzes.models.Quiz
    due_date: date
    result: object  # lms.quizzes.services.Standing
    state: LessonState
    kind = "quiz"

    @property
    def title(self) -> str:
        return self.quiz.title

    @property
    def slug(self) -> str:
        return self.quiz.slug

    @property
    def minutes(self) -> int | None:
        return self.quiz.settings.get("time_limit_minutes")


@dataclass
class ModuleProgress:
    module: Module
    start_date: date
    due_date: date
    lessons: list[LessonStatus]
    quizzes: list[QuizStatus] = field(default_factory=list)

    @property
    def steps(self) -> list:
        return [*self.lessons, *self.quizzes]

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def done(self) -> int:
        return sum(1 for s in self.steps if s.state is LessonState.done)

    @property
    def percent(self) -> int:
        return _percent(self.done, self.total)

    @property
    def overdue(self) -> int:
        return sum(1 for s in self.steps if s.state is LessonState.overdue)


@dataclass
class TrackProgress:
    enrollment: Enrollment
    track: Track
    modules: list[ModuleProgress]
    today: date
    last_activity_at: datetime | None = None

    @property
    def lessons(self) -> list[LessonStatus]:
        return [s for m in self.modules for s in m.lessons]

    @property
    def quizzes(self) -> list[QuizStatus]:
        return [s for m in self.modules for s in m.quizzes]

    @property
    def steps(self) -> list:
        return sorted((s for m in self.modules for s in m.steps), key=lambda s: s.due_date)

    @property
    def total(self) -> int:
        return sum(m.total for m in self.modules)

    @property
    def done(self) -> int:
        return sum(m.done for m in self.modules)

    @property
    def percent(self) -> int:
        return _percent(self.done, self.total)

    @property
    def overdue(self) -> list:
        return [s for s in self.steps if s.state is LessonState.overdue]

    @property
    def due_today(self) -> list:
        return [s for s in self.steps if s.state is LessonState.due_today]

    @property
    def next_up(self) -> list:
        """Open lessons and quizzes not yet due, soonest first."""
        return [s for s in self.steps if s.state is LessonState.open]

    @property
    def end_date(self) -> date:
        return max((m.due_date for m in self.modules), default=self.enrollment.start_date)

    @property
    def state(self) -> TrackState:
        if self.total and self.done == self.total:
            return TrackState.completed
        if self.today < self.enrollment.start_date:
            return TrackState.not_started
        late = self.overdue
        if late:
            worst = max((self.today - step.due_date).days for step in late)
            return TrackState.overdue if worst > BEHIND_GRACE_DAYS else TrackState.behind
        return TrackState.on_track


def _percent(done: int, total: int) -> int:
    return int(done * 100 / total) if total else 0


# Reading the catalogue -----------------------------------------------------

def list_tracks(session: Session) -> list[Track]:
    return list(session.scalars(
        select(Track).where(Track.is_archived.is_(False)).order_by(Track.title)
        .options(selectinload(Track.track_modules).selectinload(TrackModule.module).selectinload(Module.lessons))
    ))


def get_track(session: Session, slug: str) -> Track:
    track = session.scalar(
        select(Track).where(Track.slug == slug, Track.is_archived.is_(False))
        .options(selectinload(Track.track_modules).selectinload(TrackModule.module).selectinload(Module.lessons))
    )
    if track is None:
        raise NotFound(_("Ese itinerario no existe."))
    return track


def find_track(session: Session, slug: str) -> Track | None:
    return session.scalar(select(Track).where(Track.slug == slug, Track.is_archived.is_(False)))


def get_lesson(session: Session, slug: str) -> Lesson:
    lesson = session.scalar(select(Lesson).where(Lesson.slug == slug).options(selectinload(Lesson.module)))
    if lesson is None:
        raise NotFound(_("Esa lección no existe."))
    return lesson


def _live_lessons(module: Module) -> list[Lesson]:
    return [lesson for lesson in module.lessons if not lesson.is_archived]


# Progress -----------------------------------------------------------------

def _enrollments_query():
    return select(Enrollment).options(
        selectinload(Enrollment.track).selectinload(Track.track_modules)
        .selectinload(TrackModule.module).selectinload(Module.lessons)
    )


def enrollments_of(session: Session, user: User) -> list[Enrollment]:
    return list(session.scalars(
        _enrollments_query().where(Enrollment.user_id == user.id).order_by(Enrollment.start_date, Enrollment.id)
    ))


def _state(done: bool, opens: date, due: date, today: date) -> LessonState:
    if done:
        return LessonState.done
    if due < today:
        return LessonState.overdue
    if due == today:
        return LessonState.due_today
    if opens <= today:
        return LessonState.open
    return LessonState.upcoming


def build_progress(enrollment: Enrollment, completions: dict[int, datetime], today: date,
                   quizzes: dict[str, list] | None = None, quiz_results: dict | None = None) -> TrackProgress:
    """Progress of one enrollment from the agent's completions ``{lesson_id: completed_at}``,
    the quizzes of each module ``{module_slug: [Quiz]}`` and the agent's standings ``{quiz_id: quizzes.Standing}``."""
    modules = []
    start = enrollment.start_date
    last = max(completions.values(), default=None)
    for tm in enrollment.track.track_modules:
        opens = start + timedelta(days=tm.start_day)
        statuses = []
        for lesson in _live_lessons(tm.module):
            due = opens + timedelta(days=lesson.day)
            completed_at = completions.get(lesson.id)
            statuses.append(LessonStatus(lesson, due, completed_at, _state(completed_at is not None, opens, due, today)))
        quiz_statuses = []
        for quiz in (quizzes or {}).get(tm.module.slug, []):
            due = opens + timedelta(days=quiz.day or 0)
            result = (quiz_results or {}).get(quiz.id)
            passed = bool(result and result.passed)
            quiz_statuses.append(QuizStatus(quiz, due, result, _state(passed, opens, due, today)))
            moment = result.last_activity_at if result else None
            if moment is not None and (last is None or moment > last):
                last = moment
        modules.append(ModuleProgress(tm.module, opens, start + timedelta(days=tm.due_day), statuses, quiz_statuses))
    return TrackProgress(enrollment, enrollment.track, modules, today, last)


def _quiz_context(session: Session, enrollments: list[Enrollment], user_ids: list[int]):
    """The quizzes of the enrolled tracks' modules and every user's standing in them (from the summaries): two queries."""
    slugs = sorted({tm.module.slug for e in enrollments for tm in e.track.track_modules})
    quiz_list = quizzes.quizzes_for_modules(session, slugs)
    by_module: dict[str, list] = defaultdict(list)
    for quiz in quiz_list:
        by_module[quiz.module_slug].append(quiz)
    results = quizzes.standings(session, user_ids, quiz_list)
    return by_module, results


def completions_by_user(session: Session, user_ids: list[int]) -> dict[int, dict[int, datetime]]:
    result: dict[int, dict[int, datetime]] = defaultdict(dict)
    if not user_ids:
        return result
    rows = session.execute(
        select(LessonCompletion.user_id, LessonCompletion.lesson_id, LessonCompletion.completed_at)
        .where(LessonCompletion.user_id.in_(user_ids))
    )
    for user_id, lesson_id, completed_at in rows:
        result[user_id][lesson_id] = completed_at
    return result


def progress_for_user(session: Session, user: User, today: date) -> list[TrackProgress]:
    enrollments = enrollments_of(session, user)
    completions = completions_by_user(session, [user.id]).get(user.id, {})
    by_module, results = _quiz_context(session, enrollments, [user.id])
    mine = {quiz_id: result for (user_id, quiz_id), result in results.items() if user_id == user.id}
    return [build_progress(e, completions, today, by_module, mine) for e in enrollments]


@dataclass
class AgentRow:
    """One line of a team overview: an agent and their progress in each track."""

    agent: User
    progress: list[TrackProgress] = field(default_factory=list)

    @property
    def state(self) -> str:
        states = [p.state for p in self.progress]
        if not states:
            return "not_enrolled"
        for s in (TrackState.overdue, TrackState.behind, TrackState.on_track, TrackState.not_started):
            if s in states:
                return s.value
        return TrackState.completed.value


def team_overview(session: Session, agents: list[User], today: date) -> list[AgentRow]:
    """Progress of many agents with a fixed number of queries."""
    ids = [a.id for a in agents]
    rows = {a.id: AgentRow(a) for a in agents}
    if not ids:
        return []
    enrollments = list(session.scalars(_enrollments_query().where(Enrollment.user_id.in_(ids)).order_by(Enrollment.start_date)))
    completions = completions_by_user(session, ids)
    by_module, results = _quiz_context(session, enrollments, ids)
    per_user: dict[int, dict] = defaultdict(dict)
    for (user_id, quiz_id), result in results.items():
        per_user[user_id][quiz_id] = result
    for enrollment in enrollments:
        rows[enrollment.user_id].progress.append(
            build_progress(enrollment, completions.get(enrollment.user_id, {}), today, by_module, per_user[enrollment.user_id]))
    return list(rows.values())


# Access --------------------------------------------------------------------

def lesson_visible_to(session: Session, lesson: Lesson, user: User) -> bool:
    """Staff see every lesson; an agent sees live lessons of the tracks they are enrolled in."""
    if user.role in ("trainer", "manager", "admin"):
        return True
    if lesson.is_archived:
        return False
    return session.scalar(
        select(Enrollment.id)
        .join(TrackModule, TrackModule.track_id == Enrollment.track_id)
        .where(Enrollment.user_id == user.id, TrackModule.module_id == lesson.module_id)
        .limit(1)
    ) is not None


def visible_lesson_slugs(session: Session, user: User, slugs: set[str]) -> set[str]:
    """Which of these lessons the user may open (one query)."""
    if user.role in ("trainer", "manager", "admin"):
        return set(slugs)
    return set(session.scalars(
        select(Lesson.slug)
        .join(TrackModule, TrackModule.module_id == Lesson.module_id)
        .join(Enrollment, Enrollment.track_id == TrackModule.track_id)
        .where(Enrollment.user_id == user.id, Lesson.slug.in_(slugs), Lesson.is_archived.is_(False))
    ))


def may_take_quiz(session: Session, user: User, quiz) -> bool:
    """An agent may take a quiz of a module that is in one of their tracks."""
    if user.role != "agent" or not quiz.module_slug:
        return False
    return session.scalar(
        select(Enrollment.id)
        .join(TrackModule, TrackModule.track_id == Enrollment.track_id)
        .join(Module, Module.id == TrackModule.module_id)
        .where(Enrollment.user_id == user.id, Module.slug == quiz.module_slug)
        .limit(1)
    ) is not None


def completion_of(session: Session, user: User, lesson: Lesson) -> LessonCompletion | None:
    return session.scalar(
        select(LessonCompletion).where(LessonCompletion.user_id == user.id, LessonCompletion.lesson_id == lesson.id)
    )


def complete_lesson(session: Session, user: User, lesson: Lesson, *, now: datetime) -> tuple[LessonCompletion, bool]:
    """Mark a lesson complete for an enrolled agent. Idempotent: returns (completion, created)."""
    if user.role != "agent" or not lesson_visible_to(session, lesson, user):
        raise Forbidden(_("Solo los agentes inscritos en esta lección pueden completarla."))
    existing = completion_of(session, user, lesson)
    if existing is not None:
        return existing, False
    completion = LessonCompletion(user_id=user.id, lesson_id=lesson.id, completed_at=now)
    session.add(completion)
    session.flush()
    signals.lesson_completed.send(session, user_id=user.id, lesson_id=lesson.id, now=now)
    return completion, True


def neighbours(track: Track, lesson: Lesson) -> tuple[Lesson | None, Lesson | None]:
    """The lessons before and after ``lesson`` in the track's reading order."""
    ordered = [lesson_ for tm in track.track_modules for lesson_ in _live_lessons(tm.module)]
    for index, candidate in enumerate(ordered):
        if candidate.id == lesson.id:
            previous = ordered[index - 1] if index > 0 else None
            following = ordered[index + 1] if index + 1 < len(ordered) else None
            return previous, following
    return None, None


# Enrollment ------------------------------------------------------------------

_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_start_date(raw: str) -> date:
    """AAAA-MM-DD (or DD/MM/AAAA, as Spanish spreadsheets write it)."""
    raw = (raw or "").strip()
    try:
        match = _DMY.match(raw)
        if match:
            return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(_("Fecha de inicio no válida «%(raw)s»: usa el formato AAAA-MM-DD, por ejemplo 2026-12-01.", raw=raw)) from None


def may_enroll(session: Session, actor: User, agent: User) -> bool:
    if agent.role != "agent":
        return False
    if actor.role == "admin":
        return True
    return actor.role == "manager" and accounts.can_supervise(session, actor, agent)


class EnrollOutcome(str, enum.Enum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"


def enroll(session: Session, *, actor: User, agent: User, track: Track, start_date: date, now: datetime) -> tuple[Enrollment, EnrollOutcome]:
    """Enroll ``agent`` in ``track`` from ``start_date``; re-enrolling changes the start date."""
    if agent.role != "agent":
        raise InvalidInput(_("Solo se puede inscribir a agentes; %(email)s no es agente.", email=agent.email))
    if not may_enroll(session, actor, agent):
        raise Forbidden(_("No gestionas el equipo de %(email)s.", email=agent.email))
    if start_date.year < 2000 or start_date.year > 2100:
        raise InvalidInput(_("Fecha de inicio fuera de rango: %(date)s.", date=start_date.isoformat()))
    existing = session.scalar(select(Enrollment).where(Enrollment.user_id == agent.id, Enrollment.track_id == track.id))
    if existing is not None:
        if existing.start_date == start_date:
            return existing, EnrollOutcome.unchanged
        existing.start_date = start_date
        existing.updated_at = now
        session.flush()
        return existing, EnrollOutcome.updated
    enrollment = Enrollment(user_id=agent.id, track_id=track.id, start_date=start_date, enrolled_by_id=actor.id,
                            created_at=now, updated_at=now)
    session.add(enrollment)
    session.flush()
    return enrollment, EnrollOutcome.created


def unenroll(session: Session, *, actor: User, enrollment: Enrollment) -> None:
    agent = session.get(User, enrollment.user_id)
    if agent is None or not may_enroll(session, actor, agent):
        raise Forbidden(_("No gestionas el equipo de este agente."))
    session.delete(enrollment)  # completions belong to the agent and stay
    session.flush()


def import_enrollments_csv(session: Session, text: str, *, actor: User, now: datetime, skip_invalid: bool = False) -> accounts.CsvImportResult:
    """Enroll agents from CSV ``email,track,start_date``: all-or-nothing unless ``skip_invalid``."""
    result = accounts.CsvImportResult()
    rows, header_problems = accounts.read_csv(text, ("email", "track", "start_date"))
    if header_problems:
        result.errors, result.rolled_back = header_problems, True
        return result
    outer = session.begin_nested()
    seen: dict[tuple[str, str], int] = {}
    for line, row in rows:
        try:
            with session.begin_nested():
                agent = accounts.find_user_by_email(session, row["email"])
                if agent is None:
                    raise InvalidInput(_("No existe ningún usuario con el correo «%(email)s».", email=row["email"]))
                track = find_track(session, row["track"])
                if track is None:
                    raise InvalidInput(_("Itinerario desconocido «%(track)s».", track=row["track"]))
                key = (agent.email, track.slug)
                if key in seen:
                    raise InvalidInput(_("Fila repetida: ya aparece en la línea %(line)d.", line=seen[key]))
                seen[key] = line
                start = parse_start_date(row["start_date"])
                enroll(session, actor=actor, agent=agent, track=track, start_date=start, now=now)
                result.imported += 1
        except (InvalidInput, Forbidden) as exc:
            result.errors.append((line, str(exc)))
    if result.errors and not skip_invalid:
        outer.rollback()
        result.rolled_back, result.imported = True, 0
    else:
        outer.commit()
    return result


# Calendar --------------------------------------------------------------------

@dataclass
class CalendarDay:
    day: date
    items: list[LessonStatus]
    in_track: bool


def calendar_weeks(progress: TrackProgress) -> list[list[CalendarDay]]:
    """Monday-first weeks from the start date to the end of the track, lessons on their due day."""
    by_day: dict[date, list] = defaultdict(list)
    for status in progress.steps:
        by_day[status.due_date].append(status)
    start = progress.enrollment.start_date
    end = progress.end_date
    first = start - timedelta(days=start.weekday())
    last = end + timedelta(days=6 - end.weekday())
    weeks, week = [], []
    day = first
    while day <= last:
        week.append(CalendarDay(day, by_day.get(day, []), start <= day <= end))
        if len(week) == 7:
            weeks.append(week)
            week = []
        day += timedelta(days=1)
    return weeks


def live_lessons_by_module(session: Session, module_slugs: list[str]) -> dict[str, list[Lesson]]:
    """The live lessons of these modules (for requirements such as 'every lesson of week 1')."""
    out: dict[str, list[Lesson]] = {slug: [] for slug in module_slugs}
    if not module_slugs:
        return out
    for slug, lesson in session.execute(
        select(Module.slug, Lesson).join(Lesson, Lesson.module_id == Module.id)
        .where(Module.slug.in_(module_slugs), Lesson.is_archived.is_(False)).order_by(Lesson.position)
    ):
        out[slug].append(lesson)
    return out


def module_titles(session: Session) -> dict[str, str]:
    """slug → title of every module (one query)."""
    return dict(session.execute(select(Module.slug, Module.title)).all())


def module_slugs_of(session: Session, user: User) -> list[str]:
    """The modules of every track the user is enrolled in (one query)."""
    return list(session.scalars(
        select(Module.slug).join(TrackModule, TrackModule.module_id == Module.id)
        .join(Enrollment, Enrollment.track_id == TrackModule.track_id).where(Enrollment.user_id == user.id).distinct()
    ))


# For integrations (the REST API) ---------------------------------------------------

def enrollments_query(*, user_id: int | None = None, user_ids=None, track_slug: str | None = None):
    """A select() of enrollments with their track (``user_ids``: a select of ids, e.g. a team's agents)."""
    stmt = select(Enrollment).options(selectinload(Enrollment.track))
    if user_id is not None:
        stmt = stmt.where(Enrollment.user_id == user_id)
    if user_ids is not None:
        stmt = stmt.where(Enrollment.user_id.in_(user_ids))
    if track_slug:
        stmt = stmt.where(Enrollment.track_id.in_(select(Track.id).where(Track.slug == track_slug)))
    return stmt


def get_enrollment(session: Session, enrollment_id: int) -> Enrollment:
    enrollment = session.scalar(enrollments_query().where(Enrollment.id == enrollment_id))
    if enrollment is None:
        raise NotFound(_("Esa inscripción no existe."))
    return enrollment


def enroll_for_organisation(session: Session, *, agent: User, track: Track, start_date: date,
                            now: datetime) -> tuple[Enrollment, EnrollOutcome]:
    """Enroll as the organisation does through an integration (an admin's reach, no acting person):
    same rules as :func:`enroll`; re-enrolling changes the start date."""
    if agent.role != "agent":
        raise InvalidInput(_("Solo se puede inscribir a agentes; %(email)s no es agente.", email=agent.email))
    if start_date.year < 2000 or start_date.year > 2100:
        raise InvalidInput(_("Fecha de inicio fuera de rango: %(date)s.", date=start_date.isoformat()))
    existing = session.scalar(select(Enrollment).where(Enrollment.user_id == agent.id, Enrollment.track_id == track.id))
    if existing is not None:
        if existing.start_date == start_date:
            return existing, EnrollOutcome.unchanged
        existing.start_date, existing.updated_at = start_date, now
        session.flush()
        return existing, EnrollOutcome.updated
    enrollment = Enrollment(user_id=agent.id, track_id=track.id, start_date=start_date, enrolled_by_id=None,
                            created_at=now, updated_at=now)
    session.add(enrollment)
    session.flush()
    return enrollment, EnrollOutcome.created


def tracks_with_module(session: Session, module_slug: str) -> list[Track]:
    """Live tracks that contain the module, the one where it comes earliest first (then by title)."""
    return list(session.scalars(
        select(Track).join(TrackModule, TrackModule.track_id == Track.id).join(Module, Module.id == TrackModule.module_id)
        .where(Module.slug == module_slug, Track.is_archived.is_(False))
        .order_by(TrackModule.position, Track.title, Track.id)
    ))
