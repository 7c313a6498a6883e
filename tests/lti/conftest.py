"""The site served on 127.0.0.1 and a real LTI 1.3 platform (``lti1p3platform``, in its own virtual
environment under .cache/) served beside it; a requests session plays the browser."""
from __future__ import annotations

import re
import subprocess
import sys
import threading
import uuid
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from lms.content import sync as content_sync
from lms.core.clock import now_utc
from lms.core.db import get_db
from lms.lti import services
from tests.conftest import PROJECT, TEST_CONTENT, make_test_app

PLATFORM_VENV = PROJECT / ".cache" / "lti-platform-venv"
PLATFORM_SERVER = Path(__file__).with_name("platform_server.py")
PLATFORM_PACKAGE = "lti1p3platform==0.1.8"


def _venv_python() -> Path:
    return PLATFORM_VENV / "bin" / "python"


@pytest.fixture(scope="session")
def platform_python() -> Path:
    """A virtual environment with lti1p3platform, created once and cached under .cache/ (git-ignored)."""
    python = _venv_python()
    ready = python.exists() and subprocess.run([str(python), "-c", "import lti1p3platform"], capture_output=True).returncode == 0
    if not ready:
        subprocess.run([sys.executable, "-m", "venv", str(PLATFORM_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", PLATFORM_PACKAGE], check=True)
    return python


@pytest.fixture(scope="session")
def lti_app(databases, tmp_path_factory):
    url = databases.create("lti")
    app = make_test_app(url, tmp_path_factory.mktemp("lti-instance"), WTF_CSRF_ENABLED=True, TESTING=False,
                        LTI_KEYSET_MIN_REFETCH_SECONDS=0)
    with app.app_context():
        session = get_db(app).sessionmaker()
        problems, _ = content_sync(session, TEST_CONTENT)
        assert not problems, [str(p) for p in problems]
        session.commit()
        session.close()
    return app


@pytest.fixture(scope="session")
def tool_url(lti_app):
    server = make_server("127.0.0.1", 0, lti_app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    lti_app.config["PUBLIC_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    thread.join(timeout=5)
    get_db(lti_app).engine.dispose()


class Platform:
    """Steers the platform server through its /control endpoints."""

    def __init__(self, url: str):
        self.url = url

    def control(self, what: str, **data) -> dict:
        response = requests.post(f"{self.url}/control/{what}", json=data, timeout=30)
        response.raise_for_status()
        return response.json()

    def state(self) -> dict:
        return requests.get(f"{self.url}/control/state", timeout=10).json()


@pytest.fixture(scope="session")
def platform_server(platform_python, tool_url):
    process = subprocess.Popen([str(platform_python), str(PLATFORM_SERVER)], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline().strip()
    assert line.startswith("READY "), line
    platform = Platform(line.split(" ", 1)[1])
    platform.control("config", tool_url=tool_url)
    yield platform
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def db_session(lti_app):
    with lti_app.app_context():
        session = get_db(lti_app).sessionmaker()
        yield session
        session.close()


@pytest.fixture
def platform(platform_server, db_session):
    """A fresh registration (client_id, deployment) of the platform server in the site."""
    client_id = "client-" + uuid.uuid4().hex[:8]
    deployment = "dep-" + uuid.uuid4().hex[:6]
    platform_server.control("config", client_id=client_id, deployment_id=deployment, id_token_expiration=300)
    issuer = platform_server.url
    row = services.save_platform(
        db_session, None, name="Plataforma de pruebas", issuer=issuer, client_id=client_id,
        auth_login_url=f"{issuer}/auth", auth_token_url=f"{issuer}/token", key_set_url=f"{issuer}/jwks",
        deployment_ids=[deployment], now=now_utc())
    db_session.commit()
    platform_server.registration = row
    platform_server.client_id, platform_server.deployment_id = client_id, deployment
    return platform_server


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.data_urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "method": attrs.get("method"), "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value", "")
        if "data-url" in attrs:
            self.data_urls.append(attrs["data-url"])


def parse(html: str) -> _Forms:
    p = _Forms()
    p.feed(html)
    return p


class Browser:
    """A requests session that does what the browser does on the LTI pages (run the cookie check,
    submit the auto-submitted forms)."""

    def __init__(self, tool_url: str):
        self.tool_url = tool_url
        self.http = requests.Session()

    def start(self, platform: Platform, **launch) -> requests.Response:
        """From the platform's "open activity" to the form the platform posts to the tool."""
        url = platform.control("launch", **launch)["url"]
        response = self.http.get(url, timeout=30)  # → our /lti/login: the cookie check page
        assert response.status_code == 200, response.text[:500]
        check = parse(response.text).data_urls
        if check:  # what lti.js does when cookies work: continue in the same frame
            response = self.http.get(self.tool_url + check[0].replace("&amp;", "&"), timeout=30)
        return response

    def auto_form(self, response: requests.Response) -> dict:
        forms = parse(response.text).forms
        assert forms, response.text[:1000]
        return forms[0]

    def post_form(self, form: dict, **kw) -> requests.Response:
        return self.http.post(form["action"], data=form["fields"], timeout=30, **kw)

    def launch(self, platform: Platform, **launch) -> requests.Response:
        response = self.start(platform, **launch)
        assert response.status_code == 200, response.text[:1000]
        return self.post_form(self.auto_form(response))


@pytest.fixture
def browser(tool_url):
    return Browser(tool_url)


def error_text(response) -> str:
    match = re.search(r'<p class="lti-error">(.*?)</p>', response.text, re.S)
    detail = re.search(r"<code>(.*?)</code>", response.text, re.S)
    if not match:
        return response.text[:500]
    return match.group(1).strip() + (f" [{detail.group(1).strip()}]" if detail else "")


