"""A bounded property-based run of the API against its own OpenAPI document: Schemathesis (its command line, as a
client outside the app) generates requests from /api/v1/openapi.json, valid and invalid, sends them to the site
served on 127.0.0.1, and runs every check (server errors, status codes and bodies against the description,
invalid data refused, valid data accepted, undeclared methods, authentication, stateful sequences).

Fixed seed and example budget: the same requests every run. Adjustments: tests/api/fuzz/ (why each)."""
from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from lms.accounts import services as accounts
from lms.api import services as tokens
from lms.content import sync as content_sync
from lms.core.clock import now_utc
from lms.core.db import get_db
from tests.conftest import TEST_CONTENT, make_test_app

FUZZ = Path(__file__).with_name("fuzz")
SEED = 20261205
MAX_EXAMPLES = 25


def _st() -> str:
    found = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")
    assert found, "schemathesis is not installed: pip install -e '.[test]'"
    return found


@pytest.fixture(scope="module")
def fuzz_site(databases, tmp_path_factory):
    """The site with the test content, a team, people in every role and a token with every scope."""
    url = databases.create("fuzz")
    app = make_test_app(url, tmp_path_factory.mktemp("fuzz-instance"), TESTING=False)
    with app.app_context():
        session = get_db(app).sessionmaker()
        problems, _ = content_sync(session, TEST_CONTENT)
        assert not problems, [str(p) for p in problems]
        admin = accounts.create_user(session, email="admin-fuzz@example.com", name="Admin", role="admin")
        team = accounts.create_team(session, "Equipo fuzz")
        for n, role in enumerate(("agent", "agent", "trainer", "manager")):
            user = accounts.create_user(session, email=f"{role}-{n}-fuzz@example.com", name=f"Persona {role}", role=role)
            accounts.add_to_team(session, team, user)
        secret = tokens.create_token(session, name="fuzz", scopes=list(tokens.SCOPES), expires_at=None, created_by=admin,
                                     now=now_utc()).secret
        session.commit()
        session.close()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", secret
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        get_db(app).engine.dispose()


def test_the_api_conforms_to_its_own_openapi_document(fuzz_site, tmp_path):
    base, secret = fuzz_site
    command = [_st(), "--config-file", str(FUZZ / "schemathesis.toml"), "run", f"{base}/api/v1/openapi.json",
               "--checks", "all", "--seed", str(SEED), "--max-examples", str(MAX_EXAMPLES), "--workers", "1",
               "--generation-database", "none", "--no-color", "--request-timeout", "20",
               "--header", f"Authorization: Bearer {secret}", "--report-dir", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    assert "Server error" not in output and "violates schema" not in output
