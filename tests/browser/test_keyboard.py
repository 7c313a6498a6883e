"""Keyboard only: an agent answers and hands in a quiz and a chat role-play, and a trainer grades, with the
Tab, Space, arrow and Enter keys and no mouse. Every stop of the focus is visible (a focus ring)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import log_in

pytestmark = pytest.mark.browser

FOCUSED = """() => { const e = document.activeElement; const s = getComputedStyle(e);
  const q = e.closest('li.question');
  return {tag: e.tagName.toLowerCase(), type: e.type || '', id: e.id || '', name: e.name || '', checked: !!e.checked,
          question: q ? q.id : '',
          ring: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0, text: (e.innerText || '').trim().slice(0, 40)}; }"""


def tab(page) -> dict:
    page.keyboard.press("Tab")
    return page.evaluate(FOCUSED)


def test_a_quiz_answered_and_handed_in_with_the_keyboard(browser, site_url):
    context = browser.new_context(locale="es-ES", bypass_csp=True)
    page = context.new_page()
    log_in(page, site_url, "agente7@demo.lms")  # 4-week track, week 2 open; has not taken its quiz
    page.goto(f"{site_url}/quizzes/evaluacion-semana-2")
    start = page.locator("form[action$='/start'] button")
    start.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/attempts/\d+$"))
    groups = set(page.eval_on_selector_all("#attempt-form input[type=radio]", "els => els.map(e => e.name)"))
    assert groups, "the quiz has single-choice questions"
    questions = page.locator("#attempt-form li.question").count()
    answered, unringed, touched = set(), [], set()
    for _ in range(600):
        focus = tab(page)
        if focus["tag"] in ("input", "select", "textarea", "button", "a") and not focus["ring"]:
            unringed.append(focus)
        if focus["id"] == "submit-attempt":
            break
        if focus["type"] == "radio" and focus["name"] not in answered:
            page.keyboard.press("Space")
            answered.add(focus["name"])
            touched.add(focus["question"])
        elif focus["type"] == "checkbox" and focus["question"] not in touched:
            page.keyboard.press("Space")  # a multiple-choice question: tick its first option
            touched.add(focus["question"])
        elif focus["type"] in ("text", "number"):
            page.keyboard.type("1")
            touched.add(focus["question"])
        elif focus["tag"] == "select":
            page.keyboard.press("ArrowDown")
            touched.add(focus["question"])
        elif focus["tag"] == "textarea":
            page.keyboard.type("Respuesta escrita con el teclado.")
            touched.add(focus["question"])
    else:
        pytest.fail("the submit button was never reached with Tab")
    assert answered == groups, groups - answered  # every single-choice question was reachable and answered
    assert page.locator("#attempt-form input[type=radio]:checked").count() == len(groups)
    assert unringed == []
    # the progress counts questions (a scenario holds several radio groups; a multiple-choice question none): every
    # question was answered, and the counter, updated on each input and change event, says so
    assert touched == {f"question-{n}" for n in range(1, questions + 1)}, touched
    expect(page.locator("#answered-count")).to_have_text(str(questions))
    page.once("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/review\?submitted=1$"))
    expect(page.get_by_role("heading", name=re.compile("Revisión del intento"))).to_be_visible()
    context.close()


def test_a_chat_role_play_with_the_keyboard_and_graded_with_the_keyboard(browser, site_url):
    context = browser.new_context(locale="es-ES", bypass_csp=True)
    page = context.new_page()
    log_in(page, site_url, "agente6@demo.lms")
    page.goto(f"{site_url}/roleplays/informe-consulta-garantia")
    page.locator("form[action$='/start'] button").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/practice/\d+$"))
    replies = ["¡Hola, Rosa! Soy Marcos, de Distribuciones Alba. Tu lavadora hace ruido al centrifugar, ¿es así?",
               "Tu lavadora está en garantía hasta octubre de 2026; la caja no hace falta.",
               "La visita del técnico no tiene coste dentro de la garantía. ¿Te va bien el lunes 15 por la mañana?",
               "Perfecto, queda pedida la visita del lunes 15 de 9:00 a 13:00. Gracias, Rosa."]
    for text in replies:
        page.locator("textarea[name=text]").first.focus()
        page.keyboard.type(text)
        focus = tab(page)
        assert focus["tag"] == "button" and focus["ring"], focus  # the send button comes right after the reply box
        page.keyboard.press("Enter")
        page.wait_for_load_state()
    finish = page.get_by_role("button", name="Terminar y enviar")
    finish.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # the confirmation dialog opens with "Confirmar y enviar" focused
    page.wait_for_url(re.compile(r".*/result$"))
    context.close()

    context = browser.new_context(locale="es-ES", bypass_csp=True)
    trainer = context.new_page()
    log_in(trainer, site_url, "formador@demo.lms")
    trainer.goto(f"{site_url}/manage/roleplays/")
    trainer.locator("tr", has_text="Hugo Agente").get_by_role("link", name="Calificar").focus()
    trainer.keyboard.press("Enter")
    trainer.wait_for_url(re.compile(r".*/manage/roleplays/\d+$"))
    criteria = trainer.locator("fieldset.criterion").count()
    assert criteria >= 3
    graded = 0
    for _ in range(800):
        focus = tab(trainer)
        if focus["type"] == "radio" and graded < criteria:
            # a radio group takes one Tab stop: the arrow keys move to level 3 (of 1–4) and select it
            for _ in range(2):
                trainer.keyboard.press("ArrowRight")
            graded = trainer.locator("fieldset.criterion input[type=radio]:checked").count()
        if focus["tag"] == "textarea" and graded == criteria:
            trainer.keyboard.type("Buena práctica: calificada con el teclado.")
            break
    assert graded == criteria
    trainer.get_by_role("button", name="Publicar al agente").focus()
    trainer.keyboard.press("Enter")
    expect(trainer.get_by_text("Calificación publicada para el agente.")).to_be_visible()
    context.close()
