"""Escalation drills on the attempt and review pages: every select can be answered, and the review says the
decision and the ticket's facts in words (never raw keys or slugs)."""
from __future__ import annotations

import re

from lms.core.clock import now_utc
from lms.quizzes import services
from lms.quizzes.simulate import correct_values
from tests.quizzes.helpers import make_quiz

DRILL = {"id": "vista-simulacro", "type": "escalation_drill", "text": "Decide qué hacer con este ticket.",
         "explanation": "El nivel 1 escala a las más de 24 horas.",
         "sources": [{"ref": "manual/escalamiento-y-resolucion#por-tiempo", "quote": "Nivel 1: > 24 horas sin resolución"}],
         "ticket": {"channel": "email", "current_level": 1, "hours_since_opening": 30, "hours_at_current_level": 30,
                    "impact": "medio", "complexity": "tecnico"}}


def _options(page: str, name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select, name
    return re.findall(r"<option[^>]*>([^<]*)</option>", select.group(1))


def _start(session, agent):
    quiz = make_quiz(session, "simulacro-vista", [DRILL])
    attempt = services.start_attempt(session, agent, quiz, now=now_utc(), may_take=True)
    session.commit()
    return attempt


def test_every_drill_select_offers_its_options_and_the_review_says_the_decision_in_words(client, auth, agent, session):
    attempt = _start(session, agent)
    auth.login_as(agent)
    page = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert _options(page, "q0-destination") == ["—", "Nivel 1 · Agente general", "Nivel 2 · Especialista",
                                                "Nivel 3 · Ingeniería/Desarrollo", "Nivel 4 · Management", "Legal"]
    assert _options(page, "q0-priority") == ["—", "Crítica", "Alta", "Media", "Baja"]
    assert len(_options(page, "q0-level")) == 5 and len(_options(page, "q0-outcome")) == 3
    # the ticket's facts in words
    facts = page[page.index("ticket-facts"):page.index("drill-fields")]
    assert "Email" in facts and "Medio: funcionalidad secundaria afectada" in facts and "Técnica: requiere conocimiento especializado" in facts
    assert not re.search(r"<td>(email|medio|tecnico)</td>", facts)

    slot = attempt.slots[0]
    values = correct_values(slot.question_version.data, slot.layout, "q0")
    response = client.post(f"/attempts/{attempt.id}/submit", data=values)
    assert response.status_code == 302
    review = client.get(f"/attempts/{attempt.id}/review").get_data(as_text=True)
    assert "100%" in review  # all five decisions could be given
    for line in ("Nivel: 2", "Destino: Nivel 2 · Especialista", "Resultado: Escalar", "Prioridad: Media", "Plazo de resolución: 72 horas"):
        assert review.count(line) == 2, line  # the agent's answer and the expected one
    assert "Técnica: requiere conocimiento especializado" in review
    for raw in ("level:", "outcome:", "deadline:", "Resultado: escalamiento", "· escalamiento", "<td>email</td>", "<td>tecnico</td>"):
        assert raw not in review, raw


def test_the_review_in_english_says_the_decision_in_english(client, auth, agent, session):
    agent.locale = "en"
    attempt = _start(session, agent)
    auth.login_as(agent)
    slot = attempt.slots[0]
    client.post(f"/attempts/{attempt.id}/submit", data=correct_values(slot.question_version.data, slot.layout, "q0"))
    review = client.get(f"/attempts/{attempt.id}/review").get_data(as_text=True)
    assert "Destination: Level 2 · Specialist" in review and "Priority: Medium" in review and "Deadline: 72 hours" in review
    assert "Outcome: Escalate" in review


def test_an_unanswered_drill_decision_is_left_out_of_the_answer(client, auth, agent, session):
    attempt = _start(session, agent)
    auth.login_as(agent)
    client.post(f"/attempts/{attempt.id}/submit", data={"q0-level": "2"})
    review = client.get(f"/attempts/{attempt.id}/review").get_data(as_text=True)
    answer = review[review.index("Tu respuesta"):review.index("Respuesta correcta")]
    assert "Nivel: 2" in answer and "Destino" not in answer
