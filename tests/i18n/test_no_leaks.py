"""Error paths rendered in Spanish show no English, and in English show the English text (issue #17, "Text that leaks")."""
from __future__ import annotations

import io

import pytest
from flask_babel import force_locale

from lms.quizzes.question_types import AnswerError, parse_number, REGISTRY

GIFT_WITH_ERRORS = (
    "::ok:: Fine {=yes ~no}\n\n"
    "::unclosed:: Which channel answers in 30 s? {=Chat ~Email\n\n"
    "::noright:: Pick one {~a ~b}\n\n"
    "::badnum:: A number {#abc}\n\n"
    "A description with no answers.\n"
)
SPANISH = ("no se cierra con «}»", "no hay respuesta correcta", "no es una respuesta numérica", "descripción", "no tiene cita")
ENGLISH = ("not closed with '}'", "no correct answer", "is not a numeric answer", "description", "has no citation")


@pytest.mark.parametrize("lang, expected, leaked", [("es", SPANISH, ENGLISH), ("en", ENGLISH, SPANISH)])
def test_gift_import_errors_in_the_readers_language(client, auth, trainer, lang, expected, leaked):
    auth.login_as(trainer)
    # the upload page of the authoring domain (a question file becomes a draft bank)
    page = client.post(f"/authoring/import?lang={lang}", data={"file": (io.BytesIO(GIFT_WITH_ERRORS.encode()), "banco.gift"),
                                                               "fmt": "auto", "bank": "", "title": ""}, content_type="multipart/form-data")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in expected:
        assert text in html.replace("&#39;", "'").replace("&lt;", "<"), text
    for text in leaked:
        assert text not in html.replace("&#39;", "'"), text


@pytest.mark.parametrize("lang, expected, leaked", [
    ("es", "no pueden superar las horas desde la apertura", "cannot exceed"),
    ("en", "cannot exceed hours since opening", "no pueden superar"),
])
def test_advisor_validation_in_the_readers_language(client, auth, agent, lang, expected, leaked):
    auth.login_as(agent)
    page = client.get("/escalation", query_string={"lang": lang, "channel": "chat", "current_level": "1", "hours_since_opening": "5",
                                                   "hours_at_current_level": "30", "impact": "medio", "complexity": "ninguna"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert expected in html and leaked not in html
    assert "hours_at_current_level cannot" not in html  # never the engine's own message


def test_answer_errors_are_translated(app):
    """A malformed answer (a word in a number field) is reported in the agent's language, not the code's English."""
    with app.test_request_context("/"):
        for locale, text in (("es", "«doce» no es un número"), ("en", "'doce' is not a number")):
            with force_locale(locale):
                with pytest.raises(AnswerError) as caught:
                    parse_number("doce")
                assert str(caught.value) == text
        with force_locale("es"):
            with pytest.raises(AnswerError) as caught:
                REGISTRY["true_false"].parse({}, {}, {"q": ["quizá"]}, "q")
            assert "no es verdadero ni falso" in str(caught.value)


def test_importer_messages_default_to_spanish_outside_a_request():
    """Commands (no request) speak the default language: Spanish, never the code's English."""
    from lms.quizzes.formats import gift

    report = gift.parse(GIFT_WITH_ERRORS)
    messages = " ".join(str(m) for _, m in report.errors + report.notes)
    for text in ("no se cierra", "no hay respuesta correcta", "no es una respuesta numérica"):
        assert text in messages
    for text in ENGLISH:
        assert text not in messages
