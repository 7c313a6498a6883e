"""Babel's global table: a worker holds the part that loading a locale needs; any other key reads the whole table."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import babel.core

from lms.core.babel_data import PAGE_KEYS, GlobalTable, read_whole_table
from lms.migrations import upgrade
from tests.conftest import PROJECT


def _whole() -> dict:
    held = babel.core._global_data
    whole = read_whole_table()
    assert babel.core._global_data is held and type(whole) is dict
    return whole


def test_a_page_key_is_read_without_the_rest():
    whole = _whole()
    table = GlobalTable({k: whole[k] for k in PAGE_KEYS})
    assert table.get("parent_exceptions") == whole["parent_exceptions"]
    assert dict.__len__(table) == len(PAGE_KEYS)  # nothing else read


def test_any_other_key_reads_the_whole_table():
    whole = _whole()
    for read in (lambda t: t.get("likely_subtags"), lambda t: t["zone_aliases"], lambda t: "meta_zones" in t,
                 lambda t: len(t), lambda t: list(t.items())):
        table = GlobalTable({k: whole[k] for k in PAGE_KEYS})
        read(table)
        assert dict(table) == whole
    table = GlobalTable({k: whole[k] for k in PAGE_KEYS})
    assert table.get("no such key", "x") == "x" and dict(table) == whole
    try:
        table["no such key"]
    except KeyError:
        pass
    else:
        raise AssertionError("a key missing from the whole table is a KeyError")


def test_a_worker_writes_dates_and_numbers_without_the_whole_table(tmp_path):
    """In a fresh process (as a gunicorn worker): pages' dates and numbers load Spanish and English locale data but
    not the rest of the global table; a call that needs more (a time zone's name) gets Babel's own answer."""
    code = """
import json, sys
if sys.argv[1] == "whole":  # Babel on its own: the answers to compare with
    import lms.core.babel_data
    lms.core.babel_data.install = lambda: False
from datetime import datetime, timezone
import babel.core, babel.dates
from lms import create_app
app = create_app()
from lms.core.templating import format_number, format_when, format_day
out = {}
for lang in ("es", "en"):
    with app.test_request_context(f"/?lang={lang}"):
        out[lang] = [format_number(1234.5), format_number(-0.25), format_when(datetime(2026, 3, 2, 14, 30, tzinfo=timezone.utc)),
                     format_day(datetime(2026, 3, 2, 14, 30, tzinfo=timezone.utc))]
table = babel.core._global_data
out["partial"] = type(table).__name__ == "GlobalTable" and dict.__len__(table) == 2
out["whole_loaded"] = table is not None and dict.__len__(table) > 2
out["zone"] = babel.dates.get_timezone_location("Europe/Madrid", locale="es")
out["complete"] = dict.__len__(table) > 2
print(json.dumps(out))
"""
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade(url)  # the reader's zone is the organisation's
    env = dict(os.environ, LMS_ENV="development", SECRET_KEY="s" * 40, DATABASE_URL=url, PYTHONPATH=str(PROJECT))
    env.pop("FLASK_DEBUG", None)
    outs = {}
    for mode in ("part", "whole"):
        run = subprocess.run([sys.executable, "-c", code, mode], cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=120, check=False)
        assert run.returncode == 0, run.stderr[-3000:]
        outs[mode] = json.loads(run.stdout.strip().splitlines()[-1])
    part, whole = outs["part"], outs["whole"]
    assert part["partial"] is True and part["whole_loaded"] is False  # pages' dates and numbers: the part only
    assert whole["partial"] is False and whole["whole_loaded"] is True  # Babel alone loads the whole table
    assert part["es"] == whole["es"] and part["en"] == whole["en"]  # the same answers
    assert part["es"][:2] == ["1.234,5", "-0,25"] and part["en"][:2] == ["1,234.5", "-0.25"]
    assert "2026" in part["es"][2] and "mar" in part["es"][3]
    assert part["zone"] == whole["zone"] == "hora de España (Madrid)" and part["complete"] is True
