"""Rules about tracks: enrolling, completing lessons, due dates and progress.

Plain functions; ``today``/``now`` are arguments; they flush, never commit.
"""
from __future__ import annotations

import enum
import json
import re
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import Text, bindparam, cast, select
from sqlalchemy.orm import Session, selectinload, undefer

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.core.db import any_of
from lms.core.errors import Forbidden, InvalidInput, NotFound
from lms.quizzes import services as quizzes
from lms.tracks import signals
from lms.tracks.calendar import WorkCalendar, calendars_for, due_date
from lms.tracks.models import Enrollment, EnrollmentProgress, Lesson, LessonCompletion, Module, Track, TrackModule


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


#: Monday to Friday, no holidays: the calendar of a progress built without one
WEEKDAYS = WorkCalendar()

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
    lesson = session.scalar(select(Lesson).where(Lesson.slug == slug).options(selectinload(Lesson.module), undefer(Lesson.html)))
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
                   quizzes: dict[str, list] | None = None, quiz_results: dict | None = None,
                   calendar: WorkCalendar = WEEKDAYS) -> TrackProgress:
    """Progress of one enrollment from the agent's completions ``{lesson_id: completed_at}``,
    the quizzes of each module ``{module_slug: [Quiz]}`` and the agent's standings ``{quiz_id: quizzes.Standing}``;
    due dates count the agent's working days (:func:`lms.tracks.calendar.due_date`)."""
    modules = []
    start = enrollment.start_date
    last = max(completions.values(), default=None)
    for tm in enrollment.track.track_modules:
        opens = due_date(start, tm.start_day, calendar)
        statuses = []
        for lesson in _live_lessons(tm.module):
            due = due_date(start, tm.start_day + lesson.day, calendar)
            completed_at = completions.get(lesson.id)
            statuses.append(LessonStatus(lesson, due, completed_at, _state(completed_at is not None, opens, due, today)))
        quiz_statuses = []
        for quiz in (quizzes or {}).get(tm.module.slug, []):
            due = due_date(start, tm.start_day + (quiz.day or 0), calendar)
            result = (quiz_results or {}).get(quiz.id)
            passed = bool(result and result.passed)
            quiz_statuses.append(QuizStatus(quiz, due, result, _state(passed, opens, due, today)))
            moment = result.last_activity_at if result else None
            if moment is not None and (last is None or moment > last):
                last = moment
        modules.append(ModuleProgress(tm.module, opens, due_date(start, tm.due_day, calendar), statuses, quiz_statuses))
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


_COMPLETIONS = LessonCompletion.__table__.c
#: the agents' lesson completions, built once and read as plain rows of the table's Core columns (no ORM execution):
#: it runs on every graded quiz, through certification's evidence check
_COMPLETIONS_OF = (select(_COMPLETIONS.user_id, _COMPLETIONS.lesson_id, _COMPLETIONS.completed_at)
                   .where(_COMPLETIONS.user_id.in_(bindparam("b_user_ids", expanding=True))))


def completions_by_user(session: Session, user_ids: list[int]) -> dict[int, dict[int, datetime]]:
    result: dict[int, dict[int, datetime]] = defaultdict(dict)
    if not user_ids:
        return result
    rows = session.connection().execute(_COMPLETIONS_OF, {"b_user_ids": list(user_ids)})  # (Core: no ORM execution)
    for user_id, lesson_id, completed_at in rows:
        result[user_id][lesson_id] = completed_at
    return result


def progress_for_user(session: Session, user: User, today: date) -> list[TrackProgress]:
    enrollments = enrollments_of(session, user)
    completions = completions_by_user(session, [user.id]).get(user.id, {})
    by_module, results = _quiz_context(session, enrollments, [user.id])
    mine = {quiz_id: result for (user_id, quiz_id), result in results.items() if user_id == user.id}
    calendar = calendars_for(session, [user.id])[user.id]
    return [build_progress(e, completions, today, by_module, mine, calendar) for e in enrollments]


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
    calendars = calendars_for(session, ids)
    for enrollment in enrollments:
        rows[enrollment.user_id].progress.append(
            build_progress(enrollment, completions.get(enrollment.user_id, {}), today, by_module, per_user[enrollment.user_id],
                           calendars[enrollment.user_id]))
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
    refresh_progress(session, [user.id], now=now)
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
        refresh_progress(session, [agent.id], now=now)
        return existing, EnrollOutcome.updated
    enrollment = Enrollment(user_id=agent.id, track_id=track.id, start_date=start_date, enrolled_by_id=actor.id,
                            created_at=now, updated_at=now)
    session.add(enrollment)
    session.flush()
    refresh_progress(session, [agent.id], now=now)
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
    #: the organisation's name for it when it is a non-working day (nothing falls due on it)
    holiday: str | None = None


def calendar_weeks(progress: TrackProgress, holidays: dict[date, str] | None = None) -> list[list[CalendarDay]]:
    """Monday-first weeks from the start date to the end of the track, lessons on their due day, holidays named."""
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
        week.append(CalendarDay(day, by_day.get(day, []), start <= day <= end, (holidays or {}).get(day)))
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


def live_lesson_refs_by_module(session: Session) -> dict[str, list]:
    """module slug → its live lessons as (id, title) rows, in order: every module in one light query
    (no bodies), for checks that run on every graded attempt such as certification requirements."""
    out: dict[str, list] = {}
    for row in session.execute(
        select(Module.slug, Lesson.id, Lesson.title).join(Lesson, Lesson.module_id == Module.id)
        .where(Lesson.is_archived.is_(False)).order_by(Lesson.position, Lesson.id)
    ):
        out.setdefault(row.slug, []).append(row)
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
        refresh_progress(session, [agent.id], now=now)
        return existing, EnrollOutcome.updated
    enrollment = Enrollment(user_id=agent.id, track_id=track.id, start_date=start_date, enrolled_by_id=None,
                            created_at=now, updated_at=now)
    session.add(enrollment)
    session.flush()
    refresh_progress(session, [agent.id], now=now)
    return enrollment, EnrollOutcome.created


def tracks_with_module(session: Session, module_slug: str) -> list[Track]:
    """Live tracks that contain the module, the one where it comes earliest first (then by title)."""
    return list(session.scalars(
        select(Track).join(TrackModule, TrackModule.track_id == Track.id).join(Module, Module.id == TrackModule.module_id)
        .where(Module.slug == module_slug, Track.is_archived.is_(False))
        .order_by(TrackModule.position, Track.title, Track.id)
    ))


# Progress summaries (enrollment_progress) ---------------------------------------------------------
#
# One row per enrollment with what dashboards need, rewritten in the transaction of every change that moves it:
# a lesson completed (complete_lesson), a quiz standing written (quizzes.signals.standing_changed, connected in
# lms.tracks.register), an enrollment created or its start date moved (enroll), the track content synced (the
# "progress" content loader). Nothing stored depends on today's date: "overdue" and "behind" are decided when read.

def _done_day(step, start: date) -> int | None:
    """The day (offset from the start date) a step was done: a lesson completed, a quiz first passed."""
    if step.kind == "lesson":
        moment = step.completed_at
    else:
        moment = step.result.first_passed_at if step.result else None
    return None if moment is None else (moment.date() - start).days


def summary_values(progress: TrackProgress) -> dict:
    """The enrollment_progress columns of one enrollment's progress (whatever ``progress.today`` is)."""
    start = progress.enrollment.start_date
    steps = progress.steps
    leading = 0
    for module in progress.modules:
        if module.done != module.total:
            break
        leading += 1
    return {
        "user_id": progress.enrollment.user_id, "track_id": progress.enrollment.track_id, "start_date": start,
        "end_date": progress.end_date, "steps_total": len(steps), "steps_done": sum(1 for s in steps if s.state is LessonState.done),
        "modules_total": len(progress.modules), "modules_done_in_order": leading,
        "first_pending_due": min((s.due_date for s in steps if s.state is not LessonState.done), default=None),
        "pending_days": sorted((s.due_date - start).days for s in steps if s.state is not LessonState.done),
        "due_days": sorted((s.due_date - start).days for s in steps),
        "done_days": sorted(d for d in (_done_day(s, start) for s in steps) if d is not None),
        "quiz_grades": {str(q.quiz.id): q.result.grade for q in progress.quizzes if q.result is not None and q.result.grade is not None},
        "last_activity_at": progress.last_activity_at,
    }


def _progress_of(session: Session, enrollments: list[Enrollment]) -> list[TrackProgress]:
    ids = sorted({e.user_id for e in enrollments})
    completions = completions_by_user(session, ids)
    by_module, results = _quiz_context(session, enrollments, ids)
    per_user: dict[int, dict] = defaultdict(dict)
    for (user_id, quiz_id), result in results.items():
        per_user[user_id][quiz_id] = result
    calendars = calendars_for(session, ids)
    return [build_progress(e, completions.get(e.user_id, {}), e.start_date, by_module, per_user[e.user_id], calendars[e.user_id])
            for e in enrollments]


def refresh_progress(session: Session, user_ids: list[int], *, now: datetime) -> int:
    """Rewrite the summary rows of these agents' enrollments (a fixed number of queries); returns the rows written.
    The enrollments are locked first (FOR UPDATE on PostgreSQL), so two changes for the same agent at the same moment
    are summarised one after the other, the second one seeing the first."""
    if not user_ids:
        return 0
    session.flush()
    enrollments = list(session.scalars(_enrollments_query().where(Enrollment.user_id.in_(user_ids))
                                       .order_by(Enrollment.id).with_for_update(of=Enrollment)))
    if not enrollments:
        return 0
    existing = {row.enrollment_id: row for row in session.scalars(
        select(EnrollmentProgress).where(EnrollmentProgress.enrollment_id.in_([e.id for e in enrollments])))}
    for progress in _progress_of(session, enrollments):
        values = summary_values(progress)
        row = existing.get(progress.enrollment.id)
        if row is None:
            session.add(EnrollmentProgress(enrollment_id=progress.enrollment.id, updated_at=now, **values))
            continue
        changed = False
        for key, value in values.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
                changed = True
        if changed:
            row.updated_at = now
    session.flush()
    return len(enrollments)


#: the name of the activity's move in PostgreSQL's statement that submits (:func:`activity_with_submission`)
ACTIVITY_WITH_SUBMISSION = "tracks_activity"


def _on_standing_changed(session: Session, user_id: int, quiz, last_activity_at=None, grade_changed: bool = True,
                         before=None, after=None, written_with_submission=frozenset(), **_kw) -> None:
    """A quiz standing moved: move the agent's summaries by its grade and pass (``before`` → ``after``, see
    :mod:`lms.tracks.progress_moves`), or rewrite them where that cannot be done exactly; if only its activity moved
    (an attempt started, saved, abandoned, or submitted without a better grade), move last_activity_at forward in one
    statement, unless the submission's own statement did (:func:`activity_with_submission`)."""
    from lms.core.clock import now_utc
    from lms.tracks.progress_moves import move_by_standing

    if not quiz.module_slug or quiz.is_archived:
        return  # no step of any track
    if grade_changed:
        if before is None or after is None or not move_by_standing(session, user_id, quiz, before, after, now=now_utc()):
            refresh_progress(session, [user_id], now=now_utc())
    elif last_activity_at is not None and ACTIVITY_WITH_SUBMISSION not in written_with_submission:
        session.execute(_activity_statement(), {"b_user_id": user_id, "b_module_slug": quiz.module_slug,
                                                "b_last_activity_at": last_activity_at, "b_updated_at": now_utc()})


@lru_cache(maxsize=1)
def _activity_statement():
    """UPDATE of last_activity_at, forward only, in the agent's summaries whose track holds the module (a Core statement
    built once: nothing loaded is synchronised)."""
    return _activity_update("b_last_activity_at", "b_updated_at")


def _activity_update(moment_name: str, updated_name: str):
    """The activity's UPDATE, its moment and its updated_at bound as these parameters."""
    from sqlalchemy import bindparam, func, true, update

    from lms.core.db import UTCDateTime

    # on the tables' columns, not the mapped attributes: a statement without ORM entities runs without the ORM's
    # bulk-update step, which copies the statement and computes its cache key again on every execution
    # (short aliases: PostgreSQL's statement that submits holds it, and its text must stay short, see
    # lms.quizzes.submission.submit_and_write_statement)
    progress, track_modules, modules = EnrollmentProgress.__table__.alias("p"), TrackModule.__table__.alias("tm"), Module.__table__.alias("m")
    tracks_with_quiz = (select(track_modules.c.track_id).join(modules, modules.c.id == track_modules.c.module_id)
                        .where(modules.c.slug == bindparam("b_module_slug")))
    moment = bindparam(moment_name, type_=UTCDateTime())
    return (update(progress).where(progress.c.user_id == bindparam("b_user_id"), progress.c.track_id.in_(tracks_with_quiz),
                                   func.coalesce(progress.c.last_activity_at < moment, true()))  # (NULL: none yet)
            .values(last_activity_at=moment, updated_at=bindparam(updated_name, type_=UTCDateTime())))


def activity_with_submission(unmoved):
    """The activity's move (:func:`_activity_statement`) in PostgreSQL's statement that submits an attempt, when the
    submission leaves the agent's grade, pass and first pass as they were (``unmoved``: see
    :func:`lms.quizzes.services.write_with_submission`); at the submission's moment (``b_now``)."""
    return _activity_update("b_now", "b_now").where(unmoved)


def activity_with_submission_params(attempt) -> dict:
    """Its parameters for an attempt: the module of its quiz (none for an archived quiz, which is no step of a track)."""
    quiz = attempt.quiz
    return {"b_module_slug": None if quiz.is_archived else quiz.module_slug}


def rebuild_progress(session: Session, *, batch: int = 500, now: datetime) -> int:
    """Recompute every summary row (after a bulk import or a content change, or to repair); returns the rows written.
    A batch of agents at a time: memory stays flat however large the organisation."""
    from sqlalchemy import delete, insert

    session.flush()
    session.execute(delete(EnrollmentProgress))
    user_ids = list(session.scalars(select(Enrollment.user_id).distinct().order_by(Enrollment.user_id)))
    written = 0
    for start in range(0, len(user_ids), batch):
        chunk = user_ids[start:start + batch]
        enrollments = list(session.scalars(_enrollments_query().where(Enrollment.user_id.in_(chunk)).order_by(Enrollment.id)))
        rows = [{"enrollment_id": p.enrollment.id, "updated_at": now, **summary_values(p)} for p in _progress_of(session, enrollments)]
        if rows:
            session.execute(insert(EnrollmentProgress), rows)
            written += len(rows)
        session.expunge_all()
    session.flush()
    return written


@dataclass
class ProgressSummary:
    """An enrollment's summary as read by dashboards (see :func:`progress_summaries`)."""

    enrollment_id: int
    user_id: int
    track_title: str
    start_date: date
    end_date: date
    steps_total: int
    steps_done: int
    modules_total: int
    modules_done_in_order: int
    first_pending_due: date | None
    pending_days: list
    due_days: list
    done_days: list
    quiz_grades: dict
    last_activity_at: datetime | None

    @property
    def percent(self) -> int:
        return _percent(self.steps_done, self.steps_total)

    def overdue_count(self, today: date) -> int:
        return bisect_left(self.pending_days, (today - self.start_date).days)

    def state(self, today: date) -> str:
        """The same rule as :attr:`TrackProgress.state`."""
        if self.steps_total and self.steps_done == self.steps_total:
            return TrackState.completed.value
        if today < self.start_date:
            return TrackState.not_started.value
        if self.first_pending_due is not None and self.first_pending_due < today:
            late = (today - self.first_pending_due).days
            return (TrackState.overdue if late > BEHIND_GRACE_DAYS else TrackState.behind).value
        return TrackState.on_track.value


#: the summary's JSON columns (pending, due and done days, quiz grades) read as their stored text: a page decodes each
#: row's four with one json.loads (see :func:`progress_summaries`)
_JSON_COLUMNS = (EnrollmentProgress.pending_days, EnrollmentProgress.due_days, EnrollmentProgress.done_days,
                 EnrollmentProgress.quiz_grades)
_SUMMARY_COLUMNS = (EnrollmentProgress.enrollment_id, EnrollmentProgress.user_id, Track.title, EnrollmentProgress.start_date,
                    EnrollmentProgress.end_date, EnrollmentProgress.steps_total, EnrollmentProgress.steps_done,
                    EnrollmentProgress.modules_total, EnrollmentProgress.modules_done_in_order, EnrollmentProgress.first_pending_due,
                    *(cast(c, Text).label(c.key) for c in _JSON_COLUMNS), EnrollmentProgress.last_activity_at)


def progress_summaries(session: Session, user_ids: list[int]) -> dict[int, list[ProgressSummary]]:
    """{agent id: their enrollments' summaries, earliest start first} in one query (plain rows on the session's
    connection, no ORM loading: what is flushed, as the summaries' writers leave it; the four JSON columns of a row
    decoded together, as the JSON type would decode each)."""
    return summaries_from_rows(summary_rows(session, user_ids))


def summary_rows(session: Session, user_ids: list[int]) -> tuple:
    """The agents' summaries as read, not decoded: plain tuples (in _SUMMARY_COLUMNS' order), a page can key what it
    derives from them on them (two tuples compare ten times faster than two SQLAlchemy rows);
    :func:`summaries_from_rows` decodes them."""
    if not user_ids:
        return ()
    connection = session.connection()
    return tuple(map(tuple, connection.execute(_summaries_of(connection.dialect.name), {"b_user_ids": list(user_ids)}).all()))


def summaries_from_rows(rows) -> dict[int, list[ProgressSummary]]:
    """:func:`progress_summaries` of rows read by :func:`summary_rows`."""
    out: dict[int, list[ProgressSummary]] = {}
    loads = json.loads
    for row in rows:
        values = list(row)
        # SQL NULL (never written: the columns are NOT NULL) would read as None, as JSON null does
        due_text = _text(values[11])
        due = _DUE_DAYS.get(due_text)
        if due is None:
            values[10:14] = loads(f"[{_text(values[10])},{due_text},{_text(values[12])},{_text(values[13])}]")
            if len(_DUE_DAYS) >= MAX_DUE_DAYS:
                _DUE_DAYS.clear()
            _DUE_DAYS[due_text] = values[11]
        else:
            values[10], values[12], values[13] = loads(f"[{_text(values[10])},{_text(values[12])},{_text(values[13])}]")
            values[11] = due
        out.setdefault(values[1], []).append(ProgressSummary(*values))
    return out


@lru_cache(maxsize=4)
def _summaries_of(dialect: str):
    """The summaries of the agents ``b_user_ids`` (built once per dialect)."""
    return (select(*_SUMMARY_COLUMNS).join(Track, Track.id == EnrollmentProgress.track_id)
            .where(any_of(dialect, EnrollmentProgress.user_id, "b_user_ids"))
            .order_by(EnrollmentProgress.start_date, EnrollmentProgress.enrollment_id))


#: the due days decoded, by their JSON text: the agents of a track who started on the same weekday share them (a team's
#: hundred summaries hold about a dozen different lists); per process, bounded. The lists are shared: readers of
#: ProgressSummary.due_days never change them
_DUE_DAYS: dict[str, list] = {}
MAX_DUE_DAYS = 4096


def _text(value) -> str:
    return "null" if value is None else value


#: agent state order: the worst of their enrollments wins (as AgentRow.state)
STATE_RANK = {"overdue": 1, "behind": 2, "on_track": 3, "not_started": 4, "completed": 5}


def summary_state_rank(today: date):
    """A SQL expression: the rank (STATE_RANK) of an enrollment's state today, from its summary row."""
    from sqlalchemy import and_, case

    p = EnrollmentProgress
    return case(
        (and_(p.steps_total > 0, p.steps_done == p.steps_total), STATE_RANK["completed"]),
        (p.start_date > today, STATE_RANK["not_started"]),
        (p.first_pending_due < today - timedelta(days=BEHIND_GRACE_DAYS), STATE_RANK["overdue"]),
        (p.first_pending_due < today, STATE_RANK["behind"]),
        else_=STATE_RANK["on_track"],
    )


@dataclass
class TeamProgress:
    """A team's figures for the organisation-wide dashboard (see :func:`team_progress`)."""

    team_id: int
    name: str
    agents: int
    enrolled: int
    overdue: int
    behind: int
    on_track: int
    not_started: int
    completed: int
    steps_done: int
    steps_total: int

    @property
    def percent(self) -> int:
        return _percent(self.steps_done, self.steps_total)


def _agent_ranks(today: date, agent_ids=None):
    """A subquery: per agent with enrollments, the rank of their worst state today and their steps (GROUP BY in SQL)."""
    from sqlalchemy import func

    p = EnrollmentProgress
    stmt = select(p.user_id.label("user_id"), func.min(summary_state_rank(today)).label("rank"),
                  func.sum(p.steps_done).label("done"), func.sum(p.steps_total).label("total")).group_by(p.user_id)
    if agent_ids is not None:
        stmt = stmt.where(p.user_id.in_(agent_ids))
    return stmt.subquery()


def team_progress(session: Session, team_ids: list[int], today: date) -> list[TeamProgress]:
    """Each team's agents by state and its share of steps done, aggregated in SQL over the summaries (one query):
    the teams' agent memberships joined to their summaries and grouped by agent, then by team (both in the order of
    the memberships' (team, user) index: no list of every agent's id, no temporary index over a grouped subquery)."""
    from sqlalchemy import case, func

    from lms.accounts.models import Team, TeamMembership

    if not team_ids:
        return []
    p = EnrollmentProgress
    agents = (select(TeamMembership.team_id.label("team_id"),
                     # NULL for an agent without enrollments (the outer join's empty row is no state)
                     func.min(case((p.enrollment_id.is_(None), None), else_=summary_state_rank(today))).label("rank"),
                     func.sum(p.steps_done).label("done"), func.sum(p.steps_total).label("total"))
              .outerjoin(p, p.user_id == TeamMembership.user_id)
              .where(TeamMembership.kind == "agent", TeamMembership.team_id.in_(team_ids))
              .group_by(TeamMembership.team_id, TeamMembership.user_id).subquery())

    def count(rank: int):
        return func.count().filter(agents.c.rank == rank)

    stmt = (select(Team.id, Team.name, func.count(), func.count(agents.c.rank),
                   *(count(STATE_RANK[s]) for s in ("overdue", "behind", "on_track", "not_started", "completed")),
                   func.coalesce(func.sum(agents.c.done), 0), func.coalesce(func.sum(agents.c.total), 0))
            .join(agents, agents.c.team_id == Team.id)
            .group_by(Team.id, Team.name).order_by(Team.name))
    return [TeamProgress(*row) for row in session.execute(stmt)]


def agent_states(session: Session, agent_ids, today: date) -> dict[int, str]:
    """{agent id: state today} for the agents with enrollments (``agent_ids``: a list or a select of ids), in SQL (one query)."""
    names = {rank: state for state, rank in STATE_RANK.items()}
    ranks = _agent_ranks(today, agent_ids)
    return {user_id: names[rank] for user_id, rank in session.execute(select(ranks.c.user_id, ranks.c.rank))}
