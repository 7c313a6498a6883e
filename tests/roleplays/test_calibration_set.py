"""The pre-check calibration set (roleplays/calibration/, issue #18) and the benchmark's statistics (bench/precheck.py).

The set is content written by trainers: these tests hold it to its README (every transcript parses as pre-check
input, belongs to a real scenario and customer, is graded on every criterion of its scenario's rubric with a
rationale, its band is the one the levels give) and to the shape the benchmark needs (kinds per scenario, the
dev/holdout split). The statistics are checked on small cases computed by hand.
"""
from __future__ import annotations

import json
import math
import re
import shutil
import sys
from collections import Counter

import pytest
import yaml
from sqlalchemy import select

from lms.content import check, sync
from lms.roleplays import precheck
from lms.roleplays.models import Scenario
from tests.conftest import PROJECT, TEST_CONTENT

sys.path.insert(0, str(PROJECT))
from bench import precheck as bench  # noqa: E402

CALIBRATION = PROJECT / "roleplays" / "calibration"
KINDS = {"excelente", "mediocre", "trampa"}
TRAPS = {"frases-sin-sustancia", "escalamiento-erroneo", "empatico-sin-cumplimiento", "jerga-fria",
         "venta-agresiva", "compensacion-sin-autoridad", "falso-resuelto"}
FIELDS = set(bench.PRECHECK_FIELDS) | {"scenario", "customer", "kind", "trap", "split", "grade"}
SCENARIOS = bench.load_scenarios()
RUBRICS = bench.load_rubrics()
ITEMS = bench.load_calibration()


def by_scenario():
    out: dict[str, list[dict]] = {}
    for item in ITEMS:
        out.setdefault(item["scenario"], []).append(item)
    return out


# -- the set ---------------------------------------------------------------------------------------

def test_every_file_is_a_list_named_after_its_scenario():
    files = sorted(CALIBRATION.glob("*.yaml"))
    # the conversation scenarios; the ticket queue (mode "ticket") is a classification drill with no transcript to grade
    conversations = {sid for sid, s in SCENARIOS.items() if s.get("mode") != "ticket"}
    assert len(conversations) >= 12
    assert {f.stem for f in files} == conversations, "one file per conversation scenario, named <scenario-id>.yaml"
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(data, list) and data, path
        assert {item["scenario"] for item in data} == {path.stem}, path
    assert (CALIBRATION / "README.md").is_file()


def test_ids_are_unique_and_fields_known():
    ids = [item["id"] for item in ITEMS]
    assert len(ids) == len(set(ids))
    for item in ITEMS:
        extra = set(item) - FIELDS - {"_file"}
        assert not extra, f"{item['id']}: unknown fields {extra}"


@pytest.mark.parametrize("item", ITEMS, ids=lambda i: i["id"])
def test_each_transcript_is_valid_precheck_input_of_its_scenario(item):
    scenario = SCENARIOS[item["scenario"]]
    customers = {c["id"]: c for c in scenario["customers"]}
    if scenario["mode"] == "surge":
        assert item.get("customer") in customers, "a surge transcript names one of the scenario's customers"
        customer = customers[item["customer"]]
    else:
        assert item.get("customer") in (None, *customers)
        customer = next(iter(customers.values()))
    assert item["channel"] == scenario["channel"]
    assert item["customer_type"] == customer["type"]
    # the pre-check's own parser accepts the fields the benchmark sends
    tid, transcript = precheck.transcript_from_dict(bench.precheck_input(item, with_context=False))
    assert tid == item["id"]
    agent = [t for t in item["turns"] if t["speaker"] == "agent"]
    assert item["turns"][0]["speaker"] == "agent" and agent
    assert all(isinstance(t.get("seconds"), (int, float)) and t["seconds"] >= 0 for t in agent), "every agent turn is timed"
    if scenario["mode"] == "email":
        assert len(item["turns"]) == 1, "an e-mail role-play is one composed reply"


@pytest.mark.parametrize("item", ITEMS, ids=lambda i: i["id"])
def test_each_transcript_is_graded_on_every_rubric_criterion(item):
    rubric = RUBRICS[SCENARIOS[item["scenario"]]["rubric"]]
    criteria = item["grade"]["criteria"]
    assert list(criteria) == [c["id"] for c in rubric["criteria"]], "every criterion, in the rubric's order"
    for cid, entry in criteria.items():
        assert isinstance(entry["level"], int) and not isinstance(entry["level"], bool) and 0 <= entry["level"] <= 4, cid
        assert isinstance(entry["rationale"], str) and len(entry["rationale"].strip()) >= 20, cid
    score, band, _failed = bench.graded(rubric, bench.grade_levels(item))
    assert item["grade"]["score"] == score, "score is the rubric's weighted mean of the levels"
    assert item["grade"]["band"] == band, "band follows the README's banding"


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("**", "")).strip().lower()


REFERENCE = _plain(" ".join(p.read_text(encoding="utf-8") for p in sorted((PROJECT / "courses" / "reference").glob("*/*.md"))))
QUOTE = re.compile(r"«([^«»]*(?:«[^«»]*»[^«»]*)*)»")


@pytest.mark.parametrize("item", ITEMS, ids=lambda i: i["id"])
def test_what_a_rationale_quotes_is_really_there(item):
    """A «quoted» passage comes from the rubric, the scenario, the reference pages or the transcript itself
    («...» marks a cut)."""
    rubric = SCENARIOS[item["scenario"]]["rubric"]
    sources = _plain((PROJECT / "roleplays" / "rubrics" / f"{rubric}.yaml").read_text(encoding="utf-8")
                     + (PROJECT / "roleplays" / f"{item['scenario']}.md").read_text(encoding="utf-8")
                     + item["opening_message"] + " ".join(t["text"] for t in item["turns"])) + REFERENCE
    for cid, entry in item["grade"]["criteria"].items():
        for quote in QUOTE.findall(entry["rationale"]):
            parts = [p for p in re.split(r"\s*(?:\.\.\.|…)\s*", _plain(quote)) if p]
            assert all(p in sources for p in parts), f"{cid}: «{quote}» is not in the rubric, scenario, references or transcript"


@pytest.mark.parametrize("item", ITEMS, ids=lambda i: i["id"])
def test_kinds_land_where_the_goals_put_them(item):
    assert item["kind"] in KINDS
    band = item["grade"]["band"]
    if item["kind"] == "trampa":
        assert item.get("trap") in TRAPS
        assert band in ("regular", "deficiente"), "a trap grades regular or below"
    else:
        assert "trap" not in item
    if item["kind"] == "excelente":
        assert band in ("bueno", "excelente"), "an excellent transcript grades bueno or above"


def test_each_scenario_has_an_excellent_a_mediocre_and_a_trap():
    assert len(ITEMS) >= 48
    for scenario, items in by_scenario().items():
        kinds = Counter(i["kind"] for i in items)
        assert len(items) >= 4 and kinds["excelente"] >= 1 and kinds["mediocre"] >= 1 and kinds["trampa"] >= 1, scenario
    assert {i["trap"] for i in ITEMS if i["kind"] == "trampa"} == TRAPS, "every trap kind is in the set"


def test_every_scenario_holds_out_one_transcript_of_each_kind():
    """The held-out split (README, «Split»): transcripts written by people who never saw the pre-check and never used to
    tune it, an excellent (with slips), a poor one and a trap for every scenario."""
    holdout = [i for i in ITEMS if i["split"] == "holdout"]
    assert {i["split"] for i in ITEMS} == {"dev", "holdout"}
    for scenario, items in by_scenario().items():
        assert {i["kind"] for i in items if i["split"] == "holdout"} == KINDS, scenario
    assert len(holdout) / len(ITEMS) >= 0.2
    assert sum(1 for i in holdout if i["kind"] == "trampa") >= 12


def test_some_replies_are_slow_for_the_timing_criteria():
    standard = {"chat": 30, "phone": 15, "email": 7200, "social": 3600}
    slow = [i["id"] for i in ITEMS if any(t["speaker"] == "agent" and t["seconds"] > standard[i["channel"]] for t in i["turns"])]
    assert len(slow) >= 8


def test_content_check_and_sync_ignore_the_calibration_folder(tmp_path, session):
    root = tmp_path / "content"
    shutil.copytree(TEST_CONTENT, root)
    shutil.copytree(CALIBRATION, root / "roleplays" / "calibration")
    (root / "roleplays" / "calibration" / "not-a-scenario.md").write_text("no front matter here\n", encoding="utf-8")
    assert [str(p) for p in check(root)] == []
    problems, _report = sync(session, root)
    assert not problems
    paths = session.scalars(select(Scenario.source_path)).all()
    assert paths and not any("calibration" in p for p in paths)


# -- the benchmark's statistics --------------------------------------------------------------------

def test_ranks_share_ties():
    assert bench.ranks([10, 20, 20, 30]) == [1, 2.5, 2.5, 4]
    assert bench.ranks([3, 1, 2]) == [3, 1, 2]
    assert bench.ranks([5, 5, 5]) == [2, 2, 2]


def test_spearman_on_hand_computed_cases():
    assert bench.spearman([1, 2, 3, 4, 5], [2, 4, 6, 8, 10]) == pytest.approx(1.0)
    assert bench.spearman([1, 2, 3, 4, 5], [5, 4, 3, 2, 1]) == pytest.approx(-1.0)
    # no ties: 1 - 6·Σd²/(n(n²-1)); d = (0, 0, -1, 1, 0) → 1 - 6·2/120 = 0.9
    assert bench.spearman([1, 2, 3, 4, 5], [1, 2, 4, 3, 5]) == pytest.approx(0.9)
    # ties: ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4): Pearson = 4.5 / sqrt(4.5 · 5)
    assert bench.spearman([10, 20, 20, 30], [1, 2, 3, 4]) == pytest.approx(4.5 / math.sqrt(4.5 * 5))
    assert bench.spearman([1, 1, 1], [1, 2, 3]) is None
    assert bench.spearman([1], [1]) is None


def test_agreement_exact_and_adjacent():
    assert bench.agreement([(4, 4), (3, 2), (0, 2), (1, 1)]) == (0.5, 0.75)
    assert bench.agreement([]) == (None, None)


def test_band_from_score_and_critical_criteria():
    assert [bench.band(s) for s in (100, 90, 89.9, 75, 74.9, 50, 49.9, 0)] == [
        "excelente", "excelente", "bueno", "bueno", "regular", "regular", "deficiente", "deficiente"]
    assert bench.band(96.4, critical_failed=True) == "deficiente"
    financial = RUBRICS["cumplimiento-financiero"]
    levels = {c["id"]: 4 for c in financial["criteria"]} | {"confidencialidad": 2}
    score, band, failed = bench.graded(financial, levels)
    assert (score, band, failed) == (85.7, "deficiente", ["confidencialidad"])


def test_evaluate_copes_with_the_old_precheck_output():
    """No band and criteria of its own (some ids coincide with the chat rubric's: saludo, empatia, solucion…),
    and it rejects the scenario: the band comes from the score and no level is compared."""
    items = [i for i in ITEMS if i["scenario"] == "informe-consulta-garantia"]
    old = {"saludo": 4, "nombre": None, "escucha": 3, "empatia": 4, "solucion": 2, "cierre": 1, "tiempos": 4, "escalamiento": None}
    results = {i["id"]: {"score": 80 if i["kind"] == "trampa" else 40, "criteria": old, "flags": []} for i in items}
    row = bench.evaluate("all", items, results, RUBRICS, SCENARIOS, with_context=False)
    assert row.pairs == 0 and row.not_keyed == len(items) and row.adjacent is None
    assert row.traps_ok == 0 and len(row.trap_offenders) == row.traps  # 80 → bueno, above regular
    assert row.excellent_ok == 0
    assert not row.goals()["adjacent"] and not row.goals()["traps"]


def test_evaluate_compares_levels_given_by_rubric_criterion():
    item = next(i for i in ITEMS if i["id"] == "gar-excelente")
    levels = {cid: {"level": e["level"], "evidence": []} for cid, e in item["grade"]["criteria"].items()}
    levels["tiempos"] = {"level": 1, "evidence": []}  # graded 3: neither exact nor adjacent
    levels["compliance"] = 4  # not a criterion of comunicacion-chat: reported, not compared
    row = bench.evaluate("dev", [item], {item["id"]: {"score": 95, "band": "excelente", "criteria": levels}}, RUBRICS, SCENARIOS)
    assert row.pairs == 7 and row.not_keyed == 0 and row.foreign_ids == {"comunicacion-chat: compliance"}
    assert row.exact == pytest.approx(6 / 7) and row.adjacent == pytest.approx(6 / 7)
    assert row.excellent_ok == 1


FAKE_PRECHECK = """#!{python}
# Stands in for `flask --app lms roleplays precheck FILE`: answers with the results in {answers}.
import json, sys
answers = json.load(open({answers!r}, encoding="utf-8"))
items = json.load(open(sys.argv[-1], encoding="utf-8"))
if {reject_context} and any("scenario" in i for i in items):
    print("transcript 1: unknown field(s): scenario", file=sys.stderr)
    sys.exit(1)
print(json.dumps({{i["id"]: answers[i["id"]] for i in items if i["id"] in answers}}))
"""


def fake_precheck(tmp_path, answers: dict, reject_context: bool = False):
    (tmp_path / "answers.json").write_text(json.dumps(answers), encoding="utf-8")
    fake = tmp_path / "flask"
    fake.write_text(FAKE_PRECHECK.format(python=sys.executable, answers=str(tmp_path / "answers.json"),
                                         reject_context=reject_context), encoding="utf-8")
    fake.chmod(0o755)
    return str(fake)


@pytest.mark.parametrize("reject_context", [False, True])
def test_the_benchmark_passes_a_precheck_that_agrees_with_the_trainers_and_knows_the_scenario(tmp_path, capsys, reject_context):
    answers = {i["id"]: {"score": i["grade"]["score"], "band": i["grade"]["band"], "flags": [],
                         "criteria": {cid: {"level": e["level"], "evidence": []} for cid, e in i["grade"]["criteria"].items()}}
               for i in ITEMS}
    status = bench.main(["--flask", fake_precheck(tmp_path, answers, reject_context)])
    out = capsys.readouterr().out
    assert "transcripts/s" in out
    if reject_context:  # levels from a pre-check that was not told the scenario are not compared
        assert status == 1 and "context sent (scenario, customer): no" in out
        assert "coverage: 0 of 43 rubric criteria scored" in out and "missed: adjacent" in out
    else:
        assert status == 0 and "all goals met" in out
        assert "coverage: 43 of 43 rubric criteria scored" in out


def test_the_benchmark_fails_a_precheck_that_misses_the_goals(tmp_path, capsys):
    answers = {i["id"]: {"score": 80, "criteria": {}, "flags": []} for i in ITEMS}
    assert bench.main(["--flask", fake_precheck(tmp_path, answers)]) == 1
    out = capsys.readouterr().out
    assert "goals missed (exit 1)" in out and "traps above regular" in out


def test_the_benchmark_says_when_the_precheck_cannot_be_run(tmp_path, capsys):
    assert bench.main(["--flask", str(tmp_path / "no-such-command")]) == 2
    assert "cannot run the pre-check" in capsys.readouterr().err
    answers = {i["id"]: {"score": 50, "criteria": {}, "flags": []} for i in ITEMS[1:]}
    assert bench.main(["--flask", fake_precheck(tmp_path, answers)]) == 2
    assert f"no result for: {ITEMS[0]['id']}" in capsys.readouterr().err
