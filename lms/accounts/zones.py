"""Time zones: every person reads times in one IANA zone (Europe/Madrid, America/Bogota): their own setting, else
their team's, else the organisation's, else the configured default (``BABEL_DEFAULT_TIMEZONE``). Stored times stay
UTC; the zone is applied only when a time is written for someone (pages, e-mails, the iCal feed).

Plain functions; they flush, never commit.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytz
from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import case, select
from sqlalchemy.orm import Session

from lms.accounts.models import OrganisationSettings, Team, TeamMembership, User
from lms.core.errors import InvalidInput

#: the zones offered in the settings' lists (pytz's common names: the ones a person would pick)
ZONES: tuple[str, ...] = tuple(pytz.common_timezones)
_KNOWN = frozenset(pytz.all_timezones)
#: offered first: where the organisation works
PREFERRED = ("Europe/Madrid", "America/Bogota", "Atlantic/Canary", "UTC")


def zone_choices() -> list[tuple[str, str]]:
    """(value, label) pairs: the organisation's usual zones first, then every zone by name."""
    rest = [z for z in ZONES if z not in PREFERRED]
    return [(z, z.replace("_", " ")) for z in (*PREFERRED, *rest)]


def check_zone(name: str | None, *, optional: bool = True) -> str | None:
    """The zone's canonical name, None for empty (when ``optional``); an unknown name is refused in the reader's language."""
    name = (name or "").strip()
    if not name:
        if optional:
            return None
        raise InvalidInput(_("Elige una zona horaria."))
    if name not in _KNOWN:
        raise InvalidInput(_("«%(zone)s» no es una zona horaria conocida (por ejemplo: Europe/Madrid, America/Bogota).", zone=name[:64]))
    return pytz.timezone(name).zone


def default_zone() -> str:
    return str(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "UTC")) if has_app_context() else "UTC"


def organisation_zone(session: Session) -> str:
    return session.scalar(select(OrganisationSettings.time_zone).where(OrganisationSettings.id == 1)) or default_zone()


def set_organisation_zone(session: Session, name: str, *, now: datetime) -> None:
    zone = check_zone(name, optional=False)
    row = session.get(OrganisationSettings, 1)
    if row is None:
        session.add(OrganisationSettings(id=1, time_zone=zone, updated_at=now))
    else:
        row.time_zone, row.updated_at = zone, now
    session.flush()


def team_zone_query(user_id: int):
    """The zone of the user's first team that names one: teams they belong to as an agent first, then by team id."""
    return (select(Team.time_zone).join(TeamMembership, TeamMembership.team_id == Team.id)
            .where(TeamMembership.user_id == user_id, Team.time_zone.isnot(None))
            .order_by(case((TeamMembership.kind == "agent", 0), else_=1), Team.id).limit(1))


def zone_of(session: Session, user: User | None) -> str:
    """The zone ``user`` reads times in (one query at most when the user chose none)."""
    if user is not None and getattr(user, "time_zone", None):
        return user.time_zone
    if user is not None and "zone_in_effect" in getattr(user, "__dict__", {}):  # loaded with the signed-in user
        return user.zone_in_effect or default_zone()
    if user is not None and getattr(user, "id", None) is not None:
        row = session.execute(select(team_zone_query(user.id).scalar_subquery(),
                                     select(OrganisationSettings.time_zone).where(OrganisationSettings.id == 1)
                                     .scalar_subquery())).one()
        return row[0] or row[1] or default_zone()
    return organisation_zone(session)


def by_local_day(session: Session, users: list[User], now: datetime) -> dict[date, list[User]]:
    """People grouped by the day it is for each of them at ``now`` in their own zone (what is due today, overdue or
    due tomorrow is theirs: at 20:00 in Bogotá it is already tomorrow in UTC). Load the users with
    ``undefer(User.zone_in_effect)`` to spare a query per person."""
    days: dict[date, list[User]] = {}
    for user in users:
        days.setdefault(now.astimezone(ZoneInfo(zone_of(session, user))).date(), []).append(user)
    return days


def set_user_zone(session: Session, user: User, name: str | None) -> None:
    """The user's own zone (None: follow their team's or the organisation's)."""
    user.time_zone = check_zone(name)
    session.flush()


#: fn(session, user ids) run when those agents' working days change (a team starts or stops working weekends):
#: lms.tracks installs the rewrite of their progress summaries, whose due dates move
CALENDAR_HOOKS: list = []


def calendar_changed(session: Session, user_ids: list[int]) -> None:
    for hook in CALENDAR_HOOKS:
        hook(session, user_ids)


def set_team_calendar(session: Session, team: Team, *, time_zone: str | None, works_weekends: bool) -> bool:
    """The team's zone and whether its agents work weekends; returns True when the weekend setting changed
    (their due dates move: the caller refreshes their progress)."""
    team.time_zone = check_zone(time_zone)
    changed = bool(team.works_weekends) != bool(works_weekends)
    team.works_weekends = bool(works_weekends)
    session.flush()
    return changed
