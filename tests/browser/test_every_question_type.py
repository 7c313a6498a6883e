"""The journey the pilot week asked for: an agent takes a quiz holding one question of every type the site supports
(an escalation drill included), answers each one fully with the mouse and the keyboard, hands it in, and the review
shows every answer and every expected answer in words. In Spanish and English, on a laptop and a phone."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lms.accounts.models import User
from lms.core.clock import now_utc
from lms.core.db import get_db
from lms.quizzes import services
from lms.quizzes.models import Question
from lms.quizzes.question_types import REGISTRY
from lms.quizzes.simulate import correct_values
from tests.browser.conftest import SITE, screenshot
from tests.browser.test_accessibility import log_in
from tests.quizzes.helpers import add_quiz

pytestmark = pytest.mark.browser

#: one real question of each type, from the courseware's banks
ONE_OF_EACH = {
    "single_choice": "s3-lenguaje-simple", "multiple_choice": "s3-tono-voz-seleccion", "true_false": "s3-escrita-enlaces-vf",
    "matching": "s3-video-elementos", "ordering": "s3-email-estructura-orden", "numeric": "m3-cc-fcr-objetivo",
    "calculated": "m3-cc-calc-utilizacion", "short_text": "m3-cc-ivr-sigla", "essay": "s2-ensayo-cierre-chat",
    "scenario": "s4-escenario-plataforma-caida", "escalation_drill": "sim-chat-nivel1-30h",
}

DRILL_WORDS = {
    "es": {"heading": "Tu respuesta", "key": "Respuesta correcta", "level": "Nivel: 2", "destination": "Destino: Nivel 2 · Especialista",
           "outcome": "Resultado: Escalar", "priority": "Prioridad: Alta", "deadline": "Plazo de resolución: 72 horas", "channel": "Chat",
           "impact": "Alto: funcionalidad principal afectada", "empty": "Sin responder"},
    "en": {"heading": "Your answer", "key": "Correct answer", "level": "Level: 2", "destination": "Destination: Level 2 · Specialist",
           "outcome": "Outcome: Escalate", "priority": "Priority: High", "deadline": "Deadline: 72 hours", "channel": "Chat",
           "impact": "High: core functionality affected", "empty": "Not answered"},
}


def test_the_journey_covers_every_question_type():
    assert set(ONE_OF_EACH) == set(REGISTRY)  # a new type must join the journey


def _start(language: str, email: str) -> tuple[int, list[tuple[int, dict, dict]]]:
    app = SITE["app"]
    with app.app_context():
        session = get_db(app).sessionmaker()
        questions = {q.slug: q for q in session.scalars(select(Question).where(Question.slug.in_(ONE_OF_EACH.values())))}
        assert {questions[slug].type for slug in ONE_OF_EACH.values()} == set(ONE_OF_EACH)
        quiz = add_quiz(session, f"todos-los-tipos-{language}", list(ONE_OF_EACH.values()))
        agent = session.scalar(select(User).where(User.email == email))
        attempt = services.start_attempt(session, agent, quiz, now=now_utc(), may_take=True)
        slots = [(s.position, s.question_version.data, s.layout) for s in sorted(attempt.slots, key=lambda s: s.position)]
        session.commit()
        attempt_id = attempt.id
        session.close()
    return attempt_id, slots


def _answer(page, prefix: str, data: dict, layout: dict) -> None:
    """As an agent would: click the right choices, pick from the lists, type the numbers and texts."""
    for name, values in correct_values(data, layout, prefix).items():
        field = page.locator(f"[name='{name}']").first
        kind = field.evaluate("e => e.tagName.toLowerCase() === 'input' ? e.type : e.tagName.toLowerCase()")
        if kind in ("radio", "checkbox"):
            for value in values:
                page.locator(f"[name='{name}'][value='{value}']").check()
        elif kind == "select":
            options = field.locator("option").count()
            assert options > 1, f"{name} offers nothing to choose"
            field.select_option(values[0])
        else:
            field.click()
            page.keyboard.type(values[0])


@pytest.mark.parametrize("language, email, viewport", [
    ("es", "agente3@demo.lms", {"width": 1366, "height": 768}),
    ("en", "agente5@demo.lms", {"width": 390, "height": 844}),
])
def test_a_quiz_with_every_question_type_answered_handed_in_and_reviewed(browser, site_url, language, email, viewport):
    attempt_id, slots = _start(language, email)
    context = browser.new_context(locale="es-ES" if language == "es" else "en-GB", viewport=viewport)
    page = context.new_page()
    log_in(page, site_url, email)
    page.goto(f"{site_url}/attempts/{attempt_id}")
    expect(page.locator("li.question")).to_have_count(len(ONE_OF_EACH))
    for position, data, layout in slots:
        _answer(page, f"q{position}", data, layout)
    # the progress follows the answers: every question counts once it has one
    expect(page.locator("#answered-count")).to_have_text(str(len(slots)))
    screenshot(page, f"attempt-every-type-{language}-{viewport['width']}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#submit-attempt").click()
    page.wait_for_url(re.compile(r".*/review\?submitted=1$"))

    words = DRILL_WORDS[language]
    questions = page.locator("ol.questions > li.question")
    expect(questions).to_have_count(len(slots))
    for index, (position, data, layout) in enumerate(slots):
        question = questions.nth(index)
        expect(question.get_by_role("heading", name=words["heading"])).to_be_visible()
        given = question.locator("ul.answer:not(.key) li")
        assert given.count() >= 1, f"{data['type']}: the answer is not shown"
        expect(question.get_by_text(words["empty"], exact=True)).to_have_count(0)
        if data["type"] != "essay":  # an essay has a model answer only when its author wrote one
            expect(question.locator("ul.answer.key li").first).to_be_visible()
        if data["type"] != "essay":
            expect(question.locator(".badge-done")).to_be_visible()  # every automatic answer was right
    drill = questions.nth(next(i for i, (_, data, _) in enumerate(slots) if data["type"] == "escalation_drill"))
    for word in ("level", "destination", "outcome", "priority", "deadline"):
        expect(drill.locator("ul.answer:not(.key) li", has_text=words[word])).to_have_count(1)
        expect(drill.locator("ul.answer.key li", has_text=words[word])).to_have_count(1)
    facts = drill.locator("table.ticket-facts")
    expect(facts).to_contain_text(words["impact"])
    text = drill.inner_text()
    for raw in ("level:", "outcome:", "deadline:", "escalamiento", "alto\n", "chat\n"):
        assert raw not in text, raw
    screenshot(page, f"review-every-type-{language}-{viewport['width']}")
    context.close()
