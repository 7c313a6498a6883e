"""Team dashboards and exports, composed from the other domains' public functions with a fixed number of queries.

Where the figures come from (chosen for the 10,000-agent organisation, see README "Benchmark"):

- progress, state, overdue steps, last activity, quiz average, burn-up and funnel: ``enrollment_progress``
  (lms.tracks), one summary row per enrollment rewritten in the transaction of every change that moves it
  (lesson completed, quiz standing written, enrolled or start date moved, content synced). Nothing stored depends
  on today: due dates are stored and "overdue"/"behind" is computed when read (``ProgressSummary.state`` in
  Python, ``tracks.summary_state_rank`` in SQL). A dashboard of N agents reads N small rows instead of every
  completion and quiz standing, and builds no per-step objects.
- role-play averages, weakest criteria and active certificates: one indexed query each over the agents' rows. The
  weakest criteria are cached per process under the agents' criterion stamps (read with their names by
  ``first_agents``; new whenever an agent's sums are rewritten: ``roleplays.summed_criterion_averages``), so a team's
  page shown again groups no sums; the summaries, scores and sums are read as plain rows (no ORM loading).
- the organisation-wide view (more than ``views.PAGE_SIZE`` agents): the teams' table is a GROUP BY over the
  summaries in SQL (``tracks.team_progress``), the state filter too (``tracks.agent_states``); agents are shown a
  page at a time (by name: one page of rows computed; by a figure: every matching agent's row, a batch at a time).
  Charts are drawn for a team or a manager's agents, not for the whole organisation.
- ``flask --app lms tracks rebuild-summaries`` recomputes the summaries (after a bulk import, or to repair); the
  migration that created them backfilled them the same way.
"""
from __future__ import annotations

import csv
import io
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Iterable, Iterator

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import literal, literal_column, select, tuple_
from sqlalchemy.orm import Session

from lms.accounts import services as accounts
from lms.accounts.models import MembershipKind, TeamMembership, User
from lms.certification import services as certification
from lms.core.caches import BoundedCache
from lms.core.templating import format_number
from lms.quizzes import staff as quiz_staff
from lms.reporting.exports import STANDARD, CsvStyle
from lms.roleplays import services as roleplays
from lms.tracks import services as tracks


@dataclass(frozen=True)
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


def dashboard(session: Session, agents: list, today: date, now: datetime, summaries: dict | None = None,
              active: dict | None = None, roleplay_scores: dict | None = None) -> list[DashboardRow]:
    """One row per agent (their first track), from the progress summaries: a fixed number of queries and
    no per-step work whatever the team size. ``agents``: anything with ``id`` and ``name`` (users, or (id, name)
    rows on the page; the exports also read ``email``); ``summaries``, ``active`` (certificates) and
    ``roleplay_scores``: when already read."""
    ids = [a.id for a in agents]
    summaries = summaries if summaries is not None else tracks.progress_summaries(session, ids)
    roleplay_scores = roleplay_scores if roleplay_scores is not None else roleplays.released_scores(session, ids)
    active = active if active is not None else active_counts(session, agents, now)
    rows = []
    no_scores: list = []
    for agent in agents:
        mine = summaries.get(agent.id, no_scores)
        rp = roleplay_scores.get(agent.id, no_scores)
        roleplay_average = round(sum(rp) / len(rp), 1) if rp else None
        if len(mine) == 1:  # the common case, one track: its own figures (the same values as the general case below)
            first = mine[0]
            grades = first.quiz_grades
            rows.append(DashboardRow(
                agent, first.track_title, first.start_date, first.percent, first.state(today), first.overdue_count(today),
                first.last_activity_at, round(sum(grades.values()) / len(grades), 1) if grades else None, roleplay_average,
                active.get(agent.id, 0)))
            continue
        first = mine[0] if mine else None
        grades = {}
        for summary in mine:
            for quiz_id, grade in summary.quiz_grades.items():
                grades.setdefault(quiz_id, grade)
        rows.append(DashboardRow(
            agent=agent, track=first.track_title if first else "", start_date=first.start_date if first else None,
            percent=first.percent if first else None, state=_agent_state(mine, today),
            overdue=first.overdue_count(today) if first else 0,
            last_activity=max((p.last_activity_at for p in mine if p.last_activity_at), default=None),
            quiz_average=round(sum(grades.values()) / len(grades), 1) if grades else None,
            roleplay_average=roleplay_average, certifications=active.get(agent.id, 0),
        ))
    return rows


def _agent_state(summaries: list, today: date) -> str:
    """The worst state of the agent's tracks (as tracks.AgentRow.state)."""
    states = {s.state(today) for s in summaries}
    if not states:
        return "not_enrolled"
    for state in ("overdue", "behind", "on_track", "not_started"):
        if state in states:
            return state
    return "completed"


def dashboard_page(session: Session, agent_ids: list[int], today: date, now: datetime, *, state: str | None, sort: str,
                   page: int, size: int) -> tuple[list[DashboardRow], int, int]:
    """One page of the dashboard of many agents (``agent_ids`` by name): (rows, pages, agents matching).
    The state filter is computed in SQL over the summaries; sorting by name costs one page of rows, sorting by a
    figure computes every matching agent's row (a batch at a time) before cutting the page."""
    if state:
        states: dict[int, str] = {}
        for start in range(0, len(agent_ids), EXPORT_BATCH * 10):
            states.update(tracks.agent_states(session, agent_ids[start:start + EXPORT_BATCH * 10], today))
        agent_ids = [i for i in agent_ids if states.get(i, "not_enrolled") == state]
    total = len(agent_ids)
    pages = max(1, -(-total // size))
    page = min(page, pages)
    if sort in SORTS and sort != "name":
        everyone = []
        for start in range(0, total, EXPORT_BATCH):
            everyone.extend(dashboard(session, accounts.users_by_ids(session, agent_ids[start:start + EXPORT_BATCH]), today, now))
        everyone.sort(key=SORTS[sort])
        return everyone[(page - 1) * size:page * size], pages, total
    return dashboard(session, accounts.users_by_ids(session, agent_ids[(page - 1) * size:page * size]), today, now), pages, total


def team_progress(session: Session, team_ids: list[int], today: date) -> list:
    """The organisation-wide table: each team's agents by state and share of steps done (one GROUP BY query)."""
    return tracks.team_progress(session, team_ids, today)


#: agents per batch of an export: memory stays flat however large the organisation
EXPORT_BATCH = 500


def _member_of(team_ids: list[int]):
    """EXISTS: the user (``User``) is an agent of one of these teams."""
    # EXISTS, not IN: the rows are walked in the index on (name, id) (ix_users_name_id) and each is checked
    # against its own memberships (by user_id; "team_id + 0" keeps SQLite from probing the (team, user, kind)
    # index once per team of the list), so a batch of the whole organisation reads its own rows, not every agent
    # sorted
    return (select(TeamMembership.id).where(TeamMembership.user_id == User.id, TeamMembership.kind == MembershipKind.agent.value,
                                            (TeamMembership.team_id + literal_column("0")).in_(team_ids)).exists())


def agents_by_name(team_ids: list[int]):
    """A select of the (id, name) of the agents of these teams by name, then id: a page of it (LIMIT/OFFSET) walks the
    users' (name, id) index up to the page instead of sorting every agent of the organisation."""
    return select(User.id, User.name).where(_member_of(team_ids)).order_by(User.name, User.id)


def agents_after(session: Session, team_ids: list[int], after: tuple[str, int] | None, limit: int) -> list:
    """The next ``limit`` agents of these teams in the exports' order (name, then id) after the agent ``after``
    ((name, id); None: from the first): one keyset query, as cheap for the last batch as for the first, and no
    list of every id held while the export runs."""
    stmt = select(User).where(_member_of(team_ids)).order_by(User.name, User.id).limit(limit)
    if after is not None:
        stmt = stmt.where(tuple_(User.name, User.id) > tuple_(literal(after[0]), literal(after[1])))
    return list(session.scalars(stmt))


def agent_batches(session: Session, team_ids: list[int], batch: int = EXPORT_BATCH,
                  after: tuple[str, int] | None = None) -> Iterator[list]:
    """The agents of these teams a batch at a time, by keyset (WHERE (name, id) > last ORDER BY name, id LIMIT
    batch); the session is emptied before each batch is loaded."""
    while True:
        session.expunge_all()
        agents = agents_after(session, team_ids, after, batch)
        if not agents:
            return
        yield agents
        if len(agents) < batch:
            return
        after = (agents[-1].name, agents[-1].id)


def streamed_rows(session: Session, team_ids: list[int], today: date, now: datetime, batch: int = EXPORT_BATCH,
                  after: tuple[str, int] | None = None) -> Iterator[DashboardRow]:
    """Dashboard rows of every agent of these teams, computed a batch at a time (a fixed number of queries per
    batch). ``session`` should be the export's own: it is emptied between batches."""
    for agents in agent_batches(session, team_ids, batch, after):
        yield from dashboard(session, agents, today, now)


CSV_HEADER = ["agente", "email", "itinerario", "fecha_inicio", "progreso_pct", "estado", "vencidas", "ultima_actividad",
              "media_evaluaciones", "media_role_plays", "certificaciones_vigentes"]


def neutralise(value) -> str:
    """Spreadsheets run cells that start with = + - @ (or tab/CR) as formulas: make them text."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_header(style: CsvStyle = STANDARD) -> str:
    """The first line of the progress export (a UTF-8 BOM, then the titles)."""
    return next(csv_lines((), style))


def csv_lines(rows: Iterable[DashboardRow], style: CsvStyle = STANDARD, *, header: bool = True) -> Iterator[str]:
    """The export, line by line (streamed to the client), in ``style`` (see lms.reporting.exports); without its
    header line when ``header`` is False (a background export's later steps)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=style.delimiter)

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return value

    if header:
        writer.writerow(style.header(CSV_HEADER))
        yield "\ufeff" + flush()
    for r in rows:
        writer.writerow([neutralise(v) for v in _values(r, style)])
        yield flush()


def _values(r: DashboardRow, style: CsvStyle = STANDARD) -> tuple:
    return (r.agent.name, r.agent.email, r.track, style.day(r.start_date), style.number(r.percent), style.label(r.state),
            r.overdue, style.moment(r.last_activity), style.number(r.quiz_average), style.number(r.roleplay_average),
            r.certifications)


def xlsx_bytes(rows: Iterable[DashboardRow], labels: dict[str, str] | None = None, zone=None) -> bytes:
    """The same export as an Excel workbook (write-only mode: constant memory per row); text cells never become
    formulas; numbers and moments are cells of their own type (Excel writes them in its own locale), states are
    ``labels`` (the reader's language), moments are in ``zone`` (the reader's)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Progreso")
    sheet.append(CSV_HEADER)
    labels = labels or {}
    for r in rows:
        moment = r.last_activity.astimezone(zone or timezone.utc).replace(tzinfo=None, microsecond=0) if r.last_activity else None
        values = (r.agent.name, r.agent.email, r.track, r.start_date, r.percent, labels.get(r.state, r.state), r.overdue, moment,
                  r.quiz_average, r.roleplay_average, r.certifications)
        sheet.append([neutralise(v) if isinstance(v, str) else v for v in values])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# Charts -------------------------------------------------------------------------------------

def first_agents(session: Session, agents, now: datetime, limit: int) -> list:
    """At most ``limit`` (id, name, active, criteria_stamp) rows of the select of agents ``agents`` (a subquery with
    ``id`` and ``name``), unordered; ``active``: their active certificates, read in the same statement (active_counts'
    figure); ``criteria_stamp``: the stamp of their role-play criterion sums (the charts' weakest criteria)."""
    stmt = with_active_counts(select(agents.c.id, agents.c.name), agents.c.id, now)
    return session.execute(stmt.add_columns(roleplays.criterion_stamp_of(agents.c.id).label("criteria_stamp")).limit(limit)).all()


def active_counts(session: Session, agents: list, now: datetime) -> dict[int, int]:
    """{agent id: active certificates} (none: no key), as certification.active_counts gives it; agents read with
    their ``active`` count (:func:`first_agents`, :func:`with_active_counts`) bring it, others cost one query."""
    if agents and "active" in getattr(agents[0], "_fields", ()):  # SQL rows with the column
        return {a.id: a.active for a in agents if a.active}
    return certification.active_counts(session, [a.id for a in agents], now)


def agents_page(session: Session, by_name, now: datetime, limit: int, offset: int) -> list:
    """(id, name, active) rows of one page of ``by_name`` (a select of agents' id and name by name, id): the count
    of active certificates is read in the same statement, for the page's rows only (outside the page's subquery:
    a sort would otherwise compute it for every row before the offset)."""
    page = by_name.limit(limit).offset(offset).subquery()
    return session.execute(with_active_counts(select(page.c.id, page.c.name), page.c.id, now).order_by(page.c.name, page.c.id)).all()


def with_active_counts(stmt, user_id, now: datetime):
    """``stmt`` (a select of agents) with each agent's count of active certificates as its ``active`` column."""
    return stmt.add_columns(certification.active_count_of(user_id, now).label("active"))


#: a page of agents' rows and charts (:func:`dashboard_with_charts`) by everything they are computed from, as read
#: (the agents' rows with their certificates and criterion stamps, their summaries' rows, their released scores), the
#: day and the language: a team's page shown again, with nothing changed, decodes, sums and draws nothing. The key is
#: the data itself, not a stamp of it, so no change can be missed; per process, bounded (a hundred agents' entry and
#: their table's in lms.reporting.table: about 370 KiB together, measured with tracemalloc)
TEAM_VIEWS: "BoundedCache[tuple]" = BoundedCache(8)


def dashboard_with_charts(session: Session, agents: list, today: date, now: datetime) -> tuple[list[DashboardRow], list]:
    """The rows and charts of a page of agents (read by :func:`first_agents`: with their certificates' count and
    criterion stamps). The rows are the caller's to sort and filter (a new list each call)."""
    ids = [a.id for a in agents]
    summary_rows = tracks.summary_rows(session, ids)
    score_rows = roleplays.released_score_rows(session, ids)
    key = None
    if agents and "criteria_stamp" in getattr(agents[0], "_fields", ()):  # (rows as first_agents reads them)
        key = (today, str(get_locale()), tuple(map(tuple, agents)), summary_rows, score_rows)
    cached = TEAM_VIEWS.get(key)
    if cached is None:
        summaries = tracks.summaries_from_rows(summary_rows)
        active = active_counts(session, agents, now)  # read once: the rows and the funnel both show it
        cached = (dashboard(session, agents, today, now, summaries, active, roleplays.scores_by_agent(score_rows)),
                  team_charts(session, agents, today, now, summaries, active))
        TEAM_VIEWS.put(key, cached)
    rows, charts = cached
    return list(rows), charts


def team_charts(session: Session, agents: list, today: date, now: datetime, summaries: dict | None = None,
                certified: dict | None = None) -> list:
    """Burn-up, quiz score distribution, weakest rubric criteria and the certification funnel (from the summaries)."""
    from lms.reporting import charts

    ids = [a.id for a in agents]
    summaries = summaries if summaries is not None else tracks.progress_summaries(session, ids)
    out = []
    # cohort burn-up: share of steps done by each day since start, against the share due (the mean over the agents
    # who have lived through that day); each done or due step adds 100/steps to every day from its own to the
    # agent's horizon, so the sums are built with difference arrays, not day by day
    # one pass over the agents' first tracks: the burn-up's cohort (tracks with steps) and the funnel's stages
    firsts, horizons = [], []
    enrolled = week1 = week4 = 0
    for a in agents:
        mine = summaries.get(a.id)
        if not mine:
            continue
        s = mine[0]
        enrolled += 1
        if s.modules_total >= 1 and s.modules_done_in_order >= 1:
            week1 += 1
        if s.modules_total >= 4 and s.modules_done_in_order >= 4:
            week4 += 1
        if s.steps_total:
            firsts.append(s)
            horizons.append(min((today - s.start_date).days, (s.end_date - s.start_date).days))
    cohort = len(firsts)
    span = max(horizons, default=-1) + 2
    alive, done_sum, due_sum = [0] * span, [0.0] * span, [0.0] * span
    for s, horizon in zip(firsts, horizons):
        if horizon < 0:
            continue
        alive[0] += 1
        alive[horizon + 1] -= 1
        weight, end = 100 / s.steps_total, horizon + 1
        for days, sums in ((s.done_days, done_sum), (s.due_days, due_sum)):
            # ascending: the days up to the horizon (bisected), those up to day 0 counting on day 0; the same additions
            # in the same order as a walk that tests every day (the floating-point sums are the same)
            before, upto = bisect_left(days, 1), bisect_right(days, horizon)
            for _day in range(min(before, upto)):
                sums[0] += weight
                sums[end] -= weight
            for day in days[before:upto]:
                sums[day] += weight
                sums[end] -= weight
    done_by_day, due_by_day = {}, {}
    n = done_acc = due_acc = 0
    for day in range(span - 1):
        n, done_acc, due_acc = n + alive[day], done_acc + done_sum[day], due_acc + due_sum[day]
        # only the days that at least half of the cohort has lived through, so late starters do not bend the curve
        if n and n * 2 >= cohort:
            done_by_day[day], due_by_day[day] = done_acc / n, due_acc / n
    if done_by_day:
        series = [(_("Completado"), sorted(done_by_day.items()), charts.BLUE),
                  (_("Previsto"), sorted(due_by_day.items()), charts.GREY)]
        out.append(charts.line_chart(_("Avance del grupo frente a lo previsto (%)"), series, x_label=_("días desde el inicio")))
    # quiz scores
    buckets = [0] * 5
    for mine in summaries.values():
        for summary in mine:
            for grade in summary.quiz_grades.values():
                bucket = int(grade // 20)
                buckets[bucket if bucket < 4 else 4] += 1
    if any(buckets):
        labels = ["0-19", "20-39", "40-59", "60-79", "80-100"]
        out.append(charts.bar_chart(_("Notas de las evaluaciones"), list(zip(labels, buckets))))
    # weakest rubric criteria
    # from the per-agent sums kept on write; agents read with their sums' stamps (first_agents): cached under them
    stamps = {a.id: a.criteria_stamp for a in agents} if agents and "criteria_stamp" in getattr(agents[0], "_fields", ()) else None
    weakest = roleplays.summed_criterion_averages(session, ids, stamps)[:6]
    if weakest:
        out.append(charts.bar_chart(_("Criterios de role-play más débiles (nivel medio, 0-4)"), [(title, round(avg, 2)) for title, avg, _n in weakest],
                                    maximum=4, color=charts.RED))
    # funnel
    certified = certified if certified is not None else certification.active_counts(session, ids, now)
    if enrolled:
        out.append(charts.bar_chart(_("Embudo de certificación"), [(_("Inscritos"), enrolled), (_("Semana 1"), week1),
                                                                  (_("Semana 4"), week4), (_("Certificados"), len(certified))], color=charts.GREEN))
    return out


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
    for attempt in quiz_staff.attempts_for(session, None, [agent.id]):
        detail = f"{format_number(attempt.percent)}%" if attempt.percent is not None else attempt.state
        entries.append(TimelineEntry(attempt.submitted_at or attempt.started_at, "quiz", f"{attempt.quiz.title} · #{attempt.number}", detail,
                                     "quizzes_manage.attempt", {"attempt_id": attempt.id}))
    for submission in roleplays.submissions_of(session, agent.id):
        detail = f"{format_number(submission.score)}%" if submission.score is not None else submission.grade_state
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


def certification_csv_lines(session: Session, team_ids: list[int], now: datetime, batch: int = EXPORT_BATCH,
                            style: CsvStyle = STANDARD) -> Iterator[str]:
    """Every certification record of the agents of these teams (by agent name, newest first), a batch of agents at
    a time; the issue and expiry days are the reader's days (UTC's in the standard format)."""
    yield certification_csv_header(style)
    for agents in agent_batches(session, team_ids, batch):
        yield from certification_lines(session, agents, now, style)


def certification_csv_header(style: CsvStyle = STANDARD) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=style.delimiter).writerow(style.header(CERT_HEADER))
    return "\ufeff" + buffer.getvalue()


def certification_lines(session: Session, agents: list, now: datetime, style: CsvStyle = STANDARD) -> Iterator[str]:
    """The certification records of these agents (in their order, newest first within an agent), line by line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=style.delimiter)
    by_id = {a.id: a for a in agents}
    records = certification.records_for(session, list(by_id))
    order = {a.id: n for n, a in enumerate(agents)}
    records.sort(key=lambda r: order[r.user_id])  # stable: newest first within an agent
    zone = style.zone or timezone.utc
    for record in records:
        buffer.seek(0)
        buffer.truncate(0)
        agent = by_id[record.user_id]
        writer.writerow([neutralise(v) for v in (agent.name, agent.email, record.definition.title, record.definition_version,
                                                  style.label(certification.effective_status(record, now)),
                                                  record.issued_at.astimezone(zone).date().isoformat(),
                                                  record.expires_at.astimezone(zone).date().isoformat(), record.code)])
        yield buffer.getvalue()
