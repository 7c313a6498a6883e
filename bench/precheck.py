"""Benchmark of the role-play pre-check against the trainers' calibration set (issue #18, "How good it must be").

Reads every ``roleplays/calibration/<scenario-id>.yaml`` (format and grading procedure:
``roleplays/calibration/README.md``), writes the pre-check input of each split to a temporary file,
runs the real command ``flask --app lms roleplays precheck FILE`` as a subprocess (so it measures
whatever the CLI implements), and prints, over dev, holdout and all:

* the Spearman correlation between the pre-check score and the rubric grade score;
* exact and adjacent (±1) agreement per rubric criterion, only where the pre-check gives a level
  for that criterion id of the scenario's rubric, and the coverage (criteria it did not score);
* whether every trap lands at "regular" or below and every excellent transcript at "bueno" or above.

Goals: Spearman >= 0.8, adjacent agreement >= 80 %, no trap above regular, every excellent >= bueno.
Exit status 1 when a goal is missed in any of the three rows, 0 when all are met, 2 when the pre-check
cannot be run or leaves a transcript without a result.

    .venv/bin/python bench/precheck.py [--flask .venv/bin/flask] [--calibration roleplays/calibration] [--split dev|holdout|all]

``--split dev`` runs and reports only the dev transcripts (the ones a tuner may read); ``--split holdout`` only the
held-out ones; ``all`` (the default) both, and the three rows.
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lms.roleplays.services import PASS_SCORE, rubric_score  # noqa: E402  (the grade of record's own formula)

CALIBRATION = ROOT / "roleplays" / "calibration"
#: the fields the pre-check command has always read
PRECHECK_FIELDS = ("id", "channel", "customer_type", "opening_message", "turns")
TURN_FIELDS = ("speaker", "text", "seconds")
#: context fields the rebuilt pre-check reads; sent when the command accepts them
CONTEXT_FIELDS = ("scenario", "customer")
BANDS = ("deficiente", "regular", "bueno", "excelente")
#: lower score bound of each band (README, "Banding"); a failed critical criterion is deficiente whatever the score
EXCELLENT_FROM, REGULAR_FROM = 90.0, 50.0
GOAL_SPEARMAN, GOAL_ADJACENT = 0.8, 0.80
SPLITS = ("dev", "holdout")


# -- the content --------------------------------------------------------------------------------

def load_rubrics(root: Path = ROOT) -> dict[str, dict]:
    return {d["id"]: d for d in (yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((root / "roleplays" / "rubrics").glob("*.yaml")))}


def load_scenarios(root: Path = ROOT) -> dict[str, dict]:
    """Scenario id -> its front matter (rubric, mode, channel, customers, escalation)."""
    out = {}
    for path in sorted((root / "roleplays").glob("*.md")):
        if path.name == "README.md":
            continue
        text = path.read_text(encoding="utf-8")
        meta = yaml.safe_load(text.split("\n---", 1)[0].lstrip("-\n"))
        out[meta["id"]] = meta
    return out


def load_calibration(folder: Path = CALIBRATION) -> list[dict]:
    """Every transcript of every calibration file, with the file it came from in ``_file``."""
    items = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a list of transcripts")
        for item in data:
            items.append(dict(item, _file=path.name))
    return items


# -- the rubric grade ---------------------------------------------------------------------------

def band(score: float, critical_failed: bool = False) -> str:
    """The band of a rubric score (README, "Banding"): PASS_SCORE (75) separates bueno from regular."""
    if critical_failed or score < REGULAR_FROM:
        return "deficiente"
    if score < PASS_SCORE:
        return "regular"
    return "bueno" if score < EXCELLENT_FROM else "excelente"


def grade_levels(item: dict) -> dict[str, int]:
    return {cid: entry["level"] for cid, entry in item["grade"]["criteria"].items()}


def graded(rubric: dict, levels: dict[str, int]) -> tuple[float, str, list[str]]:
    """(score, band, failed critical criteria) of a set of levels, with the grade of record's formula."""
    score, _passes, failed = rubric_score(rubric, levels)
    return score, band(score, bool(failed)), failed


# -- statistics ---------------------------------------------------------------------------------

def ranks(values: list[float]) -> list[float]:
    """1-based ranks, ties sharing the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(xs: list[float], ys: list[float]) -> float | None:
    """Spearman's rho with ties (Pearson on the tie-averaged ranks); None when undefined."""
    if len(xs) != len(ys) or len(xs) < 2:
        return None
    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sx = math.sqrt(sum((a - mx) ** 2 for a in rx))
    sy = math.sqrt(sum((b - my) ** 2 for b in ry))
    return None if sx == 0 or sy == 0 else cov / (sx * sy)


def agreement(pairs: list[tuple[int, int]]) -> tuple[float | None, float | None]:
    """(exact, adjacent ±1) agreement shares of (trainer level, pre-check level) pairs; None without pairs."""
    if not pairs:
        return None, None
    exact = sum(1 for a, b in pairs if a == b) / len(pairs)
    adjacent = sum(1 for a, b in pairs if abs(a - b) <= 1) / len(pairs)
    return exact, adjacent


# -- running the pre-check ----------------------------------------------------------------------

def precheck_input(item: dict, with_context: bool) -> dict:
    out = {k: item[k] for k in PRECHECK_FIELDS}
    out["turns"] = [{k: t[k] for k in TURN_FIELDS if k in t} for t in item["turns"]]
    if with_context:
        out.update({k: item[k] for k in CONTEXT_FIELDS if k in item})
    return out


def run_cli(flask: str, items: list[dict], with_context: bool) -> subprocess.CompletedProcess:
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8", delete=False) as fh:
        json.dump([precheck_input(i, with_context) for i in items], fh, ensure_ascii=False)
        path = fh.name
    try:
        return subprocess.run([flask, "--app", "lms", "roleplays", "precheck", path], capture_output=True, text=True,
                              cwd=ROOT, timeout=600)
    finally:
        Path(path).unlink(missing_ok=True)


def run_precheck(flask: str, items: list[dict]) -> tuple[dict, bool, float]:
    """Pre-check results by id, whether the command took the scenario context, and the seconds it ran.

    The context fields are sent first; a command that rejects them as unknown fields (the pre-check
    before issue #18) is run again without them, and only that run is timed.
    """
    started = time.perf_counter()
    done = run_cli(flask, items, True)
    with_context = True
    if done.returncode != 0 and "unknown field" in done.stderr:
        started = time.perf_counter()
        done = run_cli(flask, items, False)
        with_context = False
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"the pre-check failed (exit {done.returncode}):\n{done.stderr.strip()}")
    return json.loads(done.stdout), with_context, elapsed


def startup_seconds(flask: str) -> float:
    """What one run of the command costs with nothing to check (an empty list): its start-up."""
    started = time.perf_counter()
    run_cli(flask, [], False)
    return time.perf_counter() - started


def level_of(value) -> int | None:
    """A criterion level from the pre-check: an int, or a mapping with a ``level`` (the level plus its evidence)."""
    if isinstance(value, dict):
        value = value.get("level")
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 4 else None


# -- the report ---------------------------------------------------------------------------------

@dataclass
class Row:
    name: str
    n: int = 0
    rho: float | None = None
    exact: float | None = None
    adjacent: float | None = None
    pairs: int = 0
    graded_criteria: int = 0
    not_keyed: int = 0
    foreign_ids: set = field(default_factory=set)
    traps: int = 0
    traps_ok: int = 0
    excellent: int = 0
    excellent_ok: int = 0
    trap_offenders: list[str] = field(default_factory=list)
    excellent_offenders: list[str] = field(default_factory=list)
    per_criterion: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    graded_per_criterion: dict[str, int] = field(default_factory=dict)

    def goals(self) -> dict[str, bool]:
        return {
            "spearman": self.rho is not None and self.rho >= GOAL_SPEARMAN,
            "adjacent": self.adjacent is not None and self.adjacent >= GOAL_ADJACENT,
            "traps": self.traps_ok == self.traps,
            "excellent": self.excellent_ok == self.excellent,
        }


def evaluate(name: str, items: list[dict], results: dict, rubrics: dict, scenarios: dict, with_context: bool = True) -> Row:
    """The row of one split. Levels are compared only when the pre-check was given the scenario (``with_context``):
    without it, it cannot know the scenario's rubric and its criteria are its own, even where an id coincides."""
    row = Row(name, n=len(items))
    grade_scores, pre_scores, pairs = [], [], []
    for item in items:
        rubric = rubrics[scenarios[item["scenario"]]["rubric"]]
        rubric_ids = [c["id"] for c in rubric["criteria"]]
        score, grade_band, _failed = graded(rubric, grade_levels(item))
        result = results[str(item["id"])]
        pre_score = float(result["score"])
        pre_band = result.get("band") if result.get("band") in BANDS else band(pre_score)
        grade_scores.append(score)
        pre_scores.append(pre_score)
        criteria = result.get("criteria") or {}
        keyed = with_context and any(level_of(criteria.get(cid)) is not None for cid in rubric_ids)
        if not keyed:
            row.not_keyed += 1
        elif set(criteria) - set(rubric_ids):
            row.foreign_ids |= {f"{rubric['id']}: {cid}" for cid in set(criteria) - set(rubric_ids)}
        for cid in rubric_ids:
            key = f"{rubric['id']}/{cid}"
            row.graded_per_criterion[key] = row.graded_per_criterion.get(key, 0) + 1
            row.graded_criteria += 1
            level = level_of(criteria.get(cid)) if keyed else None
            if level is not None:
                pair = (item["grade"]["criteria"][cid]["level"], level)
                pairs.append(pair)
                row.per_criterion.setdefault(key, []).append(pair)
        label = f"{item['id']} (grade {grade_band} {score:.1f}, pre-check {pre_band} {pre_score:.0f})"
        if item["kind"] == "trampa":
            row.traps += 1
            if BANDS.index(pre_band) <= BANDS.index("regular"):
                row.traps_ok += 1
            else:
                row.trap_offenders.append(f"{label} [{item.get('trap')}]")
        if item["kind"] == "excelente":
            row.excellent += 1
            if BANDS.index(pre_band) >= BANDS.index("bueno"):
                row.excellent_ok += 1
            else:
                row.excellent_offenders.append(label)
    row.rho = spearman(pre_scores, grade_scores)
    row.exact, row.adjacent = agreement(pairs)
    row.pairs = len(pairs)
    return row


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f} %"


def print_report(rows: list[Row], with_context: bool, elapsed: float, total: int, out=None, startup: float = 0.0) -> bool:
    out = out or sys.stdout
    p = lambda *a: print(*a, file=out)  # noqa: E731
    p("Pre-check benchmark on the calibration set (roleplays/calibration/)")
    p(f"context sent (scenario, customer): {'yes' if with_context else 'no: the pre-check rejects those fields'}")
    p(f"{total} transcripts checked in {elapsed:.2f} s: {total / elapsed if elapsed else float('inf'):.1f} transcripts/s")
    checking = elapsed - startup
    if startup and checking > 0:
        p(f"  of which the command's start-up {startup:.2f} s (measured on an empty list); checking alone "
          f"{checking:.2f} s, {total / checking:.1f} transcripts/s")
    p("")
    head = f"{'split':8} {'n':>3}  {'Spearman':>8}  {'exact':>6}  {'adjacent':>8}  {'coverage':>13}  {'traps<=regular':>14}  {'excel.>=bueno':>13}  goals"
    p(head)
    p("-" * len(head))
    all_met = True
    for r in rows:
        goals = r.goals()
        all_met &= all(goals.values())
        missed = [k for k, ok in goals.items() if not ok]
        rho = "n/a" if r.rho is None else f"{r.rho:.2f}"
        cover = f"{r.pairs}/{r.graded_criteria}"
        p(f"{r.name:8} {r.n:>3}  {rho:>8}  {_pct(r.exact):>6}  {_pct(r.adjacent):>8}  {cover:>13}  "
          f"{f'{r.traps_ok}/{r.traps}':>14}  {f'{r.excellent_ok}/{r.excellent}':>13}  "
          f"{'met' if not missed else 'missed: ' + ', '.join(missed)}")
    p("")
    p(f"goals: Spearman >= {GOAL_SPEARMAN}, adjacent >= {GOAL_ADJACENT:.0%}, no trap above regular, every excellent >= bueno")
    everything = rows[-1]
    if everything.not_keyed:
        reason = ("the pre-check was not given the scenario, so its criteria are its own" if not with_context
                  else "no level under any of the scenario rubric's criterion ids")
        p(f"{everything.not_keyed} of {everything.n} results not compared ({reason}): counted as not covered")
    if everything.foreign_ids:
        p(f"criteria outside the scenario's rubric, not compared: {', '.join(sorted(everything.foreign_ids))}")
    p("")
    p(f"Per rubric criterion ({everything.name} transcripts):")
    p(f"  {'criterion':46} {'graded':>6} {'scored':>6} {'exact':>6} {'adjacent':>8}")
    uncovered = []
    for key in sorted(everything.graded_per_criterion):
        pairs = everything.per_criterion.get(key, [])
        exact, adjacent = agreement(pairs)
        if not pairs:
            uncovered.append(key)
        p(f"  {key:46} {everything.graded_per_criterion[key]:>6} {len(pairs):>6} {_pct(exact):>6} {_pct(adjacent):>8}")
    p(f"coverage: {len(everything.graded_per_criterion) - len(uncovered)} of {len(everything.graded_per_criterion)} rubric criteria scored"
      + (f"; not scored: {', '.join(uncovered)}" if uncovered else ""))
    for r in rows[:-1] or rows:
        for title, offenders in (("traps above regular", r.trap_offenders), ("excellent below bueno", r.excellent_offenders)):
            if offenders:
                p("")
                p(f"{r.name}: {title}:")
                for line in offenders:
                    p(f"  {line}")
    p("")
    p("all goals met" if all_met else "goals missed (exit 1)")
    return all_met


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flask", default=str(Path(sys.executable).with_name("flask")), help="the flask command to run")
    parser.add_argument("--calibration", type=Path, default=CALIBRATION, help="folder of calibration files")
    parser.add_argument("--split", choices=("dev", "holdout", "all"), default="all",
                        help="which transcripts to run: dev (the ones a tuner may read), holdout (never tuned on) or all (default)")
    args = parser.parse_args(argv)
    rubrics, scenarios = load_rubrics(), load_scenarios()
    items = load_calibration(args.calibration)
    if not items:
        print(f"no calibration transcripts in {args.calibration}", file=sys.stderr)
        return 2
    splits = SPLITS if args.split == "all" else (args.split,)
    items = [i for i in items if i["split"] in splits]
    results, elapsed, with_context = {}, 0.0, True
    by_split = {s: [i for i in items if i["split"] == s] for s in splits}
    try:
        for split, chosen in by_split.items():
            if chosen:
                out, context, seconds = run_precheck(args.flask, chosen)
                results.update(out)
                elapsed += seconds
                with_context &= context
    except (OSError, RuntimeError, json.JSONDecodeError, subprocess.TimeoutExpired) as exc:
        print(f"cannot run the pre-check: {exc}", file=sys.stderr)
        return 2
    missing = [str(i["id"]) for i in items if str(i["id"]) not in results]
    if missing:
        print(f"the pre-check gave no result for: {', '.join(missing)}", file=sys.stderr)
        return 2
    runs = sum(1 for chosen in by_split.values() if chosen)
    rows = [evaluate(s, by_split[s], results, rubrics, scenarios, with_context) for s in splits]
    if args.split == "all":
        rows.append(evaluate("all", items, results, rubrics, scenarios, with_context))
    return 0 if print_report(rows, with_context, elapsed, len(items), startup=runs * startup_seconds(args.flask)) else 1


if __name__ == "__main__":
    sys.exit(main())
