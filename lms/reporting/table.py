"""The dashboard's table of agents written in Python (issue #22): a hundred rows of nine cells each were the
page's largest template work. The output is byte for byte what the template loop it replaces wrote
(tests/reporting/test_dashboard_table.py renders both and compares).

The cells' words are formatted once per distinct value: the averages through a bounded per-process cache keyed by
the locale and the number (Babel's number formatting was a fifth of the page), the days and moments from their
local day and minute (each day and each minute written once per process and locale, joined as the locale's date-time
format joins them)."""
from __future__ import annotations

import re
from datetime import timezone

from babel import dates as babel_dates
from flask_babel import get_locale, get_timezone
from markupsafe import Markup, escape

from lms.core.caches import BoundedCache
from lms.core.templating import DAY_FORMATS, MOMENT, WHEN_FORMATS, format_day, format_number, format_when

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

#: per locale: (date pattern, time pattern, the date-time format's pieces) — None when a pattern has a field finer
#: than the day (date) or the minute (time): then every moment goes through format_when
_LOCALE_PATTERNS: dict[str, tuple | None] = {}
#: (locale, local date) → "2 mar 2026"; (locale, hour, minute) → "15:30": bounded, per process
_DAY_TEXTS: dict[tuple, str] = {}
_MINUTE_TEXTS: dict[tuple, str] = {}
MAX_TEXTS = 8192


def _locale_patterns(locale) -> tuple | None:
    key = str(locale)
    if key not in _LOCALE_PATTERNS:
        date_pattern = babel_dates.parse_pattern(babel_dates.get_date_format(DAY_FORMATS[None], locale=locale).pattern)
        time_pattern = babel_dates.parse_pattern(babel_dates.get_time_format("short", locale=locale).pattern)
        glue = [p for p in _JOIN.split(str(babel_dates.get_datetime_format("medium", locale=locale)).replace("'", "")) if p]
        exact = (WHEN_FORMATS["short"] == MOMENT and DAY_FORMATS[None] == "medium"
                 and all(_DAY_FIELDS.match(f) for f in _FIELD.findall(date_pattern.format))
                 and all(_MINUTE_FIELDS.match(f) for f in _FIELD.findall(time_pattern.format)))
        _LOCALE_PATTERNS[key] = (date_pattern, time_pattern, glue) if exact else None
    return _LOCALE_PATTERNS[key]


def _remember(cache: dict, key, text: str) -> str:
    if len(cache) >= MAX_TEXTS:
        cache.clear()
    cache[key] = text
    return text


def day_texts(days) -> dict:
    """{date: as the ``day`` filter writes it} for these dates, each written once per process and locale."""
    locale = get_locale()
    patterns = _locale_patterns(locale)
    if patterns is None:
        return {d: format_day(d, DAY_FORMATS[None]) for d in days}
    key, date_pattern = str(locale), patterns[0]
    out = {}
    for d in days:
        text = _DAY_TEXTS.get((key, d))
        out[d] = text if text is not None else _remember(_DAY_TEXTS, (key, d), date_pattern.apply(d, locale))
    return out


def _moments():
    """A function writing a moment as ``format_when(value, WHEN_FORMATS["short"])`` does from its local day and
    local minute, each written once per process and locale, joined as the locale's date-time format joins them."""
    locale, zone = get_locale(), get_timezone()
    patterns = _locale_patterns(locale)
    if patterns is None:
        return lambda value: format_when(value, WHEN_FORMATS["short"])
    date_pattern, time_pattern, glue = patterns
    key = str(locale)

    def moment(value) -> str:
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        local = value.astimezone(zone)
        day = local.date()
        day_text = _DAY_TEXTS.get((key, day))
        if day_text is None:
            day_text = _remember(_DAY_TEXTS, (key, day), date_pattern.apply(day, locale))
        minute = (key, local.hour, local.minute)
        time_text = _MINUTE_TEXTS.get(minute)
        if time_text is None:
            time_text = _remember(_MINUTE_TEXTS, minute, time_pattern.apply(local, locale))
        return "".join(time_text if p == "{0}" else day_text if p == "{1}" else p for p in glue)
    return moment


#: the rows' markup by everything it is written from (the rows, compared by value, the links, labels and start days,
#: the language and the time zone): a team's page shown again with the same figures writes nothing; bounded, per process
_WRITTEN: "BoundedCache[Markup]" = BoundedCache(8)


def agent_rows(rows, record_url: str, history_url: str, certificates_url: str, history: str, state_labels: dict,
               start_days: dict) -> Markup:
    """The <tr> of every dashboard row; links, labels and start dates are built once per page by the caller."""
    key = None
    # (only rows of plain SQL rows of agents, compared by value: never ORM objects, which would be kept alive)
    if rows and all(hasattr(r.agent, "_fields") for r in rows):
        key = (tuple(rows), record_url, history_url, certificates_url, history, tuple(state_labels.items()),
               tuple(start_days.items()), str(get_locale()), str(get_timezone()))
    written = _WRITTEN.get(key)
    if written is None:
        written = _WRITTEN.put(key, _agent_rows(rows, record_url, history_url, certificates_url, history, state_labels, start_days))
    return written


def _agent_rows(rows, record_url: str, history_url: str, certificates_url: str, history: str, state_labels: dict,
                start_days: dict) -> Markup:
    record_url, history_url, certificates_url = escape(record_url), escape(history_url), escape(certificates_url)
    history = escape(history)
    labels = {state: escape(label) for state, label in state_labels.items()}
    days = {day: escape(text) for day, text in start_days.items()}
    figure = _figures()
    write_moment = _moments()
    moments: dict = {}  # agents active in the same minute share the words
    tracks: dict = {}  # each track's title escaped once
    badges = {state: f'<span class="badge badge-{escape(state)}">{label}</span>' for state, label in labels.items()}
    out = []
    for r in rows:
        agent_id, name = r.agent.id, escape(r.agent.name)
        start = f'<br><span class="muted">{days[r.start_date]}</span>' if r.start_date else ""
        track = tracks.get(r.track)
        if track is None:
            track = tracks[r.track] = escape(r.track or "—")
        if r.percent is not None:
            percent = r.percent if type(r.percent) is int else escape(r.percent)  # an int's digits need no escaping
            progress = (f'<progress class="progress" max="100" value="{percent}" aria-label="{name}">{percent}%</progress> '
                        f'{percent}%')
        else:
            progress = "—"
        if r.last_activity:
            when = moments.get(r.last_activity)
            if when is None:
                when = moments[r.last_activity] = escape(write_moment(r.last_activity))
        else:
            when = "—"
        out.append(
            f'\n    <tr><td><a href="{record_url}{agent_id}">{name}</a>'
            f'\n      <br><a class="muted" href="{history_url}{agent_id}">{history}</a></td>'
            f'\n      <td>{track}{start}</td>'
            f'\n      <td>{progress}</td>'
            f'\n      <td>{_count(r.overdue)}</td><td>{when}</td>'
            f'\n      <td>{figure(r.quiz_average)}</td>'
            f'\n      <td>{figure(r.roleplay_average)}</td>'
            f'\n      <td><a href="{certificates_url}{agent_id}">{_count(r.certifications)}</a></td>'
            f'\n      <td>{badges[r.state]}</td></tr>\n  ')
    return Markup("".join(out))  # nosec B704  # every value above is escaped


def _count(value):
    """A count as the cell shows it: an int's digits as they are (nothing to escape), anything else escaped."""
    return value if type(value) is int else escape(value)


def team_options(teams, team_id) -> Markup:
    """The team filter's <option>s (an admin: hundreds of teams), as the template loop wrote them."""
    options = "".join(f'<option value="{escape(t.id)}" {"selected" if team_id == t.id else ""}>{escape(t.name)}</option>' for t in teams)
    return Markup(options)  # nosec B704  # built from escaped ids and names


def team_rows(rows, team_url: str) -> Markup:
    """The <tr> of every team of the organisation-wide table (fifty a page), as the template loop wrote them."""
    team_url = escape(team_url)
    out = []
    for t in rows:
        name, percent = escape(t.name), escape(t.percent)
        out.append(
            f'\n    <tr><td><a href="{team_url}?team={escape(t.team_id)}">{name}</a></td><td>{escape(t.agents)}</td><td>{escape(t.enrolled)}</td>'
            f'\n      <td><progress class="progress" max="100" value="{percent}" aria-label="{name}">{percent}%</progress> {percent}%</td>'
            f'<td>{escape(t.overdue)}</td><td>{escape(t.behind)}</td><td>{escape(t.on_track)}</td><td>{escape(t.not_started)}</td>'
            f'<td>{escape(t.completed)}</td></tr>\n  ')
    return Markup("".join(out))  # nosec B704  # every value above is escaped
