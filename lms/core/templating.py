"""Template helpers available in every page."""
from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache

import re

from babel import dates as babel_dates
from flask import Flask
from flask_babel import get_locale, get_timezone

from lms.core.caches import BoundedCache
from lms.core.forms import EmptyForm
from lms.core.i18n import locale_name
from lms.core.idempotency import new_key


#: parts of the page frame (base.html) that depend only on the role, the language and the site's mount point
FRAME: BoundedCache = BoundedCache(64)


def init_app(app: Flask) -> None:
    @app.context_processor
    def _globals():
        return {"empty_form": EmptyForm, "current_locale": locale_name(), "new_idempotency_key": new_key,
                "frame_cache": FRAME}

    @app.template_filter("day")
    def _day(value: date | None, fmt: str | None = None) -> str:
        """A date: in tables, lists and facts the one medium format ("2 mar 2026"); ``'long'`` in sentences."""
        return format_day(value, DAY_FORMATS.get(fmt, fmt)) if value else ""

    @app.template_filter("num")
    def _num(value, decimals: int = 2) -> str:
        """A number as the reader writes it: "37,5" in Spanish, "37.5" in English; at most ``decimals`` decimals."""
        return format_number(value, decimals)

    @app.template_filter("title_of")
    def _title_of(slug: str, titles: dict) -> str:
        """A slug's title from a {slug: title} mapping (the slug itself when unknown)."""
        return titles.get(slug, slug)

    @app.template_filter("plural_count")
    def _plural_count(value) -> int:
        """The count ngettext chooses the form by (an integer: 1,5 minutos takes the plural like 2 does)."""
        return int(value) if value == int(value) else 2

    @app.template_filter("when")
    def _when(value: datetime | None, fmt: str | None = None) -> str:
        """A moment: everywhere on pages the one format "2 mar 2026, 15:30" (medium date, short time, the reader's
        zone); ``'long'``/``'full'`` or a pattern of its own where a place needs one."""
        return format_when(value, WHEN_FORMATS.get(fmt, fmt)) if value else ""


#: one date format per kind of place: the filters' short and medium lengths (and no length) are the same format, so
#: tables, lists and facts all read "2 mar 2026" and "2 mar 2026, 15:30"; sentences ask for 'long' ("2 de marzo de 2026")
MOMENT = "moment"
DAY_FORMATS = {None: "medium", "short": "medium", "medium": "medium"}
WHEN_FORMATS = {None: MOMENT, "short": MOMENT, "medium": MOMENT}


def format_number(value, decimals: int = 2) -> str:
    """A decimal number in the reader's language, at most ``decimals`` decimals, no grouping below 10 000 in Spanish."""
    if value is None:
        return ""
    # the sign apart: 0.0 and -0.0 are equal keys, and Babel writes them "0" and "-0"
    return _format_number(value, decimals, locale_name(), str(value).startswith("-"))


@lru_cache(maxsize=4096)
def _format_number(value, decimals: int, locale: str, _negative: bool) -> str:
    """Babel parses the pattern and quantizes on every call (about 60 µs): a page of twenty questions' points paid
    it twenty times. The result depends on the three arguments alone (values equal as keys, 1 and 1.0 or a Decimal,
    write the same)."""
    from babel.numbers import format_decimal

    pattern = "#,##0" + ("." + "#" * decimals if decimals > 0 else "")
    return format_decimal(round(value, decimals), format=pattern, locale=locale)


#: (kind, locale, format) → the one pattern for a date and time in that locale (Babel formats the two halves and joins
#: them through the locale's datetime format on every call: a hundred-row table paid that a hundred times); the
#: ``day`` filter's date patterns are kept the same way. A pattern does not depend on the time zone: the reader's zone
#: (lms.core.i18n.select_timezone) is applied to each moment when it is written, so one pattern serves every zone
_PATTERNS: dict[tuple[str, str, str], babel_dates.DateTimePattern] = {}
_JOIN = re.compile(r"(\{[01]\})")


def _pattern(kind: str, locale, fmt: str) -> babel_dates.DateTimePattern:
    """The parsed pattern of a "when" (date and time) or a "day" (date) in ``locale`` for ``fmt`` (a standard
    length or a pattern of its own), built once."""
    key = (kind, str(locale), fmt)
    pattern = _PATTERNS.get(key)
    if pattern is None:
        if fmt not in ("full", "long", "medium", "short", MOMENT):
            pattern = babel_dates.parse_pattern(fmt)
        elif kind == "day":
            pattern = babel_dates.parse_pattern(babel_dates.get_date_format(fmt, locale=locale).pattern)
        else:
            time_fmt, date_fmt = ("short", "medium") if fmt == MOMENT else (fmt, fmt)
            fmt = "medium" if fmt == MOMENT else fmt
            halves = {"{0}": babel_dates.get_time_format(time_fmt, locale=locale).pattern,
                      "{1}": babel_dates.get_date_format(date_fmt, locale=locale).pattern}
            parts = []
            for piece in _JOIN.split(str(babel_dates.get_datetime_format(fmt, locale=locale)).replace("'", "")):
                if piece in halves:
                    parts.append(halves[piece])
                elif piece:
                    parts.append("'" + piece.replace("'", "''") + "'")
            pattern = babel_dates.parse_pattern("".join(parts))
        _PATTERNS[key] = pattern
    return pattern


def format_when(value: datetime, fmt: str = "medium") -> str:
    """A moment in the reader's language and time zone, as Flask-Babel's ``format_datetime`` writes it."""
    locale = get_locale()
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return _pattern("when", locale, fmt).apply(value.astimezone(get_timezone()), locale)


def format_day(value: date, fmt: str = "medium") -> str:
    """A date in the reader's language (a moment: its day in the reader's time zone), as Flask-Babel's
    ``format_date`` writes it."""
    locale = get_locale()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(get_timezone()).date()
    return _pattern("day", locale, fmt).apply(value, locale)
