"""The escalation house rules, stated once in the engine and read the same way by the lessons, the advisor, the
drills and the B2B role-play; and the handbook's level-2 rule «Casos que requieren desarrollo»."""
from __future__ import annotations

import re

import pytest
import yaml

from lms.escalation.rules import (HOUSE_BUSINESS, HOUSE_CLOCK, HOUSE_LARGE_REFUND, HOUSE_LEVEL_3_TO_MANAGEMENT, RULES, Ticket,
                                  TicketError, advise, ticket_from_dict)
from tests.conftest import PROJECT

LESSONS = PROJECT / "courses" / "lessons"


def ticket(**kw):
    base = dict(id="t", channel="chat", current_level=1, hours_since_opening=2, hours_at_current_level=2, impact="medio",
                complexity="ninguna")
    return Ticket(**(base | kw))


def _front(path):
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])


def _flat(text: str) -> str:
    return " ".join(str(text).split())


# (a) the clock -------------------------------------------------------------------------------------------------

def test_the_clock_of_each_level_starts_when_the_case_reaches_it():
    # 80 hours since the ticket was created, 50 of them at level 2: level 2's «> 72 horas» is not met yet
    advice = advise(ticket(current_level=2, hours_since_opening=80, hours_at_current_level=50))
    assert advice.level == 2 and RULES["clock"] in advice.rules and HOUSE_CLOCK in advice.ambiguities
    assert advise(ticket(current_level=2, hours_since_opening=80, hours_at_current_level=73)).level == 3
    # at level 1 both clocks are the same: from the ticket's creation
    assert advise(ticket(hours_since_opening=25, hours_at_current_level=25)).level == 2


# (b) level 3 → Management ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("at_level_3", "since_opening", "expected"), [
    (169, 200, 4),   # more than 1 week at level 3: Management, although not yet 2 weeks open
    (100, 337, 4),   # more than 2 weeks since creation: Management, although less than 1 week at level 3
    (168, 336, 3),   # exactly 1 week and exactly 2 weeks: neither «más de» is met
])
def test_a_level_3_case_reaches_management_at_whichever_limit_comes_first(at_level_3, since_opening, expected):
    advice = advise(ticket(current_level=3, hours_since_opening=since_opening, hours_at_current_level=at_level_3))
    assert advice.level == expected
    assert HOUSE_LEVEL_3_TO_MANAGEMENT in advice.ambiguities


# (c) business impact -----------------------------------------------------------------------------------------

def test_business_impact_alone_goes_to_the_specialist_and_critical_business_to_management():
    advice = advise(ticket(complexity="negocio", impact="alto"))
    assert (advice.level, advice.destination, advice.priority) == (2, "Nivel 2 · Especialista", "Alta")
    assert HOUSE_BUSINESS in advice.ambiguities
    assert advise(ticket(complexity="negocio", impact="critico")).level == 4


def test_the_b2b_role_play_expects_what_the_engine_advises():
    """roleplays/b2b-error-api-escalamiento.md: technical and business criteria, high impact → level 2, priority Alta."""
    front = _front(PROJECT / "roleplays" / "b2b-error-api-escalamiento.md")
    for complexity in ("tecnico", "negocio"):
        advice = advise(ticket(channel="email", complexity=complexity, impact="alto", hours_since_opening=1, hours_at_current_level=1))
        assert advice.level == front["escalation"]["level"] == 2
        assert advice.priority == "Alta"


def test_a_large_refund_goes_to_management_as_a_stated_house_rule():
    advice = advise(ticket(channel="email", complexity="financiero", hours_since_opening=3, hours_at_current_level=3))
    assert advice.level == 4 and RULES["complexity-financiero"].house and HOUSE_LARGE_REFUND in advice.ambiguities


# the handbook's level-2 rule: cases that need development -----------------------------------------------------------

def test_a_confirmed_bug_goes_to_level_3_without_waiting_for_a_time_criterion():
    advice = advise(ticket(current_level=2, hours_since_opening=5, hours_at_current_level=1, complexity="tecnico",
                           needs_development=True))
    assert (advice.level, advice.destination, advice.outcome) == (3, "Nivel 3 · Ingeniería/Desarrollo", "escalamiento")
    assert RULES["development"] in advice.rules and not RULES["development"].house
    assert "«Escalamiento: Casos que requieren desarrollo» (manual/escalamiento-y-resolucion#nivel-2-especialista)" in advice.quoted_rules()
    assert advice.deadline_hours == 168  # level 3's target
    # without the confirmation the same ticket stays with the specialist
    assert advise(ticket(current_level=2, hours_since_opening=5, hours_at_current_level=1, complexity="tecnico")).level == 2
    # a critical bug is still Management's
    assert advise(ticket(impact="critico", needs_development=True)).level == 4


def test_needs_development_is_optional_and_checked():
    base = {"id": "x", "channel": "chat", "current_level": 2, "hours_since_opening": 3, "hours_at_current_level": 1,
            "impact": "alto", "complexity": "tecnico"}
    assert ticket_from_dict(base).needs_development is False
    assert ticket_from_dict(base | {"needs_development": True}).needs_development is True
    with pytest.raises(TicketError):
        ticket_from_dict(base | {"needs_development": "sí"})


def test_the_advisor_asks_whether_a_bug_is_confirmed(client, auth, agent):
    auth.login_as(agent)
    query = ("channel=email&current_level=2&hours_since_opening=5&hours_at_current_level=1&impact=alto&complexity=tecnico"
             "&needs_development=y")
    page = client.get(f"/escalation?{query}").get_data(as_text=True)
    assert 'name="needs_development"' in page
    assert "Nivel 3 · Ingeniería/Desarrollo" in page and "Escalamiento: Casos que requieren desarrollo" in page


def test_a_drill_asks_about_a_confirmed_bug_and_is_graded_by_the_same_rule():
    bank = yaml.safe_load((PROJECT / "quizzes" / "banks" / "simulacros-escalamiento.yaml").read_text(encoding="utf-8"))
    drills = {q["id"]: q for q in bank["questions"]}
    bug = next(q for q in drills.values() if q.get("ticket", {}).get("needs_development"))
    advice = advise(ticket_from_dict({"id": "d", **bug["ticket"]}))
    assert advice.level == 3
    assert any(s["quote"] == "Escalamiento: Casos que requieren desarrollo" for s in bug["sources"])
    refund = drills["sim-reembolso-grande"]
    assert "criterio de la casa" in refund["explanation"].lower()


# stated once: the lessons quote the engine's house rules verbatim ----------------------------------------------------

HOUSE_TEXTS = {"clock": HOUSE_CLOCK, "level-3": HOUSE_LEVEL_3_TO_MANAGEMENT, "business": HOUSE_BUSINESS, "refund": HOUSE_LARGE_REFUND}


def test_the_escalation_lesson_states_every_escalation_house_rule_verbatim_citing_both_passages():
    front = _front(LESSONS / "semana-4-practica" / "s4-criterios-de-escalamiento.md")
    stated = {_flat(rule["text"]): rule for rule in front["house_rules"]}
    for name, text in HOUSE_TEXTS.items():
        assert _flat(text) in stated, name
        quotes = {s["quote"] for s in stated[_flat(text)]["sources"]}
        engine_rule = next(r for r in RULES.values() if r.text == text)
        assert {c.quote for c in engine_rule.citations} <= quotes, name


def test_no_lesson_teaches_another_reading_of_the_clock_or_of_management():
    for path in LESSONS.rglob("*.md"):
        text = _flat(path.read_text(encoding="utf-8"))
        front = _front(path)
        for rule in front.get("house_rules") or []:
            body = _flat(rule["text"])
            if "reloj" in body and "escal" in body:
                assert body == _flat(HOUSE_CLOCK), path.name
        assert "reloj empieza cuando se crea el ticket" not in text.replace("**", ""), path.name
        assert not re.search(r"llega a Management por tiempo al superar las 2\s+semanas, o antes", text), path.name
