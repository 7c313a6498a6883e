"""The dashboard's table of agents written in Python (issue #22): a hundred rows of nine cells each were the
page's largest template work. The output is byte for byte what the template loop it replaces wrote
(tests/reporting/test_dashboard_table.py renders both and compares)."""
from __future__ import annotations

from markupsafe import Markup, escape

from lms.core.templating import WHEN_FORMATS, format_number, format_when


def _figure(value) -> str:
    return "—" if value is None else f"{format_number(value)}%"


def agent_rows(rows, record_url: str, history_url: str, certificates_url: str, history: str, state_labels: dict,
               start_days: dict) -> Markup:
    """The <tr> of every dashboard row; links, labels and start dates are built once per page by the caller."""
    record_url, history_url, certificates_url = escape(record_url), escape(history_url), escape(certificates_url)
    history = escape(history)
    labels = {state: escape(label) for state, label in state_labels.items()}
    days = {day: escape(text) for day, text in start_days.items()}
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
                when = moments[r.last_activity] = escape(format_when(r.last_activity, WHEN_FORMATS["short"]))
        else:
            when = "—"
        out.append(
            f'\n    <tr><td><a href="{record_url}{agent_id}">{name}</a>'
            f'\n      <br><a class="muted" href="{history_url}{agent_id}">{history}</a></td>'
            f'\n      <td>{escape(r.track or "—")}{start}</td>'
            f'\n      <td>{progress}</td>'
            f'\n      <td>{escape(r.overdue)}</td><td>{when}</td>'
            f'\n      <td>{escape(_figure(r.quiz_average))}</td>'
            f'\n      <td>{escape(_figure(r.roleplay_average))}</td>'
            f'\n      <td><a href="{certificates_url}{agent_id}">{escape(r.certifications)}</a></td>'
            f'\n      <td><span class="badge badge-{escape(r.state)}">{labels[r.state]}</span></td></tr>\n  ')
    return Markup("".join(out))  # nosec B704  # every value above is escaped
