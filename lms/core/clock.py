"""Time for rules: services receive ``now``/``today`` as arguments; views ask here."""
from __future__ import annotations

from datetime import date, datetime, timezone


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def today() -> date:
    return now_utc().date()
