"""The SQLite folder turned read-only while the site runs (a full or remounted volume, a wrong chmod): writes answer
503 with Retry-After — the writers' lock file that cannot be opened included, and the 503 page itself needs nothing
written — and reads keep working; once the folder is writable again the site goes on without a restart.

The server runs in its own process without CAP_DAC_OVERRIDE (``setpriv``), so the folder's permissions apply to it
even when the suite runs as root."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import PASSWORD, DatabaseFactory
from tests.core.fault_setup import form_of, quiz_setup

PROJECT = Path(__file__).resolve().parents[2]
MESSAGE = "tus datos están a salvo"


@pytest.fixture
def sqlite_folder(tmp_path_factory):
    factory = DatabaseFactory(tmp_path_factory.mktemp("ro-folder"))
    factory.server = None
    return factory


def _server(url: str, instance: Path):
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is needed to run the server without CAP_DAC_OVERRIDE"
    drop = "-dac_override,-dac_read_search,-fowner"
    command = [setpriv, "--bounding-set", drop, "--inh-caps", drop, "--", sys.executable, "-m", "tests.core.readonly_server",
               url, str(instance)]
    process = subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline().strip()
    assert line.startswith("READY "), line
    return process, line.split(" ", 1)[1]


def _set_writable(folder: Path, writable: bool) -> None:
    for path in folder.iterdir():
        path.chmod(0o644 if writable else 0o444)
    folder.chmod(0o755 if writable else 0o555)


def test_a_folder_made_read_only_while_running_gets_503_for_writes_and_reads_go_on(sqlite_folder, tmp_path):
    setup = quiz_setup(sqlite_folder, tmp_path / "rw", "rofolder")
    folder = Path(setup.url.removeprefix("sqlite:///")).parent
    process, base = _server(setup.url, tmp_path / "instance")
    try:
        http = requests.Session()
        login = http.post(f"{base}/login", data={"email": setup.agent_emails[0], "password": PASSWORD}, allow_redirects=False)
        assert login.status_code == 302
        attempt = setup.attempt_ids[0]
        assert http.get(f"{base}/attempts/{attempt}", timeout=30).status_code == 200

        _set_writable(folder, False)
        try:
            submit = http.post(f"{base}/attempts/{attempt}/submit", data=form_of(setup.values[0], "clave-carpeta-ro"),
                               allow_redirects=False, timeout=60)
            assert submit.status_code == 503, submit.text[:500]
            assert submit.headers["Retry-After"].isdigit() and MESSAGE in submit.text
            save = http.post(f"{base}/attempts/{attempt}/save", data=setup.values[0], headers={"Accept": "application/json"},
                             timeout=60)
            assert save.status_code == 503 and MESSAGE in save.json()["message"]
            page = http.get(f"{base}/attempts/{attempt}", timeout=30)  # reads go on
            assert page.status_code == 200 and "Enviar el intento" in page.text
            assert http.get(f"{base}/tracks", timeout=30).status_code == 200
        finally:
            _set_writable(folder, True)

        done = http.post(f"{base}/attempts/{attempt}/submit", data=form_of(setup.values[0], "clave-carpeta-ro"),
                         allow_redirects=False, timeout=60)
        assert done.status_code == 302 and done.headers["Location"].endswith(f"/attempts/{attempt}/review?submitted=1")
    finally:
        process.terminate()
        process.wait(timeout=10)
