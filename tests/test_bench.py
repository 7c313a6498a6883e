"""Smoke tests of the benchmark's command (bench/run.py); the benchmark itself runs with `make bench`."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_help_lists_the_options():
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--help"], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    for option in ("--db", "--small", "--servers", "--writers-duration", "--only"):
        assert option in out


def test_bench_refuses_an_unknown_figure():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--only", "nonsense"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert "unknown figures: nonsense" in done.stderr


def test_answer_bodies_fill_every_kind_of_question():
    sys.path.insert(0, str(ROOT))
    from bench.loadgen import answer_bodies

    page = """<input type="search" name="q">
      <input type="radio" name="q0" value="2"><input type="radio" name="q0" value="0">
      <input type="checkbox" name="q1" value="1"><input type="checkbox" name="q1" value="3">
      <input type="text" inputmode="decimal" name="q2" value="">
      <input type="text" name="q3" value="">
      <select id="q4-0" name="q4-0"><option value="">—</option><option value="a">A</option><option value="b">B</option></select>"""
    first, last = answer_bodies(page)
    assert first == [("q0", "2"), ("q1", "1"), ("q2", "1"), ("q3", "respuesta"), ("q4-0", "a")]
    assert last == [("q0", "0"), ("q1", "3"), ("q2", "2"), ("q3", "otra respuesta"), ("q4-0", "b")]
