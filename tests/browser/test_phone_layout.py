"""Every page fits a phone's width (390 px): nothing wider than the screen but the tables and calendars,
which scroll inside their own box. Each role's pages are crawled as in the accessibility test."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_accessibility import crawl_and_check, endpoint, log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
ROLES = (("agente4@demo.lms", "agent"), ("formador@demo.lms", "trainer"), ("gerente@demo.lms", "manager"), ("admin@demo.lms", "admin"))
#: key pages kept as screenshots (endpoint → file name)
SHOTS = {"home": "home", "tracks.lesson": "lesson", "reporting.dashboard": "dashboard", "roleplays_manage.queue": "grading-queue",
         "certification.mine": "certifications"}

OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = el => { for (let e = el.parentElement; e; e = e.parentElement) {
      const o = getComputedStyle(e).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; } return false; };
  const wide = [...document.body.querySelectorAll('*')].filter(e => {
      const r = e.getBoundingClientRect(); return r.width > 0 && r.right > width + 1 && !scrolls(e); });
  return {page: document.documentElement.scrollWidth, width,
          culprits: wide.slice(0, 4).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ')[0] : '')
                                             + ' ' + Math.round(e.getBoundingClientRect().right) + 'px')};
}"""


def fits(role: str):
    def check(page) -> list[str]:
        found = page.evaluate(OVERFLOW)
        key = endpoint("/" + page.url.split("/", 3)[3].split("?")[0])
        if key in SHOTS:
            screenshot(page, f"phone-{role}-{SHOTS[key]}")
        if found["page"] > found["width"] + 1:
            return [f"{found['page']}px wide on a {found['width']}px screen: {', '.join(found['culprits'])}"]
        return []
    return check


def test_every_page_fits_a_phone(browser, site_url):
    problems, seen = [], set()
    for email, role in ROLES:
        context = browser.new_context(locale="es-ES", bypass_csp=True, viewport=PHONE, is_mobile=True, has_touch=True)
        page = context.new_page()
        log_in(page, site_url, email)
        problems += [f"{role} {p}" for p in crawl_and_check(page, site_url, seen, check=fits(role))]
        context.close()
    assert len(seen) >= 25, sorted(seen)
    assert problems == [], "\n".join(problems)


def test_quiz_attempt_and_practice_fit_a_phone(browser, site_url):
    context = browser.new_context(locale="es-ES", bypass_csp=True, viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, site_url, "agente2@demo.lms")
    problems = []
    page.goto(f"{site_url}/quizzes/evaluacion-semana-2")
    page.locator("form[action$='/start'] button").click()
    page.wait_for_url(re.compile(r".*/attempts/\d+$"))
    problems += [f"attempt: {p}" for p in fits("agent")(page)]
    screenshot(page, "phone-agent-quiz-attempt")
    page.goto(f"{site_url}/roleplays/informe-consulta-garantia")
    page.locator("form[action$='/start'] button").click()
    page.wait_for_url(re.compile(r".*/practice/\d+$"))
    problems += [f"practice: {p}" for p in fits("agent")(page)]
    screenshot(page, "phone-agent-practice")
    context.close()
    assert problems == [], "\n".join(problems)


QUIZZES = ("evaluacion-semana-1", "evaluacion-semana-2", "evaluacion-semana-3", "evaluacion-semana-4", "evaluacion-final-certificacion")


def test_every_quiz_attempt_fits_a_phone(browser, site_url):
    """Attempts of every quiz draw questions of every type (matching and ordering tables, numeric answers with
    their units, scenarios, drills): none may push the page wider than the screen."""
    problems, seen_types = [], set()
    for email in ("agente5@demo.lms", "agente8@demo.lms"):
        context = browser.new_context(locale="es-ES", bypass_csp=True, viewport=PHONE, is_mobile=True, has_touch=True)
        page = context.new_page()
        log_in(page, site_url, email)
        for slug in QUIZZES:
            page.goto(f"{site_url}/quizzes/{slug}")
            start = page.locator("form[action$='/start'] button")
            if start.count() == 0:
                continue
            with page.expect_navigation():  # read the page once it has loaded, never mid-navigation
                start.click()
            if not re.search(r"/attempts/\d+$", page.url):
                continue
            seen_types.update(page.eval_on_selector_all(".question table.matching, .question .inline-field, .question textarea",
                                                        "els => els.map(e => e.className || e.tagName)"))
            problems += [f"{email} {slug}: {p}" for p in fits("agent")(page)]
        context.close()
    assert {"matching", "inline-field"} <= seen_types, seen_types  # the attempts really drew the wide kinds
    assert problems == [], "\n".join(problems)
