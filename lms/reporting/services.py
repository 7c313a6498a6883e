"""Team dashboards and exports, composed from the other domains' public functions with a fixed number of queries."""
from __future__ import annotations

import csv
from bisect import bisect_right
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Iterator

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from lms.accounts import services as accounts
from lms.certification import services as certification
from lms.quizzes import services as quizzes
from lms.roleplays import services as roleplays
from lms.tracks import services as tracks


@dataclass
class DashboardRow:
    agent: object
    track: str
    start_date: date | None
    percent: int | None
    state: str
    overdue: int
    last_activity: datetime | None
    quiz_average: float | None
    roleplay_average: float | None
    certifications: int


SORTS = {
    "name": lambda r: (r.agent.name.lower(),),
    "progress": lambda r: (-(r.percent or -1), r.agent.name.lower()),
    "overdue": lambda r: (-r.overdue, r.agent.name.lower()),
    "activity": lambda r: (-(r.last_activity.timestamp() if r.last_activity else 0), r.agent.name.lower()),
    "quiz": lambda r: (-(r.quiz_average if r.quiz_average is not None else -1), r.agent.name.lower()),
    "roleplay": lambda r: (-(r.roleplay_average if r.roleplay_average is not None else -1), r.agent.name.lower()),
}


def dashboard(session: Session, agents: list, today: date, now: datetime, overview: list | None = None) -> list[DashboardRow]:
    """One row per agent (their first track); a fixed number of queries whatever the team size."""
    ids = [a.id for a in agents]
    overview = {row.agent.id: row for row in (overview if overview is not None else tracks.team_overview(session, agents, today))}
    grades: dict[int, list[float]] = {}
    for agent_id, view in overview.items():
        seen: set[int] = set()
        for progress in view.progress:
            for status in progress.quizzes:
                if status.quiz.id not in seen and status.result is not None and status.result.grade is not None:
                    seen.add(status.quiz.id)
                    grades.setdefault(agent_id, []).append(status.result.grade)
    roleplay_scores = roleplays.released_scores(session, ids)
    active = certification.active_counts(session, ids, now)
    rows = []
    for agent in agents:
        view = overview[agent.id]
        progress = view.progress[0] if view.progress else None
        quiz_grades, rp = grades.get(agent.id, []), roleplay_scores.get(agent.id, [])
        rows.append(DashboardRow(
            agent=agent, track=progress.track.title if progress else "", start_date=progress.enrollment.start_date if progress else None,
            percent=progress.percent if progress else None, state=view.state, overdue=len(progress.overdue) if progress else 0,
            last_activity=max((p.last_activity_at for p in view.progress if p.last_activity_at), default=None),
            quiz_average=round(sum(quiz_grades) / len(quiz_grades), 1) if quiz_grades else None,
            roleplay_average=round(sum(rp) / len(rp), 1) if rp else None, certifications=active.get(agent.id, 0),
        ))
    return rows


#: agents per batch of an export: memory stays flat however large the organisation
EXPORT_BATCH = 500


def _batches(session: Session, agent_ids: list[int], batch: int) -> Iterator[list]:
    """The agents a batch at a time; the session is emptied before each batch is loaded."""
    for start in range(0, len(agent_ids), batch):
        session.expunge_all()
        yield accounts.users_by_ids(session, agent_ids[start:start + batch])


def streamed_rows(session: Session, agent_ids: list[int], today: date, now: datetime, batch: int = EXPORT_BATCH) -> Iterator[DashboardRow]:
    """Dashboard rows for any number of agents, computed a batch at a time (a fixed number of queries per batch).
    ``session`` should be the export's own: it is emptied between batches."""
    for agents in _batches(session, agent_ids, batch):
        yield from dashboard(session, agents, today, now)


CSV_HEADER = ["agente", "email", "itinerario", "fecha_inicio", "progreso_pct", "estado", "vencidas", "ultima_actividad",
              "media_evaluaciones", "media_role_plays", "certificaciones_vigentes"]


def neutralise(value) -> str:
    """Spreadsheets run cells that start with = + - @ (or tab/CR) as formulas: make them text."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_lines(rows: Iterable[DashboardRow]) -> Iterator[str]:
    """The export, line by line (streamed to the client)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return value

    writer.writerow(CSV_HEADER)
    yield "\ufeff" + flush()
    for r in rows:
        writer.writerow([neutralise(v) for v in _values(r)])
        yield flush()


def _values(r: DashboardRow) -> tuple:
    return (r.agent.name, r.agent.email, r.track, r.start_date.isoformat() if r.start_date else "",
            "" if r.percent is None else r.percent, r.state, r.overdue, r.last_activity.isoformat() if r.last_activity else "",
            "" if r.quiz_average is None else r.quiz_average, "" if r.roleplay_average is None else r.roleplay_average, r.certifications)


def xlsx_bytes(rows: Iterable[DashboardRow]) -> bytes:
    """The same export as an Excel workbook (write-only mode: constant memory per row); text cells never become formulas."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Progreso")
    sheet.append(CSV_HEADER)
    for r in rows:
        sheet.append([neutralise(v) if isinstance(v, str) else v for v in _values(r)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# Charts -------------------------------------------------------------------------------------

def dashboard_with_charts(session: Session, agents: list, today: date, now: datetime) -> tuple[list[DashboardRow], list]:
    overview = tracks.team_overview(session, agents, today)
    return dashboard(session, agents, today, now, overview), team_charts(session, agents, today, now, overview)


def team_charts(session: Session, agents: list, today: date, now: datetime, overview: list | None = None) -> list:
    """Burn-up, quiz score distribution, weakest rubric criteria and the certification funnel."""
    from lms.reporting import charts

    overview = overview if overview is not None else tracks.team_overview(session, agents, today)
    out = []
    # cohort burn-up: share of steps done by each day since start, against the share due
    done_by_day: dict[int, list[float]] = {}
    due_by_day: dict[int, list[float]] = {}
    cohort = 0
    for row in overview:
        for progress in row.progress[:1]:
            steps = progress.steps
            if not steps:
                continue
            cohort += 1
            start = progress.enrollment.start_date
            horizon = min((today - start).days, (progress.end_date - start).days)
            done_days = sorted(d for d in (_done_ordinal(s) for s in steps) if d is not None)
            due_days = sorted(s.due_date.toordinal() for s in steps)
            for day in range(0, max(horizon, -1) + 1):
                moment = start.toordinal() + day
                done_by_day.setdefault(day, []).append(100 * bisect_right(done_days, moment) / len(steps))
                due_by_day.setdefault(day, []).append(100 * bisect_right(due_days, moment) / len(steps))
    # only the days that at least half of the cohort has lived through, so late starters do not bend the curve
    done_by_day = {d: v for d, v in done_by_day.items() if len(v) * 2 >= cohort}
    due_by_day = {d: v for d, v in due_by_day.items() if d in done_by_day}
    if done_by_day:
        series = [(_("Completado"), [(d, sum(v) / len(v)) for d, v in sorted(done_by_day.items())], charts.BLUE),
                  (_("Previsto"), [(d, sum(v) / len(v)) for d, v in sorted(due_by_day.items())], charts.GREY)]
        out.append(charts.line_chart(_("Avance del grupo frente a lo previsto (%)"), series, x_label=_("días desde el inicio")))
    # quiz scores
    buckets = [0] * 5
    for row in overview:
        for progress in row.progress:
            for status in progress.quizzes:
                if status.result is not None and status.result.grade is not None:
                    buckets[min(4, int(status.result.grade // 20))] += 1
    if any(buckets):
        labels = ["0-19", "20-39", "40-59", "60-79", "80-100"]
        out.append(charts.bar_chart(_("Notas de las evaluaciones"), list(zip(labels, buckets))))
    # weakest rubric criteria
    weakest = roleplays.criterion_averages(session, [a.id for a in agents])[:6]
    if weakest:
        out.append(charts.bar_chart(_("Criterios de role-play más débiles (nivel medio, 0-4)"), [(title, round(avg, 2)) for title, avg, _n in weakest],
                                    maximum=4, color=charts.RED))
    # funnel
    enrolled = [row for row in overview if row.progress]
    week1 = [r for r in enrolled if r.progress[0].modules and r.progress[0].modules[0].done == r.progress[0].modules[0].total]
    week4 = [r for r in enrolled if len(r.progress[0].modules) >= 4 and all(m.done == m.total for m in r.progress[0].modules[:4])]
    certified = certification.active_counts(session, [a.id for a in agents], now)
    if enrolled:
        out.append(charts.bar_chart(_("Embudo de certificación"), [(_("Inscritos"), len(enrolled)), (_("Semana 1"), len(week1)),
                                                                  (_("Semana 4"), len(week4)), (_("Certificados"), len(certified))], color=charts.GREEN))
    return out


def _done_ordinal(step) -> int | None:
    """The day a step was done (a lesson completed, a quiz first passed), as a date ordinal."""
    if step.kind == "lesson":
        return step.completed_at.date().toordinal() if step.completed_at is not None else None
    passed_at = step.result.first_passed_at if step.result else None
    return passed_at.date().toordinal() if passed_at is not None else None


# Agent timeline ------------------------------------------------------------------------------

@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # lesson | quiz | roleplay | certificate
    title: str
    detail: str
    endpoint: str | None = None
    args: dict | None = None


def agent_timeline(session: Session, agent, now: datetime) -> list[TimelineEntry]:
    """Everything the agent did, newest first: lessons, quiz attempts, role-plays and grades, certificates."""
    entries: list[TimelineEntry] = []
    lessons = {lesson.id: lesson for lessons in tracks.live_lessons_by_module(session, tracks.module_slugs_of(session, agent)).values()
               for lesson in lessons}
    for lesson_id, at in tracks.completions_by_user(session, [agent.id]).get(agent.id, {}).items():
        lesson = lessons.get(lesson_id)
        entries.append(TimelineEntry(at, "lesson", lesson.title if lesson else f"#{lesson_id}", "", "tracks.lesson",
                                     {"slug": lesson.slug} if lesson else None))
    for attempt in quizzes.attempts_for(session, None, [agent.id]):
        detail = f"{attempt.percent:g}%" if attempt.percent is not None else attempt.state
        entries.append(TimelineEntry(attempt.submitted_at or attempt.started_at, "quiz", f"{attempt.quiz.title} · #{attempt.number}", detail,
                                     "quizzes_manage.attempt", {"attempt_id": attempt.id}))
    for submission in roleplays.submissions_of(session, agent.id):
        detail = f"{submission.score:g}%" if submission.score is not None else submission.grade_state
        entries.append(TimelineEntry(submission.submitted_at or submission.started_at, "roleplay",
                                     f"{submission.scenario.title} · #{submission.number}", detail,
                                     "roleplays_manage.grade" if submission.state == "submitted" else None,
                                     {"submission_id": submission.id} if submission.state == "submitted" else None))
    for record in certification.records_of(session, agent.id):
        entries.append(TimelineEntry(record.issued_at, "certificate", record.definition.title, certification.effective_status(record, now),
                                     "certification_manage.record", {"record_id": record.id}))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries


CERT_HEADER = ["agente", "email", "certificacion", "version", "estado", "emitida", "caduca", "codigo_verificacion"]


def certification_csv_lines(session: Session, agent_ids: list[int], now: datetime, batch: int = EXPORT_BATCH) -> Iterator[str]:
    """Every certification record of these agents (by agent name, newest first), a batch of agents at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CERT_HEADER)
    yield "\ufeff" + buffer.getvalue()
    for agents in _batches(session, agent_ids, batch):
        by_id = {a.id: a for a in agents}
        records = certification.records_for(session, list(by_id))
        order = {a.id: n for n, a in enumerate(agents)}
        records.sort(key=lambda r: order[r.user_id])  # stable: newest first within an agent
        for record in records:
            buffer.seek(0)
            buffer.truncate(0)
            agent = by_id[record.user_id]
            writer.writerow([neutralise(v) for v in (agent.name, agent.email, record.definition.title, record.definition_version,
                                                      certification.effective_status(record, now), record.issued_at.date().isoformat(),
                                                      record.expires_at.date().isoformat(), record.code)])
            yield buffer.getvalue()
