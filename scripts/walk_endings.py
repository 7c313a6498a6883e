#!/usr/bin/env python3
"""Every scenario to each of its endings through the real practice page (issue 18), run by hand.

The CI test (tests/browser/test_customer_listens.py) walks a subset: every scenario once, every kind of ending
once. This walks every (scenario, customer, ending) — about 65 walks, some four minutes on a loaded machine — with
the same test and the same reply lists as the ``roleplays simulate`` tests, then prints a table scenario / customer
/ ending / ok. A screenshot of each ended practice goes to test-artifacts/walk-<scenario>-<customer>-<ending>.png.

Usage: .venv/bin/python scripts/walk_endings.py [-k EXPRESSION]  (with TEST_DATABASE_URL to run on PostgreSQL)
Exit status: 0 when every ending was reached.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess  # nosec B404  # runs this project's own test file
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "test-artifacts" / "walk-endings.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="only the walks whose test id matches (pytest -k)")
    args = parser.parse_args()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.unlink(missing_ok=True)
    expression = "test_the_scenario_reaches_the_ending" + (f" and ({args.k})" if args.k else "")
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "tests/browser/test_customer_listens.py"), "-k", expression,
                          "-q", "-p", "no:cacheprovider"], cwd=ROOT, env=os.environ | {"WALK_ALL_ENDINGS": "1"}, check=False)  # nosec B603
    elapsed = time.monotonic() - started
    rows = [json.loads(line) for line in RESULTS.read_text(encoding="utf-8").splitlines()] if RESULTS.exists() else []
    width = max([len(r["scenario"]) for r in rows] + [8])
    print(f"\n{'scenario':<{width}}  {'customer':<14}  {'ending':<17}  ok")
    for row in rows:
        print(f"{row['scenario']:<{width}}  {row['customer']:<14}  {row['ending']:<17}  {'yes' if row['ok'] else 'NO: ' + row['shown']}")
    failed = [r for r in rows if not r["ok"]]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} endings reached in {elapsed:.0f} s; screenshots in {RESULTS.parent}")
    return 1 if failed or not rows or run.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
