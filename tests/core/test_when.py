"""The ``when`` filter writes a moment exactly as Flask-Babel's format_datetime does, faster."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from flask_babel import force_locale, format_date, format_datetime, get_timezone

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
            assert template.render(m=moment) == "23 nov 2026, 13:05|"  # one format for moments on pages (test_numbers)
        with force_locale("en"):
            assert template.render(m=moment).startswith("Nov 23, 2026, 1:05")


@pytest.mark.parametrize("locale", ["es", "en"])
@pytest.mark.parametrize("fmt", ["short", "medium", "long", "full", "d/M/yyyy"])
def test_day_matches_flask_babel(app, locale, fmt):
    with app.test_request_context("/"), force_locale(locale):
        for value in [date(2026, 1, 1), date(2026, 11, 23), date(2024, 2, 29), *MOMENTS]:
            assert format_day(value, fmt) == format_date(value, fmt)


def test_the_cached_patterns_serve_every_reader_s_zone(app):
    """Patterns are cached per locale and format; the zone is applied to the moment on every call, so a Madrid and a
    Bogotá reader share a pattern and still read their own time (and their own day), as Flask-Babel would write it."""
    from lms.core.i18n import force_timezone

    moment = datetime(2026, 3, 29, 1, 30, tzinfo=timezone.utc)  # 03:30 CEST in Madrid, 20:30 the 28th in Bogotá
    with app.test_request_context("/"), force_locale("es"):
        seen = {}
        for zone in ("Europe/Madrid", "America/Bogota", "Europe/Madrid"):
            with force_timezone(zone):
                seen[zone] = (format_when(moment, "short"), format_day(moment, "short"))
                assert seen[zone] == (format_datetime(moment, "short"), format_date(moment.astimezone(get_timezone()).date(), "short"))
        assert seen == {"Europe/Madrid": ("29/3/26, 3:30", "29/3/26"), "America/Bogota": ("28/3/26, 20:30", "28/3/26")}
