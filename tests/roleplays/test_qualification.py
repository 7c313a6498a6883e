"""Qualification proves something: exemplars that span the scale, and a trainer who gives one level everywhere, or
passes the trap, does not qualify."""
from __future__ import annotations

from types import SimpleNamespace

from lms.roleplays import calibration as cal

#: an excellent, a mediocre, a deficient exemplar and a trap (polished, but with wrong information), 3 criteria
AGREED = [{"a": 4, "b": 4, "c": 4}, {"a": 2, "b": 2, "c": 3}, {"a": 0, "b": 1, "c": 0}, {"a": 4, "b": 0, "c": 4}]


def rows(given: list[dict]) -> list:
    return [(SimpleNamespace(levels=g), SimpleNamespace(agreed_levels=a)) for g, a in zip(given, AGREED)]


def gaps(given):
    return cal.qualification_gaps(rows(given), len(given))


def test_a_trainer_who_agrees_with_the_agreed_levels_qualifies():
    assert gaps(AGREED) == []
    near = [dict(a, c=min(4, a["c"] + 1)) if n == 1 else a for n, a in enumerate(AGREED)]
    assert gaps(near) == []


def test_the_same_level_everywhere_never_qualifies(app):
    with app.test_request_context():
        for level in range(5):
            found = gaps([{"a": level, "b": level, "c": level}] * 4)
            assert found, level
            assert any("mismo nivel" in gap for gap in found)


def test_a_trainer_who_misses_the_trap_does_not_qualify(app):
    with app.test_request_context():
        # right everywhere except the trap's wrong information, rated as achieved
        given = [*AGREED[:3], {"a": 4, "b": 4, "c": 4}]
        found = gaps(given)
        assert any("la trampa" in gap for gap in found)


def test_exemplars_that_do_not_span_the_scale_qualify_nobody(app):
    with app.test_request_context():
        models = [{"a": 4, "b": 4, "c": 4}] * 2
        found = cal.qualification_gaps([(SimpleNamespace(levels=m), SimpleNamespace(agreed_levels=m)) for m in models], 2)
        assert any("no cubren la escala" in gap for gap in found)


def test_a_new_trainer_sees_what_keeps_them_from_qualifying(client, auth, trainer):
    auth.login_as(trainer)
    page = client.get("/manage/roleplays/calibration").get_data(as_text=True)
    assert "En formación" in page and "Califica al menos 2 ejemplares." in page
