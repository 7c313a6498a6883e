"""The demo's qualification exemplars span the rubric's scale, every agreed level is grounded in the rubric's
descriptor, and on them a trainer who clicks one level everywhere does not qualify."""
from __future__ import annotations

import re
from types import SimpleNamespace

import yaml

from lms.demo.story import exemplar_set
from lms.roleplays import calibration as cal
from tests.conftest import PROJECT


def _rubric_of(scenario_slug: str) -> dict:
    text = (PROJECT / "roleplays" / f"{scenario_slug}.md").read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---")[1])
    return yaml.safe_load((PROJECT / "roleplays" / "rubrics" / f"{front['rubric']}.yaml").read_text(encoding="utf-8"))


def _flat(text: str) -> str:
    return " ".join(str(text).split())


def test_every_exemplar_has_an_agreed_level_per_criterion_grounded_in_the_rubric():
    data = exemplar_set()
    rubric = _rubric_of(data["scenario"])
    criteria = {c["id"]: c for c in rubric["criteria"]}
    for exemplar in data["exemplars"]:
        assert set(exemplar["agreed"]) == set(criteria), exemplar["title"]
        for criterion, (level, why) in exemplar["agreed"].items():
            assert level in range(5) and why.strip()
            descriptor = _flat(criteria[criterion]["levels"][level])
            quoted = re.match(r"Nivel (\d): «([^»]+)»", why)  # below 4, the reason quotes the level's descriptor
            assert quoted or level == 4, (exemplar["title"], criterion)
            if quoted:
                assert int(quoted.group(1)) == level
                for piece in quoted.group(2).split("…"):
                    assert _flat(piece).strip(" .") in descriptor, (exemplar["title"], criterion, piece)


def test_the_exemplars_span_the_scale_excellent_mediocre_deficient_and_a_trap():
    agreed = [{k: v[0] for k, v in e["agreed"].items()} for e in exemplar_set()["exemplars"]]
    means = [sum(a.values()) / len(a) for a in agreed]
    assert max(means) == 4  # excellent
    assert any(1.5 <= m <= 2.5 for m in means)  # mediocre
    assert any(m <= 0.5 for m in means)  # deficient
    assert any(max(a.values()) == 4 and min(a.values()) == 0 for a in agreed)  # the trap: polished and wrong


def test_on_the_demo_exemplars_one_level_everywhere_never_qualifies(app):
    exemplars = exemplar_set()["exemplars"]
    agreed = [{k: v[0] for k, v in e["agreed"].items()} for e in exemplars]

    def gaps(given):
        return cal.qualification_gaps([(SimpleNamespace(levels=g), SimpleNamespace(agreed_levels=a)) for g, a in zip(given, agreed)],
                                      len(agreed))

    with app.test_request_context():
        assert gaps(agreed) == []
        for level in range(5):
            assert gaps([{k: level for k in a} for a in agreed]), level
