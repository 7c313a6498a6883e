"""Templates' ``_`` and ``ngettext`` translate in the request's language wherever they are called: in a loop, after a
{% set %} in a block, and in a macro of a template imported without context (Jinja keeps that module, and the
render that first imported it, across requests)."""
from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale, refresh

PAGE = """{% from "certification/_parts.html" import status_badge %}{% block b %}{% set x = 1 %}{{ _("Vigente") }}
{% for s in ["active"] %}{{ status_badge(s) }}{{ ngettext("%(num)s punto", "%(num)s puntos", 2) }}{% endfor %}{% endblock %}"""


def _render(app, language: str) -> str:
    with app.test_request_context("/"):
        refresh()
        with force_locale(language):
            return render_template_string(PAGE)


def test_each_request_translates_in_its_own_language(app):
    spanish = _render(app, "es")
    english = _render(app, "en")
    assert spanish.count("Vigente") == 2 and "2 puntos" in spanish
    assert "Vigente" not in english and english.count("Active") == 2 and "2 points" in english
    assert _render(app, "es") == spanish


def test_a_language_forced_inside_a_request_and_left_again_is_honoured(app):
    """The request's translations are looked up once and kept (lms.core.i18n.translations) with its locale: a
    force_locale block inside the request translates in its language, and the request's own comes back after."""
    from flask_babel import get_locale, get_translations

    from lms.core.i18n import locale_name, translations

    with app.test_request_context("/", headers={"Accept-Language": "es"}):
        refresh()
        assert render_template_string('{{ _("Vigente") }}') == "Vigente" and locale_name() == "es"
        assert translations() is get_translations()
        with force_locale("en"):
            assert render_template_string('{{ _("Vigente") }}') == "Active"
            assert locale_name() == "en" == str(get_locale())
            assert translations() is get_translations()
        assert render_template_string('{{ _("Vigente") }}') == "Vigente" and locale_name() == "es"
        assert translations() is get_translations()
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        refresh()
        assert locale_name() == "en" and render_template_string('{{ _("Vigente") }}') == "Active"


def test_outside_a_context_the_default_language_is_named():
    from lms.core.i18n import locale_name, translations

    assert locale_name() == "es"
    assert translations().ugettext("Vigente") == "Vigente"
