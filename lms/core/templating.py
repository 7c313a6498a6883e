"""Template helpers available in every page."""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from flask_babel import format_date, format_datetime, get_locale

from lms.core.forms import EmptyForm
from lms.core.idempotency import new_key


def init_app(app: Flask) -> None:
    @app.context_processor
    def _globals():
        return {"empty_form": EmptyForm, "current_locale": str(get_locale() or "es"), "new_idempotency_key": new_key}

    @app.template_filter("day")
    def _day(value: date | None, fmt: str = "medium") -> str:
        return format_date(value, fmt) if value else ""

    @app.template_filter("title_of")
    def _title_of(slug: str, titles: dict) -> str:
        """A slug's title from a {slug: title} mapping (the slug itself when unknown)."""
        return titles.get(slug, slug)

    @app.template_filter("when")
    def _when(value: datetime | None, fmt: str = "medium") -> str:
        return format_datetime(value, fmt) if value else ""
