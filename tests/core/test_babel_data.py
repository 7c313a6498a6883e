"""Babel's data in a worker: the parts pages read; any other key reads the whole table, with Babel's own answers."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import babel.core
import babel.localedata

from lms.core.babel_data import PAGE_GLOBAL_KEYS, PAGE_LOCALE_KEYS, Partial, read_whole_global_table
from lms.migrations import upgrade
from tests.conftest import PROJECT


def _whole() -> dict:
    held = babel.core._global_data
    whole = read_whole_global_table()
    assert babel.core._global_data is held and type(whole) is dict
    return whole


def test_a_page_key_is_read_without_the_rest():
    whole = _whole()
    table = Partial({k: whole[k] for k in PAGE_GLOBAL_KEYS}, _whole)
    assert table.get("parent_exceptions") == whole["parent_exceptions"] and table["cldr"] == whole["cldr"]
    assert "parent_exceptions" in table
    assert table.partial and dict.__len__(table) == len(PAGE_GLOBAL_KEYS)  # nothing else read


def test_any_other_key_reads_the_whole_table():
    whole = _whole()
    for read in (lambda t: t.get("likely_subtags"), lambda t: t["zone_aliases"], lambda t: "meta_zones" in t,
                 lambda t: len(t), lambda t: list(t.items()), lambda t: list(t), lambda t: t.copy()):
        table = Partial({k: whole[k] for k in PAGE_GLOBAL_KEYS}, _whole)
        read(table)
        assert not table.partial and dict(table) == whole
    table = Partial({k: whole[k] for k in PAGE_GLOBAL_KEYS}, _whole)
    assert table.get("no such key", "x") == "x" and dict(table) == whole
    try:
        table["no such key"]
    except KeyError:
        pass
    else:
        raise AssertionError("a key missing from the whole table is a KeyError")


def test_a_copy_is_whole_and_a_memoized_value_stays():
    data = babel.localedata.load("es")
    part = Partial({k: data[k] for k in PAGE_LOCALE_KEYS if k in data}, lambda: babel.localedata.load("es"))
    part["months"] = "memoized"  # as Babel's LocaleDataDict writes a resolved alias back
    assert part.copy().keys() == data.keys() and part["months"] == "memoized" and part["unit_patterns"] == data["unit_patterns"]


_WORKER = """
import json, sys
from datetime import datetime, timezone
if sys.argv[1] == "whole":  # Babel on its own: the answers to compare with
    import lms.core.babel_data
    lms.core.babel_data.install = lambda: False
import babel.core, babel.dates, babel.localedata, babel.numbers
from lms import create_app
app = create_app()
from lms.core.templating import format_number, format_when, format_day
out = {}
moment = datetime(2026, 3, 2, 14, 30, tzinfo=timezone.utc)
for lang in ("es", "en"):
    with app.test_request_context(f"/?lang={lang}"):
        out[lang] = [format_number(1234.5), format_number(-0.25), format_when(moment), format_day(moment),
                     format_day(moment, "full"), format_day(moment, "d MMM"),
                     format_when(moment, "short"), format_when(moment, "EEEE d MMMM y, h:mm a QQQ G")]
def partial(table):
    return type(table).__name__ == "Partial" and table.partial
out["global_partial"] = partial(babel.core._global_data)
out["locale_partial"] = [partial(babel.localedata._dict_cache[lang]._data) for lang in ("es", "en")]
for lang in ("es", "en"):
    with app.test_request_context(f"/?lang={lang}"):
        out[lang] += [format_when(moment, "long"), format_when(moment, "full")]  # with the zone's name: time zones
out["others"] = [babel.dates.get_timezone_location("Europe/Madrid", locale="es"),
                 babel.numbers.format_currency(1234.5, "EUR", locale="es"), babel.dates.format_timedelta(3600, locale="en"),
                 str(babel.core.Locale.parse("es_419").territory), babel.core.Locale("es", "MX").territories["ES"]]
out["after"] = [partial(babel.core._global_data), *(partial(babel.localedata._dict_cache[lang]._data) for lang in ("es", "en"))]
print(json.dumps(out))
"""


def test_a_worker_writes_dates_and_numbers_with_the_page_parts_only(tmp_path):
    """In a fresh process (as a gunicorn worker): pages' dates and numbers in Spanish and English read the page parts
    of Babel's data only; calls that need more (a time zone's name, a currency, another locale) get Babel's own answers;
    and every answer is the one Babel gives on its own."""
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade(url)  # the reader's zone is the organisation's
    env = dict(os.environ, LMS_ENV="development", SECRET_KEY="s" * 40, DATABASE_URL=url, PYTHONPATH=str(PROJECT))
    env.pop("FLASK_DEBUG", None)
    outs = {}
    for mode in ("part", "whole"):
        run = subprocess.run([sys.executable, "-c", _WORKER, mode], cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=120, check=False)
        assert run.returncode == 0, run.stderr[-3000:]
        outs[mode] = json.loads(run.stdout.strip().splitlines()[-1])
    part, whole = outs["part"], outs["whole"]
    assert part["global_partial"] is True and part["locale_partial"] == [True, True]  # pages: the parts only
    assert whole["global_partial"] is False and whole["locale_partial"] == [False, False]  # Babel alone: everything
    assert part["es"] == whole["es"] and part["en"] == whole["en"] and part["others"] == whole["others"]
    assert part["es"][:2] == ["1.234,5", "-0,25"] and part["en"][:2] == ["1,234.5", "-0.25"]
    assert "2026" in part["es"][2] and "mar" in part["es"][3] and "lunes" in part["es"][4] and "universal" in part["es"][-1]
    assert part["others"][0] == "hora de España (Madrid)" and "€" in part["others"][1] and part["others"][2] == "1 hour"
    assert part["after"] == [False, False, False]  # the zones' names and the other calls completed the tables they read


def test_a_thread_reading_while_another_completes_the_table_waits_for_the_whole():
    import threading
    import time

    started = threading.Event()

    def slow_whole():
        started.set()
        time.sleep(0.2)
        return {"page": 1, "other": 2}

    table = Partial({"page": 1}, slow_whole)
    first = threading.Thread(target=table.get, args=("other",))
    first.start()
    started.wait(5)
    assert table.get("other") == 2 and table["other"] == 2  # not None nor a KeyError while the first reads
    first.join()
    assert dict(table) == {"page": 1, "other": 2}
