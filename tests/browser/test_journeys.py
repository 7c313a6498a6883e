"""Journeys through the real site in a real browser."""
import re

import pytest
from playwright.sync_api import expect

from lms.demo import DEMO_PASSWORD
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def log_in(page, base, email):
    page.goto(f"{base}/login")
    page.get_by_label("Correo electrónico").fill(email)
    page.get_by_label("Contraseña").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url(re.compile(r".*/(manage/.*)?$"))


def track_percent(page) -> int:
    text = page.locator(".track-summary strong").first.inner_text()
    return int(text.rstrip("%"))


def test_agent_opens_the_next_lesson_completes_it_and_sees_progress_rise(page, site_url):
    log_in(page, site_url, "agente@demo.lms")
    assert page.get_by_role("heading", name="Hola, Lucía Agente").is_visible()
    before = track_percent(page)
    screenshot(page, "agent-home")

    next_lesson = page.locator(".next-list a").first
    title = next_lesson.inner_text()
    next_lesson.click()
    assert page.get_by_role("heading", level=1).inner_text() == title
    assert page.get_by_role("heading", name="Fuentes").is_visible()
    screenshot(page, "agent-lesson")

    page.get_by_role("button", name="Marcar como completada").click()
    assert page.get_by_text("¡Lección completada!").is_visible()
    assert page.get_by_text(re.compile("Completada el")).is_visible()

    page.get_by_role("link", name="Inicio").click()
    after = track_percent(page)
    assert after > before
    screenshot(page, "agent-home-after")


def test_manager_sees_the_team_and_an_agent_record(page, site_url):
    log_in(page, site_url, "gerente@demo.lms")
    assert page.get_by_role("heading", name="Mis equipos").is_visible()
    page.get_by_role("link", name="Diego Agente").first.click()
    assert page.get_by_role("heading", name="Diego Agente").is_visible()
    screenshot(page, "manager-agent")


def test_agent_takes_the_week_1_quiz_with_autosave_and_sees_the_review(page, site_url):
    log_in(page, site_url, "agente2@demo.lms")  # 3-month track started 9 days ago: week 1's quiz is open
    page.goto(f"{site_url}/quizzes/evaluacion-semana-1")
    assert page.get_by_role("heading", name=re.compile("Evaluación de la semana 1")).is_visible()
    page.get_by_role("button", name=re.compile("Empezar un intento|Continuar el intento")).click()
    page.wait_for_url(re.compile(r".*/attempts/\d+$"))
    assert page.locator("#timer").is_visible()
    # answer the first choice of every radio group, and let the page save on its own
    for name in page.eval_on_selector_all("input[type=radio]", "els => [...new Set(els.map(e => e.name))]"):
        page.locator(f"input[type=radio][name='{name}']").first.check()
    expect(page.locator("#save-status")).to_contain_text("guardadas", timeout=15000)
    page.reload()
    assert page.locator("input[type=radio]:checked").count() >= 1  # the auto-saved answers are there after a reload
    screenshot(page, "agent-quiz-attempt")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Enviar el intento").click()
    page.wait_for_url(re.compile(r".*/review\?submitted=1$"))
    assert page.get_by_role("heading", name=re.compile("Revisión del intento")).is_visible()
    assert page.get_by_text(re.compile(r"\d+%")).first.is_visible()
    screenshot(page, "agent-quiz-review")


def test_escalation_advisor_in_the_browser(page, site_url):
    log_in(page, site_url, "agente@demo.lms")
    page.get_by_role("link", name="Escalamiento").click()
    page.get_by_label("Horas desde la apertura").fill("30")
    page.get_by_label("Horas en el nivel actual").fill("30")
    page.get_by_label("Impacto").select_option("alto")
    page.get_by_role("button", name="Consultar").click()
    assert page.get_by_text("Nivel 2 · Especialista").is_visible()
    assert page.get_by_text("Nivel 1: > 24 horas sin resolución").first.is_visible()
    screenshot(page, "agent-escalation-advisor")


def test_agent_earns_a_certificate_downloads_it_and_anyone_can_verify_it(page, site_url, browser):
    """Pablo lacks only the last lesson of month 2: completing it issues the product certificate."""
    log_in(page, site_url, "agente8@demo.lms")
    page.goto(f"{site_url}/tracks/onboarding-3-meses")
    month_2 = page.locator("section.card", has=page.get_by_role("heading", name=re.compile("Mes 2")))
    pending = month_2.locator("li", has_not=page.locator(".badge-done")).locator("a[href*='/lessons/']")
    expect(pending).to_have_count(1)
    pending.click()
    page.get_by_role("button", name="Marcar como completada").click()
    expect(page.get_by_text(re.compile("Has obtenido la certificación «Certificación de producto"))).to_be_visible()
    screenshot(page, "agent-certified")

    page.get_by_role("link", name="Certificaciones").click()
    row = page.locator("table tr", has_text="Certificación de producto")
    expect(row.get_by_text("Vigente")).to_be_visible()
    with page.expect_download() as download:
        row.get_by_role("link", name="Descargar PDF").click()
    pdf = download.value
    assert pdf.suggested_filename.startswith("certificado-certificacion-producto") and open(pdf.path(), "rb").read(4) == b"%PDF"
    verify_url = row.get_by_role("link", name="Página de verificación").get_attribute("href")
    screenshot(page, "agent-certifications")

    stranger = browser.new_context(locale="es-ES")  # logged out: an employer checking the certificate
    public = stranger.new_page()
    public.goto(site_url + verify_url)
    expect(public.get_by_text("Certificado válido.")).to_be_visible()
    expect(public.get_by_text("Pablo Agente")).to_be_visible()
    expect(public.get_by_text("agente8@demo.lms")).to_have_count(0)
    screenshot(public, "public-verification")
    stranger.close()


def test_agent_with_a_certificate_due_sees_the_recertification_path(page, site_url):
    log_in(page, site_url, "agente9@demo.lms")
    expect(page.get_by_text(re.compile("Renueva tu certificación «Certificación de producto"))).to_be_visible()
    page.get_by_role("link", name="Certificaciones").click()
    card = page.locator("section.recertification")
    expect(card.get_by_role("heading", name=re.compile("Recertificación: Certificación de producto"))).to_be_visible()
    screenshot(page, "agent-recertification")
    card.get_by_role("link", name="Ir a la evaluación").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Repaso de recertificación"))
