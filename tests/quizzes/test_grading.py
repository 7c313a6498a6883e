"""Each question type grades exactly as the quizzes README states."""
import random

import pytest

from lms.quizzes.question_types import REGISTRY, AnswerError, normalise_text, parse_number

SINGLE = {"type": "single_choice", "choices": [{"text": "A", "correct": True}, {"text": "B", "feedback": "No, B no."}, {"text": "C"}]}
MULTI = {"type": "multiple_choice", "choices": [{"text": "A", "correct": True}, {"text": "B", "correct": True}, {"text": "C"}, {"text": "D"}]}
MATCH = {"type": "matching", "pairs": [{"left": "Chat", "right": "30 s"}, {"left": "Email", "right": "2 h"}], "distractors": ["1 semana"]}
ORDER = {"type": "ordering", "items": ["Recepción", "Investigación", "Resolución", "Seguimiento"]}
NUMERIC = {"type": "numeric", "answer": 80, "tolerance": 0.5}
SHORT = {"type": "short_text", "answers": ["escucha activa", "parafrase*"]}
CALC = {"type": "calculated", "text": "{a} {b}", "variables": {"a": {"min": 1, "max": 9}, "b": {"min": 10, "max": 20}},
        "formula": "a / b * 100", "tolerance": 0.5, "decimals": 1}


def grade(q, answer, layout=None):
    return REGISTRY[q["type"]].grade(q, layout or {}, answer)


def parse(q, values, layout=None):
    return REGISTRY[q["type"]].parse(q, layout or {}, values, "q0")


def test_single_choice():
    assert grade(SINGLE, {"choice": 0}).fraction == 1
    result = grade(SINGLE, {"choice": 1})
    assert result.fraction == 0 and result.details == ["No, B no."]
    assert grade(SINGLE, None).fraction == 0


@pytest.mark.parametrize(("chosen", "expected"), [
    ([0, 1], 1.0), ([0], 0.5), ([0, 2], 0.0), ([0, 1, 2], 0.5), ([2, 3], 0.0), ([0, 1, 2, 3], 0.0),
])
def test_multiple_choice_partial_credit(chosen, expected):
    assert grade(MULTI, {"choices": chosen}).fraction == pytest.approx(expected)


def test_true_false():
    q = {"type": "true_false", "answer": False}
    assert grade(q, {"value": False}).fraction == 1 and grade(q, {"value": True}).fraction == 0
    assert parse(q, {"q0": ["false"]}) == {"value": False}
    with pytest.raises(AnswerError):
        parse(q, {"q0": ["maybe"]})


def test_matching_each_pair_earns_its_share():
    assert grade(MATCH, {"matches": {"0": 0, "1": 1}}).fraction == 1
    assert grade(MATCH, {"matches": {"0": 0, "1": 2}}).fraction == 0.5
    assert parse(MATCH, {"q0-0": ["1"], "q0-1": [""]}) == {"matches": {"0": 1}}
    with pytest.raises(AnswerError):
        parse(MATCH, {"q0-0": ["7"]})


def test_ordering_counts_items_in_their_place():
    assert grade(ORDER, {"positions": {"0": 0, "1": 1, "2": 2, "3": 3}}).fraction == 1
    assert grade(ORDER, {"positions": {"0": 1, "1": 0, "2": 2, "3": 3}}).fraction == 0.5
    assert parse(ORDER, {"q0-0": ["2"], "q0-1": ["1"]}) == {"positions": {"0": 1, "1": 0}}
    layout = REGISTRY["ordering"].prepare(ORDER, random.Random(1), True)
    assert layout["order"] != [0, 1, 2, 3]  # never starts in the right order


def test_numeric_tolerance_and_spanish_decimals():
    assert grade(NUMERIC, {"value": 80.5}).fraction == 1
    assert grade(NUMERIC, {"value": 80.6}).fraction == 0
    assert parse(NUMERIC, {"q0": ["80,5"]}) == {"value": 80.5}
    assert parse(NUMERIC, {"q0": [" "]}) is None
    for bad in ("ochenta", "1e400", "nan", "99999999999999"):
        with pytest.raises(AnswerError):
            parse(NUMERIC, {"q0": [bad]})


def test_short_text_ignores_case_accents_spaces_and_supports_wildcards():
    assert grade(SHORT, {"text": "  ESCUCHA   Activa. "}).fraction == 1
    assert grade(SHORT, {"text": "parafraseo"}).fraction == 1
    assert grade(SHORT, {"text": "escucha"}).fraction == 0
    assert normalise_text("Facturación") == normalise_text("facturacion")


def test_calculated_draws_numbers_and_grades_against_them():
    kind = REGISTRY["calculated"]
    layout = kind.prepare(CALC, random.Random(7), True)
    a, b = layout["values"]["a"], layout["values"]["b"]
    assert layout["result"] == pytest.approx(a / b * 100)
    assert kind.grade(CALC, layout, {"value": round(a / b * 100, 1)}).fraction == 1
    assert kind.grade(CALC, layout, {"value": a / b * 100 + 1}).fraction == 0


def test_scenario_sums_its_parts():
    q = {"type": "scenario", "parts": [dict(SINGLE, id="uno", text="?", points=1), dict(NUMERIC, id="dos", text="?", points=3)]}
    layout = REGISTRY["scenario"].prepare(q, random.Random(1), False)
    assert grade(q, {"parts": {"uno": {"choice": 0}}}, layout).fraction == 0.25
    assert grade(q, {"parts": {"uno": {"choice": 0}, "dos": {"value": 80}}}, layout).fraction == 1
    assert parse(q, {"q0-p0": ["1"], "q0-p1": ["80"]}, layout) == {"parts": {"uno": {"choice": 1}, "dos": {"value": 80.0}}}


def test_essay_waits_for_a_trainer():
    q = {"type": "essay"}
    assert grade(q, {"text": "Hola"}).fraction is None
    assert grade(q, None).fraction == 0
    with pytest.raises(AnswerError):
        parse(q, {"q0": ["x" * 10_001]})


def test_tampered_values_are_refused():
    with pytest.raises(AnswerError):
        parse(SINGLE, {"q0": ["3"]})  # an option this question does not have
    with pytest.raises(AnswerError):
        parse(SINGLE, {"q0": ["-1"]})
    with pytest.raises(AnswerError):
        parse(SINGLE, {"q0": ["0", "1"]})  # two answers to a single choice
    with pytest.raises(AnswerError):
        parse(MULTI, {"q0": ["0", "<script>"]})


def test_parse_number_formats():
    assert parse_number("1 000,5") == 1000.5
    assert parse_number("-3") == -3


DRILL = {"id": "d", "type": "escalation_drill",
         "ticket": {"channel": "chat", "current_level": 1, "hours_since_opening": 30, "hours_at_current_level": 30, "impact": "alto", "complexity": "ninguna"}}


def test_escalation_drill_grades_each_decision_with_the_rule_quoted():
    from tests.quizzes.helpers import drill_values

    kind = REGISTRY["escalation_drill"]
    layout = kind.prepare(DRILL, random.Random(1), True)
    assert layout["key"] == {"level": 2, "destination": "Nivel 2 · Especialista", "outcome": "escalamiento", "priority": "Alta", "deadline": 72}
    perfect = kind.parse(DRILL, layout, drill_values(layout, "q0"), "q0")
    assert kind.grade(DRILL, layout, perfect).fraction == 1
    wrong_level = dict(perfect, level=1, deadline=22)
    result = kind.grade(DRILL, layout, wrong_level)
    assert result.fraction == pytest.approx(0.6)
    assert "Nivel: se esperaba 2" in result.details and "Plazo (horas): se esperaba 72" in result.details
    assert any("«Nivel 1: > 24 horas sin resolución»" in line for line in result.details)
    with pytest.raises(AnswerError):
        kind.parse(DRILL, layout, {"q0-outcome": ["ignorar"]}, "q0")
    with pytest.raises(AnswerError):
        kind.parse(DRILL, layout, {"q0-level": ["7"]}, "q0")


def test_generated_drills_only_use_facts_the_handbook_settles():
    kind = REGISTRY["escalation_drill"]
    rng = random.Random(3)
    seen_boundary = False
    for _ in range(300):
        layout = kind.prepare({"id": "g", "type": "escalation_drill", "generate": True}, rng, True)
        ticket = layout["ticket"]
        assert ticket["complexity"] in ("ninguna", "tecnico", "financiero")
        assert ticket["hours_at_current_level"] <= ticket["hours_since_opening"]
        seen_boundary |= any(rule.startswith("Ambigüedad del manual: Exactamente") for rule in layout["rules"])
    assert seen_boundary  # boundary cases are drilled, graded by the handbook's literal wording
