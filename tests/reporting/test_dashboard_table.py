"""The dashboard's table of agents is written in Python (issue #22), byte for byte as the template loop it replaced."""
from __future__ import annotations

from datetime import date, datetime, timezone
from types import SimpleNamespace

import pytest

from lms.reporting.services import DashboardRow
from lms.reporting.table import agent_rows, day_texts, team_options, team_rows

#: the template loop as it was (lms/reporting/templates/reporting/dashboard.html before issue #22)
OLD_LOOP = '  {% for r in rows %}\n    <tr><td><a href="{{ record_url }}{{ r.agent.id }}">{{ r.agent.name }}</a>\n      <br><a class="muted" href="{{ history_url }}{{ r.agent.id }}">{{ history }}</a></td>\n      <td>{{ r.track or \'—\' }}{% if r.start_date %}<br><span class="muted">{{ start_days[r.start_date] }}</span>{% endif %}</td>\n      <td>{% if r.percent is not none %}<progress class="progress" max="100" value="{{ r.percent }}" aria-label="{{ r.agent.name }}">{{ r.percent }}%</progress> {{ r.percent }}%{% else %}—{% endif %}</td>\n      <td>{{ r.overdue }}</td><td>{{ r.last_activity|when(\'short\') if r.last_activity else \'—\' }}</td>\n      <td>{{ (r.quiz_average)|num ~ \'%\' if r.quiz_average is not none else \'—\' }}</td>\n      <td>{{ (r.roleplay_average)|num ~ \'%\' if r.roleplay_average is not none else \'—\' }}</td>\n      <td><a href="{{ certificates_url }}{{ r.agent.id }}">{{ r.certifications }}</a></td>\n      <td><span class="badge badge-{{ r.state }}">{{ state_labels[r.state] }}</span></td></tr>\n  {% else %}\n    <tr><td colspan="9">{{ _("Ningún agente coincide.") }}</td></tr>\n  {% endfor %}'

STATES = {"overdue": "Vencida", "behind": "Con retraso", "on_track": "Al día", "not_started": "Por empezar", "completed": "Completado",
          "not_enrolled": "Sin inscribir"}


def _rows():
    moment = datetime(2026, 3, 4, 15, 7, 33, tzinfo=timezone.utc)
    return [
        DashboardRow(SimpleNamespace(id=7, name="Ana <López> & \"Cía\""), "Onboarding 4 semanas", date(2026, 3, 2), 57, "behind", 3, moment,
                     83.5, 66.67, 2),
        DashboardRow(SimpleNamespace(id=8, name="Bea"), "", None, None, "not_enrolled", 0, None, None, None, 0),
        DashboardRow(SimpleNamespace(id=9, name="Carla"), "Track 'B'", date(2026, 3, 2), 100, "completed", 0, moment, 100.0, 75.0, 1),
        DashboardRow(SimpleNamespace(id=10, name="Dani"), "T", date(2026, 1, 5), 0, "overdue", 12, moment.replace(hour=2), 0.0, 0.0, 0),
    ]


@pytest.mark.parametrize("language", ["es", "en"])
def test_python_rows_equal_the_template_loop(app, language):
    rows = _rows()
    with app.test_request_context("/", headers={"Accept-Language": language}):
        start_days = {d: app.jinja_env.filters["day"](d) for d in {r.start_date for r in rows if r.start_date}}
        context = dict(rows=rows, record_url="/manage/agents/", history_url="/manage/dashboard/agents/",
                       certificates_url="/manage/certifications/agents/", history="historial", state_labels=STATES, start_days=start_days)
        old = app.jinja_env.from_string(OLD_LOOP).render(**context)
        new = "  " + agent_rows(rows, context["record_url"], context["history_url"], context["certificates_url"], context["history"],
                                STATES, start_days)
    assert "&lt;López&gt; &amp; &#34;Cía&#34;" in new and "—" in new
    assert new == old


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize("zone", [None, "America/Bogota", "Europe/Madrid", "Asia/Kolkata"])
def test_many_moments_and_figures_equal_the_template_loop(app, language, zone):
    """The words of the moments (from their local day and minute) and of the averages (cached per locale and
    number) are the filters' own: minutes around midnight and a change of daylight saving time, zero and minus zero,
    thousands, integers and decimals."""
    from datetime import timedelta

    from lms.core.i18n import force_timezone

    base = datetime(2026, 3, 28, 21, 58, 59, tzinfo=timezone.utc)  # Madrid moves its clocks on 29 March 2026
    moments = [base + timedelta(minutes=37 * n, seconds=n) for n in range(120)] + [datetime(2026, 1, 1, 0, 0)]  # and a naive one
    numbers = [0, 0.0, -0.0, 1, 5.5, 37.5, 66.67, 83.33, 99.99, 100, 100.0, 1234.5, 12345.6, 33.333, 0.005]
    rows = [DashboardRow(SimpleNamespace(id=n, name=f"A{n}"), "T", date(2026, 3, 2), n % 101, "on_track", n % 4, moment,
                         numbers[n % len(numbers)], numbers[(n * 7) % len(numbers)], n % 3)
            for n, moment in enumerate(moments)]
    with app.test_request_context("/", headers={"Accept-Language": language}), force_timezone(zone):
        start_days = {d: app.jinja_env.filters["day"](d) for d in {r.start_date for r in rows if r.start_date}}
        context = dict(rows=rows, record_url="/a/", history_url="/h/", certificates_url="/c/", history="historial",
                       state_labels=STATES, start_days=start_days)
        old = app.jinja_env.from_string(OLD_LOOP).render(**context)
        for _ in range(2):  # the second time from the caches
            new = "  " + agent_rows(rows, "/a/", "/h/", "/c/", "historial", STATES, start_days)
            assert new == old
            days = {date(2025, 12, 31) + timedelta(days=n * 11) for n in range(60)}
            assert day_texts(days) == {d: app.jinja_env.filters["day"](d) for d in days}


@pytest.mark.parametrize("team_id", [None, 2])
def test_team_options_equal_the_template_loop(app, team_id):
    teams = [SimpleNamespace(id=1, name="Ventas <Norte> & \"Co\""), SimpleNamespace(id=2, name="Soporte"), SimpleNamespace(id=3, name="Ñ")]
    loop = '{% for t in teams %}<option value="{{ t.id }}" {% if team_id == t.id %}selected{% endif %}>{{ t.name }}</option>{% endfor %}'
    with app.test_request_context("/"):
        assert str(team_options(teams, team_id)) == app.jinja_env.from_string(loop).render(teams=teams, team_id=team_id)
    assert "&lt;Norte&gt;" in team_options(teams, team_id)


#: the organisation-wide table's loop as it was (dashboard.html before issue #22's second pass)
OLD_TEAMS_LOOP = '''  {% for t in team_rows %}
    <tr><td><a href="{{ team_url }}?team={{ t.team_id }}">{{ t.name }}</a></td><td>{{ t.agents }}</td><td>{{ t.enrolled }}</td>
      {%- set percent = t.percent %}
      <td><progress class="progress" max="100" value="{{ percent }}" aria-label="{{ t.name }}">{{ percent }}%</progress> {{ percent }}%</td><td>{{ t.overdue }}</td><td>{{ t.behind }}</td><td>{{ t.on_track }}</td><td>{{ t.not_started }}</td><td>{{ t.completed }}</td></tr>
  {% endfor %}'''


def test_team_rows_equal_the_template_loop(app):
    from lms.tracks.services import TeamProgress

    teams = [TeamProgress(4, 'Ventas <Norte> & "Co"', 20, 18, 1, 2, 10, 3, 2, 37, 90), TeamProgress(9, "Sur", 0, 0, 0, 0, 0, 0, 0, 0, 0),
             TeamProgress(12, "Ñandú", 5, 5, 0, 0, 0, 0, 5, 40, 40)]
    with app.test_request_context("/"):
        old = app.jinja_env.from_string(OLD_TEAMS_LOOP).render(team_rows=teams, team_url="/manage/dashboard/")
        new = "  " + team_rows(teams, "/manage/dashboard/")
    assert "&lt;Norte&gt; &amp; &#34;Co&#34;" in new and 'value="41"' in new
    assert new == old
