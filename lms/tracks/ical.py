"""The agent's personal iCalendar feed: every lesson and quiz of their tracks on its due day.

The feed is read by calendar apps (Outlook, Google Calendar) without a login, so its URL carries
a secret token; only the token's SHA-256 is stored.  Creating a new link revokes the old one.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lms.tracks.models import CalendarFeed


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def live_feed(session: Session, user_id: int) -> CalendarFeed | None:
    return session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None)))


def revoke(session: Session, user_id: int, *, now: datetime) -> int:
    """Stop every live feed URL of the user; returns how many were live."""
    return session.execute(update(CalendarFeed).where(CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None))
                           .values(revoked_at=now).execution_options(synchronize_session="fetch")).rowcount


def create(session: Session, user_id: int, *, now: datetime) -> str:
    """A new secret feed token (shown to the user once); the previous one stops working."""
    revoke(session, user_id, now=now)
    token = secrets.token_urlsafe(32)
    session.add(CalendarFeed(user_id=user_id, token_hash=_digest(token), created_at=now))
    session.flush()
    return token


def by_token(session: Session, token: str) -> CalendarFeed | None:
    if not token or len(token) > 100:
        return None
    return session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == _digest(token), CalendarFeed.revoked_at.is_(None)))


def build(progress_list: list, *, name: str, url_for_step, host: str, now: datetime, zone: str = "UTC") -> bytes:
    """An all-day event per lesson and quiz, on its due day; stable UIDs so calendar apps update, not duplicate.
    Due days are working days of the agent's calendar; the moments written in the texts (when a step was done) are
    in the agent's time zone ``zone`` (Flask-Babel's, forced by the caller), which the feed also names."""
    # icalendar (~3 MiB) serves the feed alone: imported on its first request
    from flask_babel import gettext as _
    from icalendar import Calendar, Event

    from lms.core.templating import format_when

    calendar = Calendar()
    calendar.add("prodid", "-//Academia de Atencion//LMS//ES")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", zone)
    calendar.add("x-published-ttl", "PT6H")
    for progress in progress_list:
        for step in progress.steps:
            event = Event()
            event.add("uid", f"{step.kind}-{step.slug}-enrollment-{progress.enrollment.id}@{host}")
            event.add("dtstamp", now)
            event.add("dtstart", step.due_date)
            event.add("dtend", step.due_date + timedelta(days=1))
            prefix = _("Evaluación") if step.kind == "quiz" else _("Lección")
            done = " ✔" if step.state.value == "done" else ""
            event.add("summary", f"{prefix}: {step.title}{done}")
            description = _("%(track)s. Vence este día.", track=progress.track.title)
            moment = _done_at(step)
            if moment is not None:
                description += " " + _("Hecho el %(when)s.", when=format_when(moment, "d MMM yyyy, HH:mm"))
            event.add("description", description)
            event.add("url", url_for_step(step))
            event.add("transp", "TRANSPARENT")
            calendar.add_component(event)
    return calendar.to_ical()



def _done_at(step) -> datetime | None:
    """When a step was done: a lesson completed, a quiz first passed."""
    if step.state.value != "done":
        return None
    if step.kind == "lesson":
        return step.completed_at
    return step.result.first_passed_at if step.result else None
