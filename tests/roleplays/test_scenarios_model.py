"""Every scenario runs on the customer model: its examples hold, and each customer reaches each of its endings
through ``roleplays simulate``."""
import json

import pytest

from lms.roleplays.engine import conversation, simulation
from lms.roleplays.engine.model import check_move_examples, check_need_examples
from tests.conftest import PROJECT


@pytest.fixture(scope="module")
def scenarios(app):
    from lms.roleplays.cli import content_scenarios

    with app.app_context():
        return content_scenarios(PROJECT)


class Sink:
    def __init__(self):
        self.messages = []

    def add(self, line, message):
        self.messages.append(message)


def test_every_scenario_has_a_model_with_five_things_that_matter_and_three_endings(scenarios):
    files = sorted(p.stem for p in (PROJECT / "roleplays").glob("*.md") if p.name != "README.md")
    assert sorted(scenarios) == files and len(files) >= 13
    for slug, (data, rubric) in scenarios.items():
        assert rubric is not None, slug
        for customer in data["customers"]:
            model = customer["model"]
            assert len(model["needs"]) + len(model["scenario_moves"]) >= 5, (slug, customer["id"])
            assert len(model["endings"]) >= 3, (slug, customer["id"])
            for item in model["needs"] + [model["moves"][m] for m in model["scenario_moves"]] + list(model["endings"].values()):
                assert item["source"]["ref"] and item["source"]["quote"], (slug, item)


def test_every_scenario_move_and_need_example_holds(scenarios):
    for slug, (data, _rubric) in scenarios.items():
        for customer in data["customers"]:
            sink = Sink()
            for move_id, move in customer["model"]["moves"].items():
                assert len(move["examples"]["must"]) >= 3 and len(move["examples"]["must_not"]) >= 3, (slug, move_id)
                check_move_examples(sink, 1, move_id, move)
            for need in customer["model"]["needs"]:
                check_need_examples(sink, 1, need, customer["opening"])
            assert sink.messages == [], (slug, sink.messages)


def test_each_customer_reaches_each_of_its_endings_through_simulate(scenarios):
    for slug, (data, rubric) in scenarios.items():
        for customer in data["customers"]:
            for kind, path in conversation.ending_paths(data, data["mode"], customer).items():
                path = path[:len(conversation.replay(data, customer["id"], "t", path).steps)]  # up to the ending
                replies = [{"text": text, "seconds": seconds, **({"customer": customer["id"]} if len(data["customers"]) > 1 else {})}
                           for text, seconds in path]
                result = simulation.run((data, rubric), replies)
                ending = result["ending"][customer["id"]] if len(data["customers"]) > 1 else result["ending"]
                assert ending == kind, (slug, customer["id"], kind, result["turns"][-1])
                check = result["precheck"][customer["id"]] if len(data["customers"]) > 1 else result["precheck"]
                assert set(check["criteria"]) == {c["id"] for c in rubric["criteria"]}
                assert check["band"] in ("excelente", "bueno", "regular", "deficiente")


def test_the_simulate_command_prints_turns_ending_and_precheck(app, tmp_path):
    replies = tmp_path / "replies.yaml"
    replies.write_text(
        "- Hola, Gabriela. Soy Álvaro, de Kontia. Entiendo tu frustración.\n"
        "- {text: 'El segundo cargo fue un reintento automático del sistema de cobros. Pido ahora a Finanzas el reembolso a tu "
        "tarjeta terminada en 4417; lo emiten en 5 días hábiles, como tarde el jueves 11 de diciembre.', seconds: 20}\n",
        encoding="utf-8")
    runner = app.test_cli_runner()
    app.config["CONTENT_ROOT"], before = str(PROJECT), app.config["CONTENT_ROOT"]
    try:
        result = runner.invoke(args=["roleplays", "simulate", "queja-facturacion-cobro-duplicado", str(replies)])
        bad = runner.invoke(args=["roleplays", "simulate", "no-existe", str(replies)])
        replies.write_text("- {text: 3}\n", encoding="utf-8")
        malformed = runner.invoke(args=["roleplays", "simulate", "queja-facturacion-cobro-duplicado", str(replies)])
    finally:
        app.config["CONTENT_ROOT"] = before
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert [set(t) >= {"customer", "moves", "needs_met", "mood"} for t in out["turns"]] == [True, True]
    assert "reconocer-emocion" in out["turns"][0]["moves"] and out["turns"][1]["needs_met"] == ["reembolso", "plazo", "causa"]
    assert "ending" in out and set(out["precheck"]) >= {"score", "band", "criteria", "evidence", "flags"}
    assert bad.exit_code != 0 and "unknown scenario 'no-existe'" in bad.output
    assert malformed.exit_code != 0 and "reply 1" in malformed.output
