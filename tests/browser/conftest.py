"""A real server on 127.0.0.1 and Debian's Chromium driven by Playwright."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from lms.content import sync as content_sync
from lms.core.clock import today
from lms.core.db import get_db
from lms.demo import load_demo
from tests.conftest import PROJECT, make_test_app

#: the served application (its URL map tells which endpoint a page belongs to)
SITE: dict = {}
ARTIFACTS = PROJECT / "test-artifacts"


@pytest.fixture(scope="session")
def site_url(databases, tmp_path_factory):
    """The site with the real courseware and the demo users, CSRF on, served over HTTP."""
    url = databases.create("browser")
    app = make_test_app(url, tmp_path_factory.mktemp("browser-instance"), CONTENT_ROOT=str(PROJECT), WTF_CSRF_ENABLED=True, TESTING=False)
    with app.app_context():
        session = get_db(app).sessionmaker()
        problems, _ = content_sync(session, PROJECT)
        assert not problems, [str(p) for p in problems]
        load_demo(session, on=today())
        session.commit()
        session.close()
    SITE["app"] = app
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{server.server_port}"  # links in badges, e-mails, feeds
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    get_db(app).engine.dispose()


@pytest.fixture(scope="session")
def browser(playwright_browser):
    return playwright_browser


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="es-ES", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
