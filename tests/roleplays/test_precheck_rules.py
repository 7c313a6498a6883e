"""Rules of the pre-check tuned on the handbook's standards (issue #18): each test states one rule, on replies written
for the test (never a calibration transcript)."""
from __future__ import annotations

from lms.roleplays.engine import text as T


def _date_words(text: str) -> list[str]:
    reply = T.understand(text)
    return [reply.tokens[i].surface for i in sorted(reply.dates)]


def test_dates_are_read_by_pattern_without_the_words_around_them():
    assert _date_words("Los dos cargos son del 1 de diciembre.") == ["1", "de", "diciembre"]
    assert _date_words("Te llamo el jueves 11 sin falta.") == ["jueves", "11"]
    assert _date_words("Se corrigió el 3/12 y en enero no pasará.") == ["3/12", "enero"]
    assert _date_words("Llega el 12 de marzo de 2027.") == ["12", "de", "marzo", "de", "2027"]
    # a time is a duration, not a date; «la mañana de» is a part of the day, not «tomorrow»
    assert _date_words("A las 17:40 se bloqueó.") == []
    assert "manana" not in _date_words("Pasa la mañana de hoy.")


def test_a_reply_with_a_date_gives_a_next_step_with_its_deadline():
    reply = T.understand("Finanzas te devuelve el importe el 11 de diciembre.")
    assert T.find(reply, "devolver ... #when") is not None
    assert T.find(T.understand("Finanzas te devuelve el importe en breve."), "devolver ... #when") is None


def test_the_precheck_loads_models_without_replaying_their_examples_and_content_check_still_does():
    from lms.roleplays.engine import model

    assert model.checking_examples()
    with model.examples_unchecked():
        assert not model.checking_examples()
    assert model.checking_examples()
