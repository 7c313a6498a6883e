"""The ``when`` filter writes a moment exactly as Flask-Babel's format_datetime does, faster."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from flask_babel import force_locale, format_date, format_datetime

from lms.core.templating import format_day, format_when

MOMENTS = [datetime(2026, 1, 1, 0, 0, tzinfo=timezone.utc), datetime(2026, 11, 23, 13, 5, 9, tzinfo=timezone.utc),
           datetime(2026, 7, 4, 23, 59, 59, tzinfo=timezone(timedelta(hours=2))), datetime(2025, 2, 28, 9, 30)]


@pytest.mark.parametrize("locale", ["es", "en"])
@pytest.mark.parametrize("fmt", ["short", "medium", "long", "full", "d/M/yyyy HH:mm"])
def test_when_matches_flask_babel(app, locale, fmt):
    with app.test_request_context("/"), force_locale(locale):
        for moment in MOMENTS:
            assert format_when(moment, fmt) == format_datetime(moment, fmt)


def test_when_in_a_template_follows_the_reader_language(app):
    moment = datetime(2026, 11, 23, 13, 5, tzinfo=timezone.utc)
    with app.test_request_context("/"):
        template = app.jinja_env.from_string("{{ m|when('short') }}|{{ none|when }}")
        with force_locale("es"):
            assert template.render(m=moment) == "23/11/26, 13:05|"
        with force_locale("en"):
            assert template.render(m=moment).startswith("11/23/26, 1:05")


@pytest.mark.parametrize("locale", ["es", "en"])
@pytest.mark.parametrize("fmt", ["short", "medium", "long", "full", "d/M/yyyy"])
def test_day_matches_flask_babel(app, locale, fmt):
    with app.test_request_context("/"), force_locale(locale):
        for value in [date(2026, 1, 1), date(2026, 11, 23), date(2024, 2, 29), *MOMENTS]:
            assert format_day(value, fmt) == format_date(value, fmt)
