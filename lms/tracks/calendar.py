"""The working-day calendar: when a lesson or a quiz falls due.

A track file's days (``start_day``/``due_day`` of a module, ``day`` of a lesson or a quiz) are written for a
Monday-to-Friday programme that starts on a Monday: week 2 opens on day 7, a lesson of day 3 is Thursday. The files
keep those days; an agent's due dates count *working days* from their start date:

- day N of the file is ``5 × (N // 7) + min(N % 7, 5)`` working days after the start (N itself for a team that
  works weekends), so a programme started on a Monday keeps every date it had and one started on a Wednesday
  keeps its length in working days instead of landing on Saturdays and Sundays;
- a working day is a weekday (any day for a team that works weekends) that is not one of the organisation's
  non-working days (holidays, edited by admins); a holiday pushes what was due on it and after it by one working day;
- a start date on a non-working day counts from the next working day.

:func:`due_date` is the one rule; everything that shows or stores a due date goes through it.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from flask_babel import gettext as _
from sqlalchemy import Date, Integer, String, bindparam, cast, exists, func, literal, literal_column, select, union_all
from sqlalchemy.orm import Session

from lms.accounts.models import Team, TeamMembership
from lms.core.errors import InvalidInput
from lms.tracks.models import NonWorkingDay


@dataclass(frozen=True)
class WorkCalendar:
    """Whose days count: weekends worked or not, and the organisation's non-working days (sorted)."""

    works_weekends: bool = False
    holidays: tuple[date, ...] = field(default=())

    def is_working_day(self, day: date) -> bool:
        if not self.works_weekends and day.weekday() >= 5:
            return False
        i = bisect.bisect_left(self.holidays, day)
        return not (i < len(self.holidays) and self.holidays[i] == day)

    def _holidays_counted(self, after: date, until: date) -> int:
        """Holidays in (after, until] that would otherwise have been working days."""
        lo, hi = bisect.bisect_right(self.holidays, after), bisect.bisect_right(self.holidays, until)
        return sum(1 for d in self.holidays[lo:hi] if self.works_weekends or d.weekday() < 5)


def working_days(track_day: int, works_weekends: bool = False) -> int:
    """How many working days after the start a track file's day is (see the module's docstring)."""
    if works_weekends:
        return track_day
    weeks, rest = divmod(track_day, 7)
    return 5 * weeks + min(rest, 5)


def _add_days(day: date, n: int, works_weekends: bool) -> date:
    """``n`` working days after a working ``day``, counting weekends out (unless worked), holidays not yet."""
    if works_weekends:
        return day + timedelta(days=n)
    weeks, rest = divmod(n, 5)
    day += timedelta(weeks=weeks)
    weekday = day.weekday()
    return day + timedelta(days=rest + (2 if weekday + rest >= 5 else 0))


@lru_cache(maxsize=8192)
def due_date(start: date, track_day: int, calendar: WorkCalendar = WorkCalendar()) -> date:
    """The date a step of track day ``track_day`` falls due for an agent who started on ``start``."""
    day = start
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    remaining = working_days(max(track_day, 0), calendar.works_weekends)
    while remaining:
        reached = _add_days(day, remaining, calendar.works_weekends)
        remaining = calendar._holidays_counted(day, reached)  # holidays passed over: that many days more
        day = reached
    return day


# The organisation's calendar ---------------------------------------------------------------------------------

def holidays(session: Session) -> list[NonWorkingDay]:
    return list(session.scalars(select(NonWorkingDay).order_by(NonWorkingDay.day)))


def calendars_for(session: Session, user_ids) -> dict[int, WorkCalendar]:
    """{user id: their calendar} (one statement): an agent works weekends when a team they belong to as an agent does."""
    ids = list(user_ids)
    days, weekend = [], set()
    for day, user_id in session.execute(_calendars_statement(), {"b_user_ids": ids or [-1]}):  # one statement for both
        if day is not None:
            days.append(day)
        else:
            weekend.add(user_id)
    days = tuple(sorted(days))
    weekdays, weekends = WorkCalendar(False, days), WorkCalendar(True, days)
    return {user_id: (weekends if user_id in weekend else weekdays) for user_id in ids}


def calendar_columns(user_id):
    """Two columns that read an agent's calendar (``user_id``: a column or a bind parameter) with another statement:
    whether they work weekends, and the organisation's non-working days as text ("YYYY-MM-DD,…"); :func:`calendar_of`
    makes the calendar of them, as :func:`calendars_for` would."""
    days, members, teams = NonWorkingDay.__table__.c, TeamMembership.__table__.c, Team.__table__.c
    weekends = exists().where(members.user_id == user_id, members.kind == "agent", teams.id == members.team_id,
                              teams.works_weekends.is_(True))
    holidays = select(func.aggregate_strings(cast(days.day, String), literal_column("','"))).scalar_subquery()
    return weekends.label("works_weekends"), holidays.label("holidays")


def calendar_of(works_weekends, holidays: str | None) -> WorkCalendar | None:
    """The calendar read by :func:`calendar_columns`, or None when its days are not ISO dates (a PostgreSQL server whose
    DateStyle writes them otherwise: read it with :func:`calendars_for` then)."""
    try:
        return _calendar_of(bool(works_weekends), holidays or "")
    except ValueError:
        return None


@lru_cache(maxsize=64)
def _calendar_of(works_weekends: bool, holidays: str) -> WorkCalendar:
    return WorkCalendar(works_weekends, tuple(sorted(date.fromisoformat(day) for day in holidays.split(",") if day)))


@lru_cache(maxsize=1)
def _calendars_statement():
    """The organisation's non-working days and which of the agents (``b_user_ids``) work weekends, in one statement built once."""
    # Core columns of the tables: plain rows, no ORM execution (it runs on every first pass of a quiz)
    days, members, teams = NonWorkingDay.__table__, TeamMembership.__table__, Team.__table__
    holidays_q = select(days.c.day.label("day"), literal(None, Integer).label("user_id"))
    weekend_q = (select(literal(None, Date).label("day"), members.c.user_id.label("user_id"))
                 .join_from(members, teams, teams.c.id == members.c.team_id)
                 .where(members.c.user_id.in_(bindparam("b_user_ids", expanding=True)), members.c.kind == "agent",
                        teams.c.works_weekends.is_(True)))
    return union_all(holidays_q, weekend_q)


def add_holiday(session: Session, day: date, name: str, *, now: datetime) -> NonWorkingDay:
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Escribe qué día festivo es (por ejemplo: «Día de la Hispanidad»)."))
    if session.scalar(select(NonWorkingDay.id).where(NonWorkingDay.day == day)) is not None:
        raise InvalidInput(_("Ese día ya está en el calendario."))
    row = NonWorkingDay(day=day, name=name[:200], created_at=now)
    session.add(row)
    session.flush()
    return row


def remove_holiday(session: Session, holiday_id: int) -> NonWorkingDay | None:
    row = session.get(NonWorkingDay, holiday_id)
    if row is not None:
        session.delete(row)
        session.flush()
    return row
