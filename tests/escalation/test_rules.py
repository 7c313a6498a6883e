"""The escalation engine applies the handbook's criteria and quotes them truthfully."""
import json

import pytest

from lms.content.registry import _collect
from lms.escalation.rules import RULES, Ticket, advise, ticket_from_dict
from lms.reference.parsing import quote_occurs
from tests.conftest import PROJECT


def ticket(**kw):
    base = dict(id="t", channel="chat", current_level=1, hours_since_opening=2, hours_at_current_level=2, impact="medio", complexity="ninguna")
    return Ticket(**(base | kw))


def test_every_rule_quotes_its_passage_verbatim():
    collected, problems = _collect(PROJECT)
    assert not problems
    reference = collected["reference"]
    for rule in RULES.values():
        for citation in rule.citations:
            page_id, anchor = citation.ref.split("#")
            section = reference[page_id].sections[anchor]
            assert quote_occurs(citation.quote, section.text), (rule.key, citation)


def test_a_fresh_ticket_stays_with_a_commitment():
    advice = advise(ticket())
    assert (advice.level, advice.outcome, advice.deadline_hours, advice.priority) == (1, "compromiso", 22, "Media")
    assert advice.destination == "Nivel 1 · Agente general"


@pytest.mark.parametrize(("level", "hours", "expected"), [(1, 25, 2), (2, 73, 3), (3, 169, 4), (1, 24, 1), (2, 72, 2), (3, 168, 3)])
def test_time_criteria_use_strictly_more_than(level, hours, expected):
    advice = advise(ticket(current_level=level, hours_since_opening=hours, hours_at_current_level=hours))
    assert advice.level == expected
    if expected == level:
        assert any("Exactamente" in note for note in advice.ambiguities)
        assert RULES["boundary"] in advice.rules
    else:
        assert RULES[f"time-{level}"] in advice.rules and advice.outcome == "escalamiento"


def test_two_weeks_open_reaches_management():
    assert advise(ticket(hours_since_opening=337, hours_at_current_level=10)).level == 4
    assert advise(ticket(hours_since_opening=336, hours_at_current_level=10)).level == 1


def test_escalated_deadline_is_the_new_levels_target():
    advice = advise(ticket(hours_since_opening=30, hours_at_current_level=30))
    assert (advice.level, advice.deadline_hours) == (2, 72)
    assert "«Tiempo: 80% resolución en 72 horas» (manual/escalamiento-y-resolucion#nivel-2-especialista)" in advice.quoted_rules()


@pytest.mark.parametrize(("complexity", "level", "destination", "house"), [
    ("tecnico", 2, "Nivel 2 · Especialista", False),
    ("financiero", 4, "Nivel 4 · Management", True),
    ("negocio", 2, "Nivel 2 · Especialista", True),
    ("legal", 4, "Legal", True),
    ("estrategico", 4, "Nivel 4 · Management", True),
])
def test_complexity_criteria(complexity, level, destination, house):
    advice = advise(ticket(complexity=complexity))
    assert (advice.level, advice.destination) == (level, destination)
    assert (RULES[f"complexity-{complexity}"].text in advice.ambiguities) is house


def test_critical_impact_goes_to_management_within_4_hours_of_opening():
    advice = advise(ticket(impact="critico", hours_since_opening=1, hours_at_current_level=1))
    assert (advice.level, advice.deadline_hours, advice.priority) == (4, 3, "Crítica")


def test_cosmetic_maps_to_low_priority_and_never_deescalates():
    advice = advise(ticket(current_level=3, impact="cosmetico", hours_since_opening=5, hours_at_current_level=5))
    assert (advice.level, advice.priority) == (3, "Baja")


@pytest.mark.parametrize(("change", "message"), [
    ({"current_level": 5}, "current_level"), ({"impact": "grave"}, "impact must be one of"),
    ({"hours_since_opening": -1}, "hours_since_opening"), ({"hours_at_current_level": 50}, "cannot exceed"),
    ({"colour": "red"}, "unknown field"), ({"channel": "fax"}, "channel"),
])
def test_bad_tickets_are_refused_clearly(change, message):
    data = dict(id="x", channel="chat", current_level=1, hours_since_opening=10, hours_at_current_level=5, impact="medio", complexity="ninguna")
    with pytest.raises(ValueError, match=message):
        ticket_from_dict(data | change)


def test_cli_prints_the_documented_json(app, tmp_path):
    path = tmp_path / "tickets.yaml"
    path.write_text(
        "- {id: A-1, channel: email, current_level: 1, hours_since_opening: 30, hours_at_current_level: 30, impact: alto, complexity: ninguna}\n"
        "- {id: A-2, channel: phone, current_level: 2, hours_since_opening: 10, hours_at_current_level: 4, impact: critico, complexity: tecnico}\n",
        encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["escalation", "advise", str(path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"A-1", "A-2"}
    assert set(data["A-1"]) == {"level", "destination", "deadline_hours", "rules"}
    assert (data["A-1"]["level"], data["A-1"]["deadline_hours"]) == (2, 72)
    assert "«Nivel 1: > 24 horas sin resolución» (manual/escalamiento-y-resolucion#por-tiempo)" in data["A-1"]["rules"]
    assert (data["A-2"]["level"], data["A-2"]["deadline_hours"]) == (4, 0)
    json_path = tmp_path / "t.json"
    json_path.write_text(json.dumps([{"id": "B", "channel": "chat", "current_level": 1, "hours_since_opening": 24,
                                      "hours_at_current_level": 24, "impact": "bajo", "complexity": "ninguna"}]), encoding="utf-8")
    data = json.loads(app.test_cli_runner().invoke(args=["escalation", "advise", str(json_path)]).output)
    assert data["B"]["level"] == 1 and any(rule.startswith("Ambigüedad del manual: Exactamente 24") for rule in data["B"]["rules"])


def test_cli_reports_bad_tickets_and_prints_nothing_else(app, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("- {id: X, channel: chat, current_level: 9, hours_since_opening: 1, hours_at_current_level: 1, impact: medio, complexity: ninguna}\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["escalation", "advise", str(path)])
    assert result.exit_code == 1 and "ticket 1 (X): current_level must be 1, 2, 3 or 4" in result.output
    path.write_text("{not: [valid", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["escalation", "advise", str(path)])
    assert result.exit_code == 1 and "not valid YAML" in result.output


def test_advisor_page(client, auth, agent):
    auth.login_as(agent)
    page = client.get("/escalation?channel=email&current_level=1&hours_since_opening=30&hours_at_current_level=30&impact=alto&complexity=ninguna").get_data(as_text=True)
    assert "Nivel 2 · Especialista" in page and "Nivel 1: &gt; 24 horas sin resolución" in page
    page = client.get("/escalation?channel=email&current_level=1&hours_since_opening=-3&hours_at_current_level=0&impact=alto&complexity=ninguna").get_data(as_text=True)
    assert "Recomendación" not in page and "error" in page
