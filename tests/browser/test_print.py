"""Printable pages: a lesson, a quiz review and a certificate's verification page print as content only
(no header, navigation, forms or buttons) and Chromium turns each into a PDF."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_journeys import log_in

pytestmark = pytest.mark.browser


def printed(page, name: str) -> bytes:
    page.emulate_media(media="print")
    for chrome in ("header.site-header", "footer.site-footer", "main form", "main button"):
        for element in page.locator(chrome).all():
            expect(element).to_be_hidden()
    pdf = page.pdf(format="A4")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"print-{name}.pdf").write_bytes(pdf)
    return pdf


def test_lesson_review_and_certificate_print_as_content(page, site_url, browser):
    log_in(page, site_url, "agente4@demo.lms")
    page.goto(f"{site_url}/tracks/onboarding-4-semanas")
    page.locator("a[href*='/lessons/']").first.click()
    title = page.get_by_role("heading", level=1).inner_text()
    assert printed(page, "lesson")[:4] == b"%PDF"
    expect(page.get_by_role("heading", level=1)).to_have_text(title)  # the content stays
    expect(page.get_by_role("heading", name="Fuentes")).to_be_visible()

    page.emulate_media(media="screen")
    page.goto(f"{site_url}/quizzes/evaluacion-semana-1")
    page.locator("a[href$='/review']").first.click()
    page.wait_for_url(re.compile(r".*/review$"))
    assert printed(page, "quiz-review")[:4] == b"%PDF"
    expect(page.get_by_role("heading", name=re.compile("Revisión del intento"))).to_be_visible()

    holder = browser.new_context(locale="es-ES")
    irene = holder.new_page()
    log_in(irene, site_url, "agente9@demo.lms")  # holds a product certificate
    irene.goto(f"{site_url}/certifications")
    verify_url = irene.get_by_role("link", name="Página de verificación").first.get_attribute("href")
    holder.close()
    stranger = browser.new_context(locale="es-ES")
    public = stranger.new_page()
    public.goto(site_url + verify_url)
    assert printed(public, "certificate")[:4] == b"%PDF"
    expect(public.get_by_text("Irene Agente")).to_be_visible()
    stranger.close()
