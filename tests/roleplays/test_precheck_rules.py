"""Rules of the pre-check tuned on the handbook's standards (issue #18): each test states one rule, on replies written
for the test (never a calibration transcript)."""
from __future__ import annotations

from lms.roleplays.engine import text as T


def _date_words(text: str) -> list[str]:
    reply = T.understand(text)
    return [reply.tokens[i].surface for i in sorted(reply.dates)]


def test_dates_are_read_by_pattern_without_the_words_around_them():
    assert _date_words("Los dos cargos son del 1 de diciembre.") == ["1", "de", "diciembre"]
    assert _date_words("Te llamo el jueves 11 sin falta.") == ["jueves", "11"]
    assert _date_words("Se corrigió el 3/12 y en enero no pasará.") == ["3/12", "enero"]
    assert _date_words("Llega el 12 de marzo de 2027.") == ["12", "de", "marzo", "de", "2027"]
    # a time is a duration, not a date; «la mañana de» is a part of the day, not «tomorrow»
    assert _date_words("A las 17:40 se bloqueó.") == []
    assert "manana" not in _date_words("Pasa la mañana de hoy.")


def test_a_reply_with_a_date_gives_a_next_step_with_its_deadline():
    reply = T.understand("Finanzas te devuelve el importe el 11 de diciembre.")
    assert T.find(reply, "devolver ... #when") is not None
    assert T.find(T.understand("Finanzas te devuelve el importe en breve."), "devolver ... #when") is None


def test_the_precheck_loads_models_without_replaying_their_examples_and_content_check_still_does():
    from lms.roleplays.engine import model

    assert model.checking_examples()
    with model.examples_unchecked():
        assert not model.checking_examples()
    assert model.checking_examples()


# -- grading rules ---------------------------------------------------------------------------------------------------

def _check(raw: dict):
    from lms.roleplays import precheck

    _tid, transcript, rubric = precheck.parse_transcript(raw)
    return precheck.check(transcript, rubric)


def _chat(*turns, channel="chat", **context) -> dict:
    out = {"id": "t", "channel": channel, "customer_type": "frustrado",
           "opening_message": "Mi pedido 4471 no ha llegado y me dijeron que llegaba ayer. ¿Cuándo llega?", "turns": []}
    for n, text in enumerate(turns):
        out["turns"].append({"speaker": "agent" if n % 2 == 0 else "customer", "text": text, "seconds": 10})
    return out | context


def test_bands_use_the_calibration_cuts():
    from lms.roleplays.grading import band_of

    assert [band_of(s) for s in (0, 49, 50, 74, 75, 89, 90, 100)] == [
        "deficiente", "deficiente", "regular", "regular", "bueno", "bueno", "excelente", "excelente"]


DELIVERY = {"required": True, "level": 2, "destination": "Logística"}


def test_the_escalation_goes_to_the_team_named_after_the_escalating_words_not_to_a_team_named_as_context():
    wrong = _check(_chat("Hola, soy Ana, de MercaHogar. Entiendo tu enfado. El almacén no tiene ruta para tu pedido 4471, así que paso tu "
                         "caso a Dirección con prioridad alta y te escribo hoy antes de las 18:00.", escalation=DELIVERY))
    assert "destino_de_escalamiento_distinto" in wrong.flags
    right = _check(_chat("Hola, soy Ana, de MercaHogar. Entiendo tu enfado. Tu pedido 4471 lleva más de 24 horas sin resolución en nivel 1, "
                         "así que lo paso ahora a Logística con prioridad alta y te escribo hoy antes de las 18:00.", escalation=DELIVERY))
    assert not {"destino_de_escalamiento_distinto", "nivel_de_escalamiento_distinto"} & set(right.flags)
    assert right.criteria["escalamiento"] >= 3


def test_confirming_the_customers_own_data_to_them_is_no_breach_but_showing_it_in_a_public_reply_is():
    own = _check(_chat("Buenas tardes, le atiende Óscar, de Conecta. Le resumo: su dirección es ahora calle Mayor 5, y su pedido 4471 llega "
                       "el jueves 11 de diciembre.", channel="phone"))
    assert "incumplimiento" not in own.flags
    public = _check(_chat("Hola, soy Álvaro, de MercaHogar. Su número de tarjeta termina en 4417 y su pedido llega el jueves.",
                          channel="social"))
    assert "incumplimiento" in public.flags
    private = _check(_chat("Hola, soy Álvaro, de MercaHogar. Lo siento mucho: ¿nos escribes por mensaje directo con tu número de pedido?",
                           "Mensaje directo: es el 4471.",
                           "Gracias. Su número de tarjeta termina en 4417 y su pedido llega el jueves 11 de diciembre.", channel="social"))
    assert "incumplimiento" not in private.flags


def test_a_critical_compliance_criterion_failing_makes_the_band_deficiente_without_rewriting_the_score():
    result = _check(_chat("Hola, soy Ana, de Kontia. Entiendo tu preocupación. El saldo de la cuenta de tu marido es de 1.250 €.",
                          context="El cliente pide datos de la cuenta de un tercero: solo el titular puede consultarlos."))
    assert result.criteria["cumplimiento"] == 0
    assert result.band == "deficiente"
    assert "incumplimiento" in result.flags


REFUND = {"required": True, "level": 2, "destination": "Finanzas"}


def test_claiming_what_only_the_escalation_team_can_do_without_escalating_is_no_solution():
    raw = _chat("Hola, soy Álvaro, de Kontia. Entiendo tu frustración. El segundo cargo fue un error de nuestro sistema. Ya te he hecho yo "
                "el reembolso de los 29,90 €: mañana lo tienes en tu cuenta. Caso resuelto, que tengas un buen día.",
                objectives=["Devolver el cargo duplicado de 29,90 € y decir cuándo llega el dinero"], escalation=REFUND)
    raw["opening_message"] = "Me habéis cobrado dos veces la cuota. ¿Cuándo me devolvéis el dinero?"
    result = _check(raw)
    assert "resuelto_sin_autoridad" in result.flags
    assert result.criteria["solucion"] <= 1
    assert result.band in ("regular", "deficiente")


def test_follow_up_levels_follow_who_contacts_and_when():
    from lms.roleplays import grading, precheck

    def level(text):
        _tid, t, _rubric = precheck.parse_transcript(_chat(text))
        facts = precheck.analyse(t, grading.library())
        return grading.followup(facts, set())[0]

    assert level("Lo he revisado y fue un error nuestro.") == 0
    assert level("Ya te avisaremos cuando esté.") == 1
    assert level("Logística te llamará el jueves 11 de diciembre.") == 2
    assert level("Te escribo yo el jueves 11 de diciembre antes de las 12:00.") == 3
    assert level("Te escribo yo por email el jueves 11 de diciembre antes de las 12:00; queda registrado en tu caso.") == 4
    # declaring solved what is not is no follow-up at all
    assert level("Te escribo yo el jueves 11 de diciembre. Ya está todo solucionado.") == 0


def _email_facts(body: str, name: str = "Mercedes Aguilar"):
    from lms.roleplays import grading, precheck

    raw = {"id": "e", "channel": "email", "customer_type": "confundido",
           "opening_message": "Asunto: Me llegan dos correos de envío\n\nCada vez que marco un pedido como enviado al cliente le llegan dos "
                              "correos. ¿He roto algo?", "turns": [{"speaker": "agent", "text": body, "seconds": 3600}]}
    _tid, t, _rubric = precheck.parse_transcript(raw)
    t.customer_names = [name]
    return grading, precheck.analyse(t, grading.library())


def test_an_email_greeting_is_graded_by_name_opening_emotion_and_usted():
    def level(body):
        grading, facts = _email_facts(body)
        return grading.email_greeting(facts, set())[0]

    assert level("Asunto: Dos correos de envío\n\nLe explico lo que pasa con los correos.") == 0
    assert level("Asunto: Dos correos de envío\n\nEstimado cliente:\n\nLe escribo por su consulta.") == 1
    assert level("Asunto: Dos correos de envío\n\nEstimada Sra. Aguilar:\n\nLe escribo desde el soporte de Kontia.") == 2
    assert level("Asunto: Dos correos de envío\n\nEstimada Sra. Aguilar:\n\nSobre los dos correos de envío que recibe su cliente "
                 "cuando marca un pedido: tiene arreglo.") == 3
    assert level("Asunto: Dos correos de envío\n\nEstimada Sra. Aguilar:\n\nGracias por escribirnos. Entiendo su preocupación: los dos "
                 "correos que recibe su cliente al marcar un pedido como enviado tienen arreglo y no ha roto nada.") == 4


def test_email_action_steps_are_graded_by_concreteness_who_and_how_to_check():
    def level(body):
        grading, facts = _email_facts(body)
        return grading.action(facts, set())[0]

    assert level("Asunto: Correos\n\nEstimada Sra. Aguilar:\n\nUn saludo.") == 0
    assert level("Asunto: Correos\n\nEstimada Sra. Aguilar:\n\nVamos a revisar su configuración.") == 1
    assert level("Asunto: Correos\n\nEstimada Sra. Aguilar:\n\nPrimero la opción de avisos y luego las plantillas.") == 2
    assert level("Asunto: Correos\n\nEstimada Sra. Aguilar:\n\n1. Entre en Ajustes.\n2. Desactive el aviso duplicado.\n\n"
                 "Después haga un pedido de prueba para comprobar que llega un solo correo.") == 4


def _chat_facts(*agent_texts, **context):
    from lms.roleplays import grading, precheck

    turns = []
    for text in agent_texts:
        turns += [text, "Vale."]
    _tid, t, _rubric = precheck.parse_transcript(_chat(*turns[:-1], **context))
    return grading, precheck.analyse(t, grading.library())


def test_internal_acronyms_the_customer_never_used_are_unclear_language():
    grading, facts = _chat_facts("Hola, soy Ana. Tu pedido 4471 tiene una OT abierta en SAT y el slot de la GA vence el jueves.")
    assert grading.unexplained_acronyms(facts) == ["OT", "SAT", "GA"]
    assert grading.clarity(facts, set())[0] <= 1
    grading, facts = _chat_facts("Hola, soy Ana. Tu pedido 4471 tiene una orden de trabajo (OT) abierta; me envías tu DNI por privado.")
    assert grading.unexplained_acronyms(facts) == []


def test_stating_as_done_what_is_not_is_incorrect_information():
    grading, facts = _chat_facts("Hola, soy Ana, de MercaHogar. Te garantizo que mañana lo tienes en casa.")
    assert grading.clarity(facts, set())[0] == 0


def test_complaint_investigation_needs_the_cause_its_scope_and_what_was_reviewed():
    grading, facts = _chat_facts("Lo siento mucho. Te lo devolvemos, no te preocupes.")
    assert grading.investigation(facts, set())[0] == 0
    grading, facts = _chat_facts("Lo siento mucho. El segundo cargo fue un error del sistema de cobros.")
    assert grading.investigation(facts, set())[0] == 2
    grading, facts = _chat_facts("He revisado tu cuenta: el segundo cargo fue un error del sistema de cobros y no hay otros cobros afectados.")
    assert grading.investigation(facts, set())[0] == 4


def test_escalation_need_is_graded_by_the_handbook_criteria_named():
    def level(text):
        grading, facts = _chat_facts(text, escalation=DELIVERY)
        return grading.escalation_need(facts, set())[0]

    assert level("Hola, soy Ana. Lo siento mucho; te escribo mañana.") == 0
    assert level("Hola, soy Ana. Te garantizo que mañana lo tienes en casa; lo paso a Logística.") == 1
    assert level("Hola, soy Ana. Es complicado, así que lo paso a Logística y te escribo hoy antes de las 18:00.") == 2
    assert level("Hola, soy Ana. Tu pedido lleva más de 24 horas sin resolver, así que lo paso a Logística.") == 3
    assert level("Hola, soy Ana. Tu pedido lleva más de 24 horas sin resolver y no estoy autorizada a asignar rutas, así que lo paso "
                 "a Logística con prioridad alta.") == 4


def test_the_customer_is_not_informed_when_promised_what_does_not_depend_on_the_agent():
    grading, facts = _chat_facts("Hola, soy Ana. Lo paso a Logística con prioridad alta y te garantizo que mañana lo tienes en casa.",
                                 escalation=DELIVERY)
    assert grading.informed(facts, set())[0] == 0
    grading, facts = _chat_facts("Hola, soy Ana. Lo paso a Logística con prioridad alta y te escribo yo por este chat hoy antes de las 18:00.",
                                 escalation=DELIVERY)
    assert grading.informed(facts, set())[0] == 4


def test_escalation_communication_counts_the_five_elements():
    grading, facts = _chat_facts("Hola, soy Ana, de MercaHogar. Entiendo tu enfado. Lo paso a Logística. Gracias por tu paciencia, "
                                 "que tengas un buen día.", escalation=DELIVERY)
    assert grading.five_elements(facts, set())[0] == 4
    grading, facts = _chat_facts("Lo paso a Logística.", escalation=DELIVERY, customer_type="satisfecho")
    assert grading.five_elements(facts, set())[0] == 1
    grading, facts = _chat_facts("Eso no es culpa nuestra, es del transportista. Lo paso a Logística.", escalation=DELIVERY)
    assert grading.five_elements(facts, set())[0] == 0


def test_the_closing_counts_the_elements_that_apply_over_the_last_messages():
    def level(*texts, **context):
        grading, facts = _chat_facts(*texts, **context)
        return grading.closing(facts, set())[0]

    assert level("Tu pedido 4471 llega el jueves 11 de diciembre.") == 0
    assert level("Tu pedido 4471 llega el jueves 11 de diciembre. Un saludo.") == 1
    # nothing pending (no escalation, nothing unmet): follow-up does not apply
    full = ("En resumen: tu pedido 4471 llega el jueves 11 de diciembre. Gracias por escribirnos; si necesitas algo, aquí estamos. "
            "Que tengas un buen día.")
    assert level(full, objectives=["Saber cuándo llega el pedido 4471"]) == 4
    # escalated: the follow-up applies, and may be in the message before a one-line goodbye
    assert level("Lo paso a Logística con prioridad alta. En resumen: te escribo yo hoy antes de las 18:00. Gracias por tu paciencia; "
                 "si necesitas algo, aquí estamos.", "¡Que tengas un buen día!", escalation=DELIVERY) == 4


def test_an_email_subject_that_only_answers_re_is_generic():
    grading, facts = _email_facts("Asunto: RE: Me llegan dos correos de envío\n\nEstimada Sra. Aguilar:\n\nLe escribo por su consulta.")
    assert grading.subject(facts, set())[0] == 1
    grading, facts = _email_facts("Asunto: Dos correos de envío: pasos para dejar uno solo\n\nEstimada Sra. Aguilar:\n\nLe escribo.")
    assert grading.subject(facts, set())[0] >= 3


def test_email_writing_practices_apply_only_where_they_help():
    def level(body):
        grading, facts = _email_facts(body)
        return grading.writing(facts, set())[0]

    block = "Asunto: Correos\n\nEstimada Sra. Aguilar: le escribo por los correos y todo tiene arreglo, no se preocupe por nada."
    assert level(block) == 0
    short = ("Asunto: Correos\n\nEstimada Sra. Aguilar:\n\nNo ha roto nada.\n\nLe explico lo que pasa con los correos.\n\n"
             "Un saludo,\nClara Navarro\nEquipo de soporte de Kontia · soporte@kontia.es")
    assert level(short) == 4  # no data nor steps: lists, bold and links do not apply
    steps = ("Asunto: Correos\n\nEstimada Sra. Aguilar:\n\nNo ha roto nada.\n\nEntre en Ajustes. Desactive el aviso. Pulse Guardar.\n\n"
             "Un saludo,\nClara Navarro\nEquipo de soporte de Kontia · soporte@kontia.es")
    assert level(steps) == 2  # steps without a list nor bold


def test_the_hand_off_note_is_read_from_the_internal_note_when_there_is_one():
    from lms.roleplays.precheck import _note_of

    text = "Lo paso a Logística y te escribo hoy.\n\nNota de escalamiento: pedido 4471 sin ruta desde el 10/12; prioridad alta."
    assert _note_of(text).strip() == "pedido 4471 sin ruta desde el 10/12; prioridad alta."
    assert _note_of("Lo paso a Logística.") == "Lo paso a Logística."


def test_ignoring_an_upset_customers_emotion_is_level_0_communication():
    grading, facts = _chat_facts("Hola, soy Ana, de MercaHogar. Lo paso a Logística. Gracias, que tengas un buen día.", escalation=DELIVERY)
    assert facts.customer_type == "frustrado"
    assert grading.five_elements(facts, set())[0] == 0


def test_order_data_in_the_public_reply_makes_the_public_reply_level_0():
    grading, facts = _chat_facts("Hola, soy Álvaro. Lo siento mucho: tu número de tarjeta termina en 4417, te escribimos por mensaje directo.",
                                 channel="social")
    assert grading.public_reply(facts, set())[0] == 0


# -- compensation promises, hand-offs (issue #18, second round) ---------------------------------------------------------

def _promised(text: str, record: dict | None = None) -> bool:
    from lms.roleplays import grading, precheck

    t = precheck.Transcript("chat", "frustrado", "Mi pedido llega tarde otra vez.", [precheck.Turn("agent", text, 10)], record=record)
    return "prometer-sin-autoridad" in precheck.analyse(t, grading.library()).replies[0].moves


def test_a_compensation_granted_by_the_agent_is_a_promise_beyond_authority_unless_conditional_or_granted_by_the_record():
    # the handbook: «Nivel 4: Management · Autoridad: Decisiones de compensación»
    for text in ("Por las molestias, te abonamos 20 € en la próxima factura.", "Le compensaremos con un abono del 10 % del pedido.",
                 "Tendrá un descuento del 15 % en su próxima compra.", "Te devolveremos los gastos de envío.", "Vamos a bonificarle la cuota de enero."):
        assert _promised(text), text
    for text in ("Solicitaré a mi supervisor un abono de 20 € y le digo su decisión mañana.",
                 "Si Management lo aprueba, le abonaremos el 20 % en la factura.", "No puedo compensarle yo: esa decisión es de Dirección.",
                 "El miércoles 17 tendrá noticias mías sobre el descuento.", "Te devuelvo la llamada a las 17:00."):
        assert not _promised(text), text
    # within the authority the scenario's record gives this agent (and its amount), it is no promise beyond it
    allowed = {"permisos_del_agente": "Puede conceder un abono de hasta 10 € por retraso. No puede conceder descuentos."}
    assert not _promised("Por el retraso te abonamos 5 € en la próxima factura.", allowed)
    assert _promised("Te abonamos 30 € por el retraso.", allowed)
    assert _promised("Tendrás un descuento del 10 % en tu próxima compra.", allowed)


def test_level_and_destination_follow_the_rubric():
    def level(text):
        grading, facts = _chat_facts(text, escalation=DELIVERY)
        return grading.level_and_destination(facts, set())[0]

    assert level("Hola, soy Ana. Lo paso a Dirección para que lo valoren; te escribo hoy antes de las 18:00.") == 0  # a team that delays it
    assert level("Hola, soy Ana. Lo paso a Logística, nivel 2; te escribo hoy antes de las 18:00.") == 3
    assert level("Hola, soy Ana. Lo paso a Logística, el equipo que asigna las rutas, que yo no puedo tocar; te escribo hoy antes "
                 "de las 18:00.") == 4


def test_a_correct_hand_off_with_a_time_is_the_solution_when_the_case_needs_a_team():
    grading, facts = _chat_facts("Hola, soy Ana, de MercaHogar. Entiendo tu enfado. Lo paso ahora a Logística con prioridad alta y te "
                                 "escribo yo hoy antes de las 18:00 con la fecha de entrega.", escalation=DELIVERY)
    assert grading.solution(facts, set())[0] >= 3


def test_a_bare_apology_acknowledges_the_emotion_and_jargon_the_customer_used_is_not_jargon():
    grading, facts = _chat_facts("Hola, soy Ana, de MercaHogar. Lo siento. Lo paso a Logística. Gracias, que tengas un buen día.",
                                 escalation=DELIVERY)
    assert grading.five_elements(facts, set())[0] == 3  # «reconoce la emoción» missing, not «ignora la emoción»
    grading, facts = _chat_facts("Hola, soy Ana. Ya veo que regeneró el token y probó en sandbox: lo paso a un especialista.",
                                 opening_message="Regeneré el token y en sandbox funciona. ¿Qué pasa?")
    assert grading.jargon(facts) == []
    grading, facts = _chat_facts("Hola, soy Ana. Es un timeout del backend.", opening_message="No me carga la página. ¿Qué pasa?")
    assert grading.jargon(facts) != []


def test_escalation_need_needs_the_kind_of_case_not_the_team_and_no_asking_again():
    from lms.roleplays.grade_facts import _criteria_named

    def named(text):
        _grading, facts = _chat_facts(text, escalation=DELIVERY)
        return _criteria_named(facts)

    assert "complejidad" not in named("Hola, soy Ana. Lo paso al equipo técnico.")
    assert "complejidad" in named("Hola, soy Ana. Es un caso técnico que requiere conocimiento especializado: lo paso a Logística.")


def test_the_follow_up_of_a_hand_off_is_top_only_with_a_timeline_asked_of_the_team():
    def level(note):
        grading, facts = _chat_facts("Hola, soy Ana. Lo paso a Logística y te escribo yo por este chat hoy antes de las 18:00; queda "
                                     "registrado.\n\nNota de escalamiento: " + note, escalation=DELIVERY)
        return grading.followup(facts, set())[0]

    assert level("Pedido 4471 sin ruta desde hace 3 días. Prioridad alta. Se pide la fecha de entrega antes de las 17:00.") == 4
    assert level("Pedido 4471 sin ruta desde hace 3 días. Prioridad alta. Llamo al cliente a las 18:00.") == 3


def test_a_past_escalation_told_as_context_is_not_where_the_case_goes_now():
    text = ("Hola, soy Ana, de MercaHogar. Entiendo tu enfado. Hoy está de guardia Marta Gil, de Logística. Le paso su caso a ella con "
            "prioridad alta y te escribo hoy antes de las 18:00.\n\nNota de escalamiento: pedido 4471, escalado a Dirección el 04/12 "
            "sin respuesta; el cliente espera la fecha de entrega; prioridad alta; necesito la ruta antes de las 17:00.")
    result = _check(_chat(text, escalation=DELIVERY))
    assert not {"destino_de_escalamiento_distinto", "no_escalo"} & set(result.flags), result.flags


def test_a_case_the_agent_resolves_handed_to_a_team_caps_the_solution(app):
    """A scenario without an escalation (its house rule says the agent resolves it): an escalation is no solution."""
    from lms.roleplays import precheck
    from lms.roleplays.cli import content_scenarios
    from tests.conftest import PROJECT

    with app.app_context():
        scenarios = content_scenarios(PROJECT)
    opening = scenarios["informe-consulta-garantia"][0]["customers"][0]["opening"]
    def check(second):
        raw = {"id": "t", "scenario": "informe-consulta-garantia", "opening_message": opening, "turns": [
            {"speaker": "agent", "seconds": 10, "text": "¡Hola, Rosa! Soy Marcos, de Distribuciones Alba. Entiendo el lío con la garantía."},
            {"speaker": "customer", "text": "Pues eso, ¿entra o no?"},
            {"speaker": "agent", "seconds": 10, "text": second}]}
        _tid, transcript, rubric = precheck.parse_transcript(raw, scenarios)
        return precheck.check(transcript, rubric)
    handed = check("Tu lavadora está en garantía hasta octubre de 2026. Aun así, paso tu caso a Dirección para que lo valore.")
    assert "escalo_sin_necesidad" in handed.flags and handed.criteria["solucion"] <= 1
    kept = check("Tu lavadora está en garantía hasta octubre de 2026. Te pido la visita del servicio técnico para el lunes 15.")
    assert "escalo_sin_necesidad" not in kept.flags


def test_what_is_still_to_come_is_not_declared_resolved():
    from lms.roleplays.engine.conversation import detect_move
    from lms.roleplays.grading import library

    move = library()["moves"]["declarar-resuelto"]
    assert detect_move(T.understand("Listo, tu problema queda resuelto."), move)
    assert not detect_move(T.understand("El caso sigue a mi nombre hasta que esté resuelto."), move)


def test_short_words_stand_for_themselves_not_for_their_lemma():
    # «se» and «le» both lemmatise to «él»: «no le pediremos que lo repita» is no «no se repetirá»
    assert not T.find(T.understand("No le pediremos que lo repita."), "no se repetir|repetira")
    assert T.find(T.understand("Tranquila, no se repetirá."), "no se repetir|repetira")


def test_jargon_is_read_in_what_the_customer_reads_and_against_his_own_register():
    from lms.roleplays.grade_facts import jargon

    plain_customer = _chat_facts("Hola, soy Ana. El backend devolvió un timeout en el endpoint de pagos.")[1]
    assert jargon(plain_customer)
    in_the_note = _chat_facts("Hola, soy Ana. Lo paso a Logística y te escribo hoy antes de las 18:00.\n\nNota de escalamiento: el "
                              "backend devuelve un timeout en el endpoint de rutas.", escalation=DELIVERY)[1]
    assert not jargon(in_the_note)


def test_naming_what_the_problem_costs_the_customer_acknowledges_it():
    from lms.roleplays.engine.conversation import detect_move
    from lms.roleplays.grading import library

    move = library()["moves"]["reconocer-emocion"]
    assert detect_move(T.understand("Siento el impacto que esto tiene en sus almacenes."), move)
    assert not detect_move(T.understand("Lo siento, no puedo hacer nada."), move)


def test_every_fault_the_precheck_raises_has_words_on_the_pages():
    """The result and grading pages name each flag in the reader's language, never by its code."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "lms" / "roleplays"
    raised = {m for path in root.glob("*.py") for m in re.findall(r'flags\.add\("([a-z_]+)"\)', path.read_text(encoding="utf-8"))}
    labelled = set(re.findall(r"'([a-z_]+)': _\(", (root / "templates" / "roleplays" / "_parts.html").read_text(encoding="utf-8")))
    assert raised and not raised - labelled, raised - labelled


def test_a_hand_off_made_now_is_no_history():
    from lms.roleplays.precheck import _history_sentences

    assert _history_sentences(T.understand("Escalado a Logística el 04/12, sin respuesta."))
    assert not _history_sentences(T.understand("He escalado tu caso a Logística hoy y te escriben mañana."))
    assert not _history_sentences(T.understand("Queda escalado a Logística; te llaman mañana antes de las 12:00."))
