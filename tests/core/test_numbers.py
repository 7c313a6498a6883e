"""Numbers as the reader writes them (decimal comma in Spanish, dot in English, at most two decimals) and one
date format per kind of place."""
import re
from datetime import date, datetime, timezone

import pytest
from flask_babel import force_locale


@pytest.mark.parametrize("locale, expected", [
    ("es", ["37,5", "×1,5", "83,33", "100", "0,5", "12.345,68"]),
    ("en", ["37.5", "×1.5", "83.33", "100", "0.5", "12,345.68"]),
])
def test_the_num_filter(app, locale, expected):
    template = app.jinja_env.from_string("{{ a|num }}|×{{ b|num }}|{{ c|num }}|{{ d|num }}|{{ e|num }}|{{ f|num }}")
    with app.test_request_context("/"), force_locale(locale):
        assert template.render(a=37.5, b=1.5, c=83.3333, d=100.0, e=0.5, f=12345.678).split("|") == expected


def test_one_date_format_per_kind_of_place(app):
    moment = datetime(2026, 3, 2, 15, 30, tzinfo=timezone.utc)
    template = app.jinja_env.from_string("{{ m|when }}|{{ m|when('short') }}|{{ m|when('medium') }}|{{ d|day }}|{{ d|day('short') }}|{{ d|day('long') }}")
    with app.test_request_context("/"):
        with force_locale("es"):
            assert template.render(m=moment, d=date(2026, 3, 2)).split("|") == [
                "2 mar 2026, 15:30", "2 mar 2026, 15:30", "2 mar 2026, 15:30", "2 mar 2026", "2 mar 2026", "2 de marzo de 2026"]
        with force_locale("en"):
            assert template.render(m=moment, d=date(2026, 3, 2)).split("|")[0] == "Mar 2, 2026, 3:30\u202fPM"


def _timed_quiz_with_extra_time(session, agent, manager):
    """A 25-minute quiz and an agent with ×1.5 time: 37.5 minutes."""
    from lms.quizzes import services as quizzes
    from lms.quizzes.models import Accommodation
    from lms.tracks import services as tracks

    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 1, 5),
                  now=datetime(2026, 1, 5, tzinfo=timezone.utc))
    quiz = quizzes.get_quiz(session, "evaluacion-a")
    quiz.settings = dict(quiz.settings, time_limit_minutes=25)
    session.add(Accommodation(user_id=agent.id, time_multiplier=1.5, extra_attempts=0, granted_by_id=manager.id))
    session.commit()


def test_a_spanish_page_writes_decimal_commas(client, auth, session, content, agent, manager):
    _timed_quiz_with_extra_time(session, agent, manager)
    auth.login_as(agent)
    page = client.get("/quizzes/evaluacion-a").get_data(as_text=True)
    assert "37,5 minutos" in page and "(×1,5)" in page and "37.5" not in page


def test_an_english_page_writes_decimal_dots(client, auth, session, content, agent, manager):
    _timed_quiz_with_extra_time(session, agent, manager)
    agent.locale = "en"
    session.commit()
    auth.login_as(agent)
    page = client.get("/quizzes/evaluacion-a").get_data(as_text=True)
    assert "37.5 minutes" in page and "(×1.5)" in page and "37,5" not in page


def test_plurals_follow_the_count(client, auth, session, content, agent, manager):
    """"1 minuto", not "1 minutos" (ngettext everywhere a count is written)."""
    from lms.tracks import services as tracks

    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 1, 5),
                  now=datetime(2026, 1, 5, tzinfo=timezone.utc))
    lesson = tracks.get_lesson(session, "a-uno")
    auth.login_as(agent)
    for minutes, text in ((1, "1 minuto"), (15, "15 minutos")):
        lesson.minutes = minutes
        session.commit()
        page = client.get("/lessons/a-uno").get_data(as_text=True)
        assert re.search(r'<p class="muted">\s*' + text + r'\s', page), minutes


def test_cached_numbers_keep_the_sign_of_zero(app):
    """format_number caches by value, and 0.0 == -0.0: each is still written as Babel writes it."""
    from babel.numbers import format_decimal

    from lms.core.templating import format_number

    with app.test_request_context("/"):
        for value in (0.0, -0.0, 0.0, -0.0):
            assert format_number(value) == format_decimal(round(value, 2), format="#,##0.##", locale="es")
