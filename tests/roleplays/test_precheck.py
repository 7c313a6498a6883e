"""The advisory pre-check rewards what the standard asks for and is not fooled by stuffing."""
import json

import pytest

from lms.content import sync
from lms.roleplays import precheck, services
from lms.roleplays.models import Scenario
from tests.conftest import PROJECT

GOOD = [
    precheck.Turn("agent", "¡Hola, Ana! Soy Luis, de MercaHogar, y estoy aquí para ayudarte. Entiendo tu frustración: lamento el retraso. "
                           "Si te entiendo bien, tu pedido 5521 no ha llegado y lo necesitas el viernes, ¿es así?", 20),
    precheck.Turn("customer", "Sí, es un regalo. ¿Cuándo llega el pedido?"),
    precheck.Turn("agent", "He revisado tu pedido 5521: está retenido en el almacén. Voy a pasarlo ahora a Logística con prioridad alta "
                           "y mañana antes de las 14:00 te escribo con la fecha de entrega del regalo.", 25),
    precheck.Turn("customer", "Vale, gracias."),
    precheck.Turn("agent", "Gracias a ti, Ana. Entonces queda así: Logística revisa el pedido hoy y mañana te confirmo la entrega. "
                           "Que tengas un buen día; aquí estamos para lo que necesites.", 15),
]
STUFFED = [
    precheck.Turn("agent", "¡Hola! Soy Luis, de la empresa. Estoy aquí para ayudarte. Entiendo tu frustración, lamento mucho las molestias, "
                           "comprendo perfectamente. Si te entiendo bien, ¿es así? Gracias por contactarnos. En resumen, que tengas un buen día.", 10),
    precheck.Turn("customer", "¿Pero cuándo llega mi pedido?"),
    precheck.Turn("agent", "Entiendo tu frustración, lamento mucho las molestias. Gracias por tu paciencia. Entonces, en resumen, "
                           "quedo a tu disposición. Que tengas un buen día, no dudes en escribirnos.", 10),
]


def transcript(turns, **extra):
    return precheck.Transcript(channel="chat", customer_type="frustrado",
                               opening_message="Hola, soy Ana. Mi pedido 5521 no ha llegado y lo necesito para el viernes, es un regalo.",
                               turns=turns, customer_names=["Ana"], **extra)


def test_a_good_conversation_scores_high():
    result = precheck.check(transcript(GOOD))
    assert result.score >= 80, result
    assert result.criteria["saludo"] == 4 and result.criteria["nombre"] == 4 and result.criteria["tiempos"] == 4
    assert result.criteria["solucion"] >= 3 and result.flags == []


def test_stuffing_the_right_phrases_without_solving_scores_low():
    result = precheck.check(transcript(STUFFED))
    assert result.score <= 40, result
    assert result.criteria["solucion"] <= 1
    assert "no_aborda_el_problema" in result.flags and "relleno_de_frases_hechas" in result.flags


def test_repeating_a_good_reply_is_flagged():
    turns = [GOOD[0], GOOD[1], GOOD[0]]
    result = precheck.check(transcript(turns))
    assert "respuestas_repetidas" in result.flags and result.score <= 50


def test_slow_replies_and_escalation_decisions():
    slow = [precheck.Turn(t.speaker, t.text, 90 if t.seconds else None) for t in GOOD]
    result = precheck.check(transcript(slow))
    assert result.criteria["tiempos"] == 0 and "respuestas_fuera_de_tiempo" in result.flags
    expected = {"required": True, "level": 2, "destination": "Logística"}
    full = {"level": 2, "destination": "Logística", "context": "Pedido 5521", "priority": "Alta", "expectations": "Fecha", "timeline": "Mañana"}
    assert precheck.check(transcript(GOOD, expected_escalation=expected, escalation=full)).criteria["escalamiento"] == 4
    assert precheck.check(transcript(GOOD, expected_escalation=expected, escalation=full | {"level": 3})).criteria["escalamiento"] == 1
    assert precheck.check(transcript(GOOD, expected_escalation=expected, escalation=None)).criteria["escalamiento"] == 0
    assert precheck.check(transcript(GOOD, expected_escalation={"required": False}, escalation=full)).criteria["escalamiento"] == 1


def test_every_scenario_exemplar_passes_the_precheck_and_its_stuffed_version_does_not(session):
    problems, _ = sync(session, PROJECT)
    assert not problems
    scores = {}
    for scenario in session.query(Scenario).all():
        customers = scenario.data["customers"]
        if scenario.mode == "email":
            body = scenario.exemplar
            turns = [precheck.Turn("agent", body, 3600)]
        else:
            turns = []
            for _thread, speaker, text in services.exemplar_turns(scenario.exemplar):
                is_agent = speaker.lower().startswith("agente")
                turns.append(precheck.Turn("agent" if is_agent else "customer", text, 20 if is_agent else None))
            turns = turns[1:] if turns and turns[0].speaker == "customer" else turns
        t = precheck.Transcript(scenario.channel, customers[0]["type"], " ".join(c["messages"][0] for c in customers), turns,
                                customer_names=[c["name"] for c in customers], objectives=scenario.data["objectives"])
        scores[scenario.slug] = precheck.check(t).score
        stuffed = precheck.Transcript(scenario.channel, customers[0]["type"], t.opening_message, [precheck.Turn("agent", STUFFED[0].text, 10)],
                                      customer_names=t.customer_names, objectives=scenario.data["objectives"])
        assert precheck.check(stuffed).score <= 40, scenario.slug
    assert all(score >= 60 for score in scores.values()), scores


def test_cli_precheck_prints_the_documented_json(app, tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps([
        {"id": "bueno", "channel": "chat", "customer_type": "frustrado",
         "opening_message": "Hola, soy Ana. Mi pedido 5521 no ha llegado y lo necesito para el viernes, es un regalo.",
         "turns": [{"speaker": t.speaker, "text": t.text, **({"seconds": t.seconds} if t.seconds else {})} for t in GOOD]},
        {"id": "relleno", "channel": "chat", "customer_type": "frustrado", "opening_message": "¿Dónde está mi pedido 5521?",
         "turns": [{"speaker": "agent", "text": STUFFED[0].text}]},
    ]), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["roleplays", "precheck", str(path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"bueno", "relleno"} and set(data["bueno"]) == {"score", "criteria", "flags"}
    assert 0 <= data["relleno"]["score"] <= 40 < data["bueno"]["score"] <= 100
    assert data["bueno"]["criteria"]["nombre"] is None  # the format carries no customer name
    assert all(v is None or 0 <= v <= 4 for v in data["bueno"]["criteria"].values())
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {id: x, channel: fax, customer_type: frustrado, opening_message: hola, turns: []}\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["roleplays", "precheck", str(bad)])
    assert result.exit_code == 1 and "transcript 1 (x): channel must be one of" in result.output


@pytest.mark.parametrize("raw", [{"id": 1}, {"id": 1, "channel": "chat", "customer_type": "raro", "opening_message": "", "turns": []},
                                 {"id": 1, "channel": "chat", "customer_type": "frustrado", "opening_message": "", "turns": [{"speaker": "x", "text": "y"}]},
                                 {"id": 1, "channel": "chat", "customer_type": "frustrado", "opening_message": "", "turns": [], "extra": 1}])
def test_bad_transcripts_are_refused(raw):
    with pytest.raises(precheck.TranscriptError):
        precheck.transcript_from_dict(raw)
