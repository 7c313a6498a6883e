"""Time for rules: services receive ``now``/``today`` as arguments; views ask here."""
from __future__ import annotations

from datetime import date, datetime, timezone


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def today() -> date:
    return now_utc().date()


def local_today() -> date:
    """Today in the reader's time zone (Flask-Babel's, see lms.core.i18n.select_timezone); UTC's outside the app."""
    from flask import has_app_context

    if not has_app_context():
        return today()
    from flask_babel import get_timezone

    return now_utc().astimezone(get_timezone()).date()
