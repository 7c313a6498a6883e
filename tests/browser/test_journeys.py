"""Journeys through the real site in a real browser."""
import re

import pytest

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
