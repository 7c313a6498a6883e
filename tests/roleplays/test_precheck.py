"""The advisory pre-check grades substance: needs met and moves made, per rubric criterion, with evidence and bands."""
import json

import pytest

from lms.roleplays import precheck, services
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


RANK = {"deficiente": 0, "regular": 1, "bueno": 2, "excelente": 3}


@pytest.fixture(scope="module")
def scenarios(app):
    from lms.roleplays.cli import content_scenarios

    with app.app_context():
        return content_scenarios(PROJECT)


def test_a_good_conversation_scores_high_on_the_general_rubric():
    result = precheck.check(transcript(GOOD))
    assert result.score >= 75 and RANK[result.band] >= RANK["bueno"], result
    assert set(result.criteria) == {"saludo", "escucha", "empatia", "claridad", "solucion", "escalamiento", "cierre", "tiempos"}
    assert result.criteria["solucion"] >= 3 and result.criteria["tiempos"] == 4
    assert result.evidence["solucion"] and all(isinstance(e, str) for e in result.evidence["solucion"])


def test_stock_phrases_without_substance_earn_nothing():
    result = precheck.check(transcript(STUFFED))
    assert result.band == "deficiente" and result.criteria["solucion"] == 0, result
    assert all(result.criteria[c] <= 1 for c in ("saludo", "empatia", "cierre", "escucha"))
    assert "problema_sin_resolver" in result.flags


def test_repeating_a_good_reply_is_flagged_and_capped():
    result = precheck.check(transcript([GOOD[0], GOOD[1], GOOD[0]]))
    assert "respuestas_repetidas" in result.flags and result.score <= 74


def test_slow_replies_and_escalation_decisions():
    slow = [precheck.Turn(t.speaker, t.text, 90 if t.seconds else None) for t in GOOD]
    result = precheck.check(transcript(slow))
    assert result.criteria["tiempos"] == 0 and "respuestas_fuera_de_tiempo" in result.flags
    expected = {"required": True, "level": 2, "destination": "Logística"}
    full = {"level": 2, "destination": "Logística", "context": "Pedido 5521", "priority": "Alta", "expectations": "Fecha", "timeline": "Mañana"}
    assert precheck.check(transcript(GOOD, expected_escalation=expected, escalation=full)).criteria["escalamiento"] == 4
    wrong = precheck.check(transcript(GOOD, expected_escalation=expected, escalation=full | {"level": 3}))
    assert wrong.criteria["escalamiento"] == 1 and wrong.band == "deficiente" and "nivel_de_escalamiento_distinto" in wrong.flags
    other = precheck.check(transcript(GOOD, expected_escalation=expected, escalation=full | {"destination": "Finanzas"}))
    assert "destino_de_escalamiento_distinto" in other.flags and RANK[other.band] <= RANK["regular"]
    assert precheck.check(transcript(GOOD, expected_escalation={"required": False}, escalation=full)).criteria["escalamiento"] == 1


def _exemplar_transcript(data, slug, exemplar, mode):
    customer = data["customers"][0]
    if mode == "email":
        turns = [precheck.Turn("agent", exemplar, 3600)]
    else:
        turns = []
        for thread, speaker, text in services.exemplar_turns(exemplar):
            if len(data["customers"]) > 1 and customer["name"].split()[0] not in thread:
                continue
            is_agent = not (speaker.lower().startswith("client") or any(n in speaker for n in customer["name"].split()))
            turns.append(precheck.Turn("agent" if is_agent else "customer", text, min(10, data["response_standard"]["seconds"]) if is_agent else None))
        turns = turns[1:] if turns and turns[0].speaker == "customer" else turns
    return precheck.Transcript(data["channel"], customer["type"], customer["opening"], turns, customer_names=[customer["name"]],
                               standard_seconds=data["response_standard"]["seconds"], objectives=data["objectives"],
                               expected_escalation=data.get("escalation"), scenario=data, customer_id=customer["id"],
                               record=customer.get("record"))


def test_every_scenario_exemplar_is_good_and_its_stuffed_version_is_not(app, scenarios):
    from lms.content.registry import _collect

    with app.app_context():
        exemplars = {slug: item.exemplar for slug, item in _collect(PROJECT)[0]["roleplays"].scenarios.items()}
    results = {}
    for slug, (data, rubric) in scenarios.items():
        good = precheck.check(_exemplar_transcript(data, slug, exemplars[slug], data["mode"]), rubric)
        results[slug] = (good.band, good.score)
        stuffed = _exemplar_transcript(data, slug, "", "email")
        stuffed.turns = [precheck.Turn("agent", STUFFED[0].text, 10)]
        bad = precheck.check(stuffed, rubric)
        assert RANK[bad.band] <= RANK["regular"], (slug, bad)
        assert set(good.criteria) == {c["id"] for c in rubric["criteria"]}
    assert sum(RANK[band] >= RANK["bueno"] for band, _score in results.values()) >= 9, results


TRAPS = {
    "frases-sin-sustancia": ["¡Hola, Gabriela! Soy Álvaro, de Kontia, y estoy aquí para ayudarte. Entiendo tu frustración y lamento mucho "
                             "lo ocurrido. Aquí está lo que vamos a hacer: vamos a revisar tu caso.",
                             "Entiendo tu frustración, es comprensible. Esto no volverá a pasar. Gracias por contactarnos, que tengas un "
                             "buen día."],
    "escalado-cortes-pero-mal": ["Hola, Gabriela, soy Álvaro, de Kontia. Entiendo tu frustración y lo siento mucho.",
                                 "Paso tu caso a Management, nivel 4, para que lo estudien; te escribirán en 48 horas. Gracias por tu "
                                 "paciencia y que tengas un buen día."],
    "venta-a-cliente-enfadada": ["Hola, Gabriela, soy Álvaro. Pido a Finanzas el reembolso a tu tarjeta terminada en 4417, "
                                 "en 5 días hábiles.", "Y ya que estás, te recomiendo pasarte al plan Premium, con un 20 % de descuento."],
    "promete-lo-que-no-puede": ["Hola, Gabriela, soy Álvaro. Entiendo tu frustración. Te devuelvo ahora mismo los 29,90 € y te regalamos "
                                "un mes gratis. Esto no volverá a pasar."],
}


def test_the_traps_land_at_regular_or_below(scenarios):
    data, rubric = scenarios["queja-facturacion-cobro-duplicado"]
    for name, replies in TRAPS.items():
        t = _exemplar_transcript(data, "x", "", "chat")
        t.turns = [precheck.Turn("agent", text, 20) for text in replies]
        result = precheck.check(t, rubric)
        assert RANK[result.band] <= RANK["regular"], (name, result.score, result.criteria, result.flags)
    assert "venta_a_cliente_molesto" in precheck.check(t.__class__(**{**t.__dict__, "turns": [
        precheck.Turn("agent", text, 20) for text in TRAPS["venta-a-cliente-enfadada"]]}), rubric).flags


def test_cli_precheck_keeps_its_format_and_adds_band_evidence_and_context(app, tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps([
        {"id": "bueno", "channel": "chat", "customer_type": "frustrado",
         "opening_message": "Hola, soy Ana. Mi pedido 5521 no ha llegado y lo necesito para el viernes, es un regalo.",
         "turns": [{"speaker": t.speaker, "text": t.text, **({"seconds": t.seconds} if t.seconds else {})} for t in GOOD]},
        {"id": "relleno", "channel": "chat", "customer_type": "frustrado", "opening_message": "¿Dónde está mi pedido 5521?",
         "turns": [{"speaker": "agent", "text": STUFFED[0].text}]},
        {"id": "escenario", "scenario": "black-friday-pedido-retrasado", "customer": "lucia",
         "turns": [{"speaker": "agent", "text": "Hola, Lucía, soy Luis. La promoción de Black Friday terminó el 1 de diciembre.", "seconds": 12}]},
        {"id": "contexto", "channel": "phone", "customer_type": "exigente", "opening_message": "Quiero que me den de baja hoy.",
         "context": "Un cliente pide la baja del servicio; hay que verificar que es el titular.",
         "objectives": ["Confirmar la fecha de la baja", "Verificar la identidad del titular"],
         "escalation": {"required": False},
         "turns": [{"speaker": "agent", "text": "Buenos días, soy Laura. La baja queda registrada con fecha 31 de diciembre.", "seconds": 10}]},
    ]), encoding="utf-8")
    app.config["CONTENT_ROOT"], before = str(PROJECT), app.config["CONTENT_ROOT"]
    try:
        result = app.test_cli_runner().invoke(args=["roleplays", "precheck", str(path)])
    finally:
        app.config["CONTENT_ROOT"] = before
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"bueno", "relleno", "escenario", "contexto"}
    assert set(data["bueno"]) >= {"score", "criteria", "flags", "band", "evidence"}
    assert 0 <= data["relleno"]["score"] < data["bueno"]["score"] <= 100
    assert set(data["escenario"]["criteria"]) == {"saludo", "escucha-activa", "empatia", "claridad", "solucion", "cierre", "tiempos"}
    assert "cumplimiento" in data["contexto"]["criteria"] and data["contexto"]["criteria"]["escalamiento"] == 4
    assert all(v is None or 0 <= v <= 4 for item in data.values() for v in item["criteria"].values())


@pytest.mark.parametrize(("raw", "message"), [
    ({"id": "x", "channel": "fax", "customer_type": "frustrado", "opening_message": "hola", "turns": []}, "transcript 1 (x): field 'channel'"),
    ({"id": "x", "scenario": "no-existe", "turns": []}, "transcript 1 (x): field 'scenario': unknown scenario"),
    ({"id": "x", "scenario": "black-friday-pedido-retrasado", "turns": []}, "transcript 1 (x): field 'customer': scenario"),
    ({"id": "x", "channel": "chat", "customer_type": "frustrado", "opening_message": "hola", "turns": [],
      "escalation": {"required": True, "level": 7}}, "transcript 1 (x): field 'escalation': level"),
    ({"id": "x", "channel": "chat", "customer_type": "frustrado", "opening_message": "hola", "turns": [], "objectives": "texto"},
     "transcript 1 (x): field 'objectives'"),
])
def test_bad_input_names_the_transcript_and_the_field(app, tmp_path, raw, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([raw]), encoding="utf-8")
    app.config["CONTENT_ROOT"], before = str(PROJECT), app.config["CONTENT_ROOT"]
    try:
        result = app.test_cli_runner().invoke(args=["roleplays", "precheck", str(path)])
    finally:
        app.config["CONTENT_ROOT"] = before
    assert result.exit_code == 1 and message in result.output, result.output


@pytest.mark.parametrize("raw", [{"id": 1}, {"id": 1, "channel": "chat", "customer_type": "raro", "opening_message": "", "turns": []},
                                 {"id": 1, "channel": "chat", "customer_type": "frustrado", "opening_message": "", "turns": [{"speaker": "x", "text": "y"}]},
                                 {"id": 1, "channel": "chat", "customer_type": "frustrado", "opening_message": "", "turns": [], "extra": 1}])
def test_bad_transcripts_are_refused(raw):
    with pytest.raises(precheck.TranscriptError):
        precheck.transcript_from_dict(raw)
