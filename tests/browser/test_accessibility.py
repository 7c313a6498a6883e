"""WCAG 2.1 AA in a real browser: axe-core (bundled by axe-playwright-python) on every page template each role
reaches, in Spanish and in English. Serious and critical violations fail the test."""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Error as PlaywrightError

from tests.browser.conftest import SITE, screenshot
from lms.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

AXE = Axe()
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, "resultTypes": ["violations"]}
#: downloads and actions: not pages
SKIP = re.compile(r"(\.pdf|\.csv|\.xlsx|\.ics|\.json|\.gift|\.txt)$|/logout$|/export|/static/")
ROLES = (("agente4@demo.lms", "agent"), ("formador@demo.lms", "trainer"), ("gerente@demo.lms", "manager"), ("admin@demo.lms", "admin"))
LOCALES = ("es-ES", "en-US")
MAX_PAGES_PER_ROLE = 60


def log_in(page, base, email):
    """Whatever the interface language: by field names, not labels."""
    page.goto(f"{base}/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/(manage/.*)?$"))


def endpoint(path: str) -> str:
    """Pages are checked once per endpoint (one template), whichever role reaches it first."""
    try:
        return SITE["app"].url_map.bind("localhost").match(path, method="GET")[0]
    except Exception:  # noqa: BLE001 - not a page of ours (redirects, 404s)
        return path


def serious(results) -> list[str]:
    return [f"{v['id']} ({v['impact']}): {v['help']} — {', '.join(str(n['target']) for n in v['nodes'][:3])}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def axe_check(page) -> list[str]:
    return serious(AXE.run(page, options=WCAG))


def crawl_and_check(page, site_url: str, seen: set[str], check=axe_check) -> list[str]:
    """Breadth-first over the same-site links from the home page; ``check`` (axe) on each new page shape."""
    problems, queue, visited, opened = [], [site_url + "/"], set(), set()
    while queue and len(visited) < MAX_PAGES_PER_ROLE:
        url = queue.pop(0)
        path = urlsplit(url).path
        key = endpoint(path)
        if path in visited or key in opened:  # one page per endpoint and role is enough to find its links
            continue
        visited.add(path)
        opened.add(key)
        try:
            response = page.goto(url)
        except PlaywrightError:  # e.g. a link to another site
            continue
        if response is None or response.status != 200 or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        if key not in seen:
            seen.add(key)
            problems += [f"{path}: {p}" for p in check(page)]
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            target = urljoin(url, href.split("#")[0])
            if target.startswith(site_url) and not SKIP.search(urlsplit(target).path) and urlsplit(target).path not in visited:
                queue.append(target)
    return problems


@pytest.mark.parametrize("locale", LOCALES)
def test_every_page_meets_wcag_aa(browser, site_url, locale):
    problems, seen = [], set()
    for email, _role in ROLES:
        context = browser.new_context(locale=locale, bypass_csp=True, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        log_in(page, site_url, email)
        problems += crawl_and_check(page, site_url, seen)
        context.close()
    context = browser.new_context(locale=locale, bypass_csp=True)
    page = context.new_page()
    for path in ("/login", "/verify/no-such-code"):
        page.goto(site_url + path)
        problems += [f"{path}: {p}" for p in serious(AXE.run(page, options=WCAG))]
    context.close()
    assert len(seen) >= 25, sorted(seen)  # the crawl really reached the site
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("locale", LOCALES)
def test_quiz_attempt_and_roleplay_practice_meet_wcag_aa(browser, site_url, locale):
    """The pages behind a button: a quiz attempt in progress and a role-play practice."""
    context = browser.new_context(locale=locale, bypass_csp=True)
    page = context.new_page()
    log_in(page, site_url, "agente2@demo.lms")
    problems = []
    page.goto(f"{site_url}/quizzes/evaluacion-semana-2")
    page.locator("form[action$='/start'] button").click()
    page.wait_for_url(re.compile(r".*/attempts/\d+$"))
    problems += [f"attempt: {p}" for p in serious(AXE.run(page, options=WCAG))]
    screenshot(page, f"a11y-attempt-{locale}")
    page.goto(f"{site_url}/roleplays/redes-sociales-queja-publica")
    page.locator("form[action$='/start'] button").click()
    page.wait_for_url(re.compile(r".*/practice/\d+$|.*/practices/\d+$|.*/roleplays/.*/\d+$"))
    problems += [f"practice: {p}" for p in serious(AXE.run(page, options=WCAG))]
    context.close()
    assert problems == [], "\n".join(problems)
