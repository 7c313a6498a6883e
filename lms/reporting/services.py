"""Team dashboards and exports, composed from the other domains' public functions with a fixed number of queries."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Iterator

from sqlalchemy.orm import Session

from lms.certification import services as certification
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


def dashboard(session: Session, agents: list, today: date, now: datetime) -> list[DashboardRow]:
    """One row per agent (their first track); a fixed number of queries whatever the team size."""
    ids = [a.id for a in agents]
    overview = {row.agent.id: row for row in tracks.team_overview(session, agents, today)}
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
        writer.writerow([neutralise(v) for v in (
            r.agent.name, r.agent.email, r.track, r.start_date.isoformat() if r.start_date else "",
            "" if r.percent is None else r.percent, r.state, r.overdue, r.last_activity.isoformat() if r.last_activity else "",
            "" if r.quiz_average is None else r.quiz_average, "" if r.roleplay_average is None else r.roleplay_average, r.certifications)])
        yield flush()
