"""Role-plays in a real browser: an agent practises a chat; a trainer grades and releases a practice."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_journeys import log_in

pytestmark = pytest.mark.browser


def test_agent_practises_a_chat_role_play(page, site_url):
    log_in(page, site_url, "agente@demo.lms")
    page.get_by_role("link", name="Role-plays").first.click()
    page.get_by_role("link", name=re.compile("garantía", re.I)).first.click()
    page.get_by_role("button", name=re.compile("práctica", re.I)).click()
    page.wait_for_url(re.compile(r".*/practice/\d+$"))
    assert page.get_by_text("Ficha del cliente", exact=False).first.is_visible()
    replies = ["¡Hola, Rosa! Soy Marcos, de Distribuciones Alba. Si te entiendo bien, tu lavadora hace ruido al centrifugar, ¿es así?",
               "Tu lavadora está en garantía hasta octubre de 2026; la caja no hace falta.",
               "La visita del técnico no tiene coste dentro de la garantía. ¿Te va bien el lunes 15 por la mañana?",
               "Perfecto, queda pedida la visita del lunes 15 de 9:00 a 13:00. Gracias, Rosa, que tengas un buen día."]
    for text in replies:
        box = page.locator("textarea[name=text]").first
        box.fill(text)
        page.get_by_role("button", name="Enviar", exact=True).first.click()
    screenshot(page, "agent-roleplay-chat")
    page.get_by_role("button", name="Terminar y enviar").click()
    page.get_by_role("dialog").get_by_role("button", name="Confirmar y enviar").click()  # the workspace asks first
    page.wait_for_url(re.compile(r".*/result$"))
    expect(page.get_by_role("heading", name=re.compile("Revisión automática"))).to_be_visible()
    screenshot(page, "agent-roleplay-result")


def test_trainer_grades_and_releases_a_practice_and_the_agent_sees_it(page, site_url, browser):
    log_in(page, site_url, "formador@demo.lms")
    page.get_by_role("link", name="Role-plays").first.click()
    expect(page.get_by_role("heading", name="Role-plays por calificar")).to_be_visible()
    row = page.locator("tr", has_text="Mateo Agente")
    row.get_by_role("link", name="Calificar").click()
    expect(page.get_by_text("Respuesta modelo")).to_be_visible()
    for fieldset in page.locator("fieldset.criterion").all():
        fieldset.locator("input[type=radio][value='3']").check()
    page.get_by_label("Comentario general").fill("Buen trabajo: aclara la garantía y cierra con un resumen.")
    screenshot(page, "trainer-grading")
    page.get_by_role("button", name="Publicar al agente").click()
    expect(page.get_by_text("Calificación publicada para el agente.")).to_be_visible()

    agent_context = browser.new_context(locale="es-ES")
    agent_page = agent_context.new_page()
    log_in(agent_page, site_url, "agente4@demo.lms")
    agent_page.goto(f"{site_url}/roleplays")
    agent_page.locator("tr", has_text="Calificada").get_by_role("link").first.click()
    expect(agent_page.get_by_text("Buen trabajo: aclara la garantía")).to_be_visible()
    expect(agent_page.get_by_role("heading", name=re.compile(r"Calificación: 75%"))).to_be_visible()
    screenshot(agent_page, "agent-roleplay-graded")
    agent_context.close()
