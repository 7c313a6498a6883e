"""The launch inside the platform's iframe, in a real browser (Playwright + Debian's Chromium): our pages
must be allowed in the registered platform's frame (CSP frame-ancestors), the cookie check (static JS, no
inline script) must go on by itself, and an unregistered origin must not be able to frame the site."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


@pytest.fixture
def page(playwright_browser):  # one Playwright per test session (tests/conftest.py)
    context = playwright_browser.new_context(locale="es-ES", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def test_the_activity_opens_inside_the_platform_iframe(platform, page, tool_url):
    course = platform.control("launch", user_id="iframe-1", roles=[LEARNER], name="Irene Iframe",
                              resource_link_id="rl-iframe", custom={"target": "track:corto"})["course_page"]
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(course)
    frame = page.frame_locator("#tool")
    frame.get_by_role("heading", name="Itinerario corto").wait_for(timeout=20000)
    assert frame.get_by_text("Irene Iframe").count() >= 1  # signed in inside the frame
    assert page.url == course  # the platform page stayed on top
    tool_frame = next(f for f in page.frames if f.url.startswith(tool_url))
    assert tool_frame.url == f"{tool_url}/tracks/corto"
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_an_unregistered_origin_cannot_frame_the_site(platform, page, tool_url):
    course = platform.control("launch", user_id="iframe-2", roles=[LEARNER], resource_link_id="rl-iframe-2")["course_page"]
    foreign = course.replace("127.0.0.1", "localhost")  # the same page from an origin no platform registered
    messages = []
    page.on("console", lambda m: messages.append(m.text))
    page.goto(foreign)
    page.wait_for_timeout(1500)
    tool_frames = [f for f in page.frames if f.url.startswith(tool_url)]
    assert all("Itinerario" not in f.content() and "lti-cookie-check" not in f.content() for f in tool_frames)
    assert any("frame-ancestors" in m for m in messages), messages
