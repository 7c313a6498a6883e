"""The dashboard's table of agents written in Python (issue #22): a hundred rows of nine cells each were the
page's largest template work. The output is byte for byte what the template loop it replaces wrote
(tests/reporting/test_dashboard_table.py renders both and compares).

The cells' words are formatted once per distinct value: the averages through a bounded per-process cache keyed by
the locale and the number (Babel's number formatting was a fifth of the page), the moments from their local day
and minute (each day and each minute written once per page, joined as the locale's date-time format joins them)."""
from __future__ import annotations

import re

from babel import dates as babel_dates
from flask_babel import get_locale, get_timezone
from markupsafe import Markup, escape

from lms.core.templating import WHEN_FORMATS, format_number, format_when

#: (locale, repr of the number) → "37,5%" (repr: 0.0 and -0.0 are equal keys but not the same words); bounded
_FIGURES: dict[tuple[str, str], str] = {}
MAX_FIGURES = 8192


def _figure(value) -> str:
    return "—" if value is None else f"{format_number(value)}%"


def _figures():
    """A function writing an average as ``_figure`` does, cached per locale and number."""
    locale = str(get_locale())

    def figure(value) -> str:
        if value is None:
            return "—"
        key = (locale, repr(value))
        text = _FIGURES.get(key)
        if text is None:
            if len(_FIGURES) >= MAX_FIGURES:
                _FIGURES.clear()
            text = _FIGURES[key] = str(escape(_figure(value)))
        return text
    return figure


#: Babel fields that depend on nothing finer than the local day (date half) or the local minute (time half)
_DAY_FIELDS = re.compile(r"^(G+|y+|Y+|u+|Q+|q+|M+|L+|w+|W+|d+|D+|F+|g+|E+|e+|c+)$")
_MINUTE_FIELDS = re.compile(r"^(a+|b+|B+|h+|H+|K+|k+|m+)$")
_FIELD = re.compile(r"%\((\w+)\)s")
_JOIN = re.compile(r"(\{[01]\})")


def _moments():
    """A function writing a moment as ``format_when(value, WHEN_FORMATS["short"])`` does, each local day and each
    local minute written once (None: the locale's pattern has fields finer than a minute; use format_when)."""
    locale, zone = get_locale(), get_timezone()
    date_pattern = babel_dates.parse_pattern(babel_dates.get_date_format("medium", locale=locale).pattern)
    time_pattern = babel_dates.parse_pattern(babel_dates.get_time_format("short", locale=locale).pattern)
    if WHEN_FORMATS["short"] != "moment" or not (
            all(_DAY_FIELDS.match(f) for f in _FIELD.findall(date_pattern.format))
            and all(_MINUTE_FIELDS.match(f) for f in _FIELD.findall(time_pattern.format))):
        return None
    glue = [p for p in _JOIN.split(str(babel_dates.get_datetime_format("medium", locale=locale)).replace("'", "")) if p]
    days: dict = {}
    minutes: dict = {}

    def moment(value) -> str:
        local = value.astimezone(zone)
        day = local.date()
        day_text = days.get(day)
        if day_text is None:
            day_text = days[day] = date_pattern.apply(local, locale)
        minute = (local.hour, local.minute)
        time_text = minutes.get(minute)
        if time_text is None:
            time_text = minutes[minute] = time_pattern.apply(local, locale)
        return "".join(time_text if p == "{0}" else day_text if p == "{1}" else p for p in glue)
    return moment


def agent_rows(rows, record_url: str, history_url: str, certificates_url: str, history: str, state_labels: dict,
               start_days: dict) -> Markup:
    """The <tr> of every dashboard row; links, labels and start dates are built once per page by the caller."""
    record_url, history_url, certificates_url = escape(record_url), escape(history_url), escape(certificates_url)
    history = escape(history)
    labels = {state: escape(label) for state, label in state_labels.items()}
    days = {day: escape(text) for day, text in start_days.items()}
    figure = _figures()
    write_moment = _moments()
    moments: dict = {}  # agents active in the same minute share the words
    out = []
    for r in rows:
        agent_id, name = r.agent.id, escape(r.agent.name)
        start = f'<br><span class="muted">{days[r.start_date]}</span>' if r.start_date else ""
        if r.percent is not None:
            percent = escape(r.percent)
            progress = (f'<progress class="progress" max="100" value="{percent}" aria-label="{name}">{percent}%</progress> '
                        f'{percent}%')
        else:
            progress = "—"
        if r.last_activity:
            when = moments.get(r.last_activity)
            if when is None:
                last = r.last_activity
                if last.tzinfo is None:
                    from datetime import timezone

                    last = last.replace(tzinfo=timezone.utc)
                text = write_moment(last) if write_moment is not None else format_when(last, WHEN_FORMATS["short"])
                when = moments[r.last_activity] = escape(text)
        else:
            when = "—"
        out.append(
            f'\n    <tr><td><a href="{record_url}{agent_id}">{name}</a>'
            f'\n      <br><a class="muted" href="{history_url}{agent_id}">{history}</a></td>'
            f'\n      <td>{escape(r.track or "—")}{start}</td>'
            f'\n      <td>{progress}</td>'
            f'\n      <td>{escape(r.overdue)}</td><td>{when}</td>'
            f'\n      <td>{figure(r.quiz_average)}</td>'
            f'\n      <td>{figure(r.roleplay_average)}</td>'
            f'\n      <td><a href="{certificates_url}{agent_id}">{escape(r.certifications)}</a></td>'
            f'\n      <td><span class="badge badge-{escape(r.state)}">{labels[r.state]}</span></td></tr>\n  ')
    return Markup("".join(out))  # nosec B704  # every value above is escaped
