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


def test_a_ratio_pairs_the_floor_and_the_lms_of_the_same_round():
    """The rounds interleave floor and LMS runs: a ratio divides each round's LMS by that round's floor, then takes the
    median. The two sides' separate medians (60 / 200 = 0.30 here) would pair runs of different rounds."""
    sys.path.insert(0, str(ROOT))
    from bench.loadgen import Result
    from bench.run import Bench

    floors = [Result(requests=100, seconds=1.0, p95=10.0), Result(requests=300, seconds=1.0, p95=5.0),
              Result(requests=200, seconds=1.0, p95=8.0)]
    lms = [Result(requests=40, seconds=1.0, p95=30.0), Result(requests=60, seconds=1.0, p95=20.0),
           Result(requests=90, seconds=1.0, p95=16.0)]
    pairs = list(zip(floors, lms))
    assert Bench._paired(pairs, "rps") == (0.40, "0.40 / 0.20 / 0.45")
    ratio, text = Bench._paired(pairs, "p95")
    assert ratio == 3.0 and text == "3.00 / 4.00 / 2.00"
    floor, lms_median = Bench._medians(pairs)
    assert lms_median.rps / floor.rps == 0.30  # what the tables gave before
