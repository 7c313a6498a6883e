"""The Spanish-aware matcher: folding, lemmas, numbers and dates, typos, negation, echoes and announcements."""
from lms.roleplays.engine import text as T
from lms.roleplays.engine.conversation import detect_move, meets_need

REFUND_WHEN = {"id": "plazo", "meet": ["reembolso|devolver|devolucion ... #when", "#when ... reembolso|devolver|devolucion"]}


def test_accents_case_lemmas_and_typos_are_folded():
    assert T.find(T.understand("DEVOLUCIÓN"), "devolucion")
    assert T.find(T.understand("Te devolveremos el importe"), "devolver ... importe")  # lemma
    assert T.find(T.understand("Entiendo tu frustacion"), "frustracion")  # a typo
    assert not T.find(T.understand("Entiendo tu situación"), "frustracion")


def test_numbers_in_words_and_dates_are_normalised():
    reply = T.understand("Te lo devolvemos en cinco días hábiles, como tarde el jueves once de diciembre.")
    assert "5" in reply.numbers() and "11" in reply.numbers()
    assert T.find(reply, "devolver ... #when")
    assert T.find(T.understand("Lo tendrás el 12/12."), "#date")
    assert T.find(T.understand("Te escribo mañana antes de las 14:00."), "#when")
    assert not T.find(T.understand("Te escribiremos cuando sepamos algo."), "#when")
    assert T.find(T.understand("Son 29,90 € de más."), "#money")


def test_negation_scope():
    offer = "ayudar|ayudarte"
    assert T.find(T.understand("Claro, puedo ayudarte."), offer)
    assert not T.find(T.understand("No puedo ayudarte con eso."), offer)  # not an offer of help
    assert not T.find(T.understand("No te preocupes, lo miro."), "preocup*")  # not a worry
    assert T.find(T.understand("No, te lo devolvemos hoy."), "devolver")  # a comma closes the negation
    assert not T.find(T.understand("No hace falta que nos escribas por privado."), "escribir ... privado")
    assert T.find(T.understand("Esto no volverá a pasar."), "no volver ... pasar")  # a pattern about a negation


def test_announcements_without_substance_do_not_meet_a_need():
    heard = T.understand("¿Cuándo me devolvéis el dinero?")
    for reply in ("Vamos a revisar tu caso.", "Te devolveremos el dinero lo antes posible.", "Estamos gestionando tu devolución."):
        assert meets_need(T.understand(reply), REFUND_WHEN, heard) is None, reply
    assert meets_need(T.understand("Finanzas emite el reembolso en 5 días hábiles."), REFUND_WHEN, heard)


def test_echoes_of_the_customers_words_do_not_meet_a_need():
    need = {"id": "causa", "meet": ["cobro|cargo|cobrado ... duplicado|veces"]}
    heard = T.understand("Me habéis cobrado dos veces la cuota de diciembre.")
    assert meets_need(T.understand("Me dices que te hemos cobrado dos veces la cuota de diciembre."), need, heard) is None
    assert meets_need(T.understand("El cobro duplicado fue un reintento automático de nuestro sistema."), need, heard)
    # a date the customer gave is not the answer to «when»
    heard = T.understand("Los dos cargos son del 1 de diciembre. ¿Cuándo me devolvéis el dinero?")
    assert meets_need(T.understand("Se devolverá lo del 1 de diciembre."), REFUND_WHEN, heard) is None
    assert meets_need(T.understand("Se devolverá como tarde el 11 de diciembre."), REFUND_WHEN, heard)


def test_questions_do_not_meet_needs_unless_the_need_says_so():
    need = {"id": "x", "meet": ["reembolso ... #when"]}
    assert meets_need(T.understand("¿Te va bien el reembolso el jueves 11 de diciembre?"), need, None) is None
    assert meets_need(T.understand("¿Te va bien el reembolso el jueves 11 de diciembre?"), need | {"question_ok": True}, None)


def test_unless_cancels_a_move_in_the_same_sentence_only():
    move = {"patterns": ["no volver ... pasar"], "unless": ["corregir|corregido|corrigio"]}
    assert detect_move(T.understand("Esto no volverá a pasar."), move)
    assert not detect_move(T.understand("El error se corrigió, así que no te volverá a pasar."), move)
    assert detect_move(T.understand("El error se corrigió. Y esto no volverá a pasar nunca."), move)


def test_bad_patterns_are_refused():
    for bad in ("", "#nada", "a|b|#when", "hola!"):
        try:
            T.compile_pattern(bad)
        except T.PatternError:
            continue
        raise AssertionError(bad)


def test_team_words_in_capitals_only_when_written_so():
    from lms.roleplays.engine.model import teams_named

    teams = [{"id": "ti", "words": ["TI", "informatica"]}, {"id": "finanzas", "words": ["finanzas"]}]
    assert teams_named(teams, T.understand("Lo paso al equipo de TI.")) == ["ti"]
    assert teams_named(teams, T.understand("Esto es para ti, de Finanzas.")) == ["finanzas"]
    assert teams_named(teams, T.understand("No lo paso a Finanzas.")) == []


def test_an_email_address_is_one_word_that_email_matches():
    sent = T.understand("Le envío ahora mismo los movimientos a carmen.ov61@gmail.com, como me pide.")
    assert T.find(sent, "envio ... #email") and T.find(sent, "#email")
    assert not T.find(T.understand("Se los envío al correo registrado terminado en @correo.es."), "#email")
    assert not T.find(T.understand("No puedo enviarlos a carmen.ov61@gmail.com."), "enviar ... #email")  # negated
    assert not T.find(T.understand("Le envío los movimientos a su banca en línea."), "envio ... #email")
def test_the_app_does_not_load_the_matcher_libraries_until_a_reply_is_read(tmp_path):
    """simplemma, rapidfuzz and text_to_num (~8 MiB) are imported on first use: a worker that never reads a role-play
    reply does not load them; reading one does."""
    import subprocess
    import sys

    code = (
        "import sys, lms\n"
        f"app = lms.create_app({{'TESTING': True, 'DATABASE_URL': 'sqlite:///{tmp_path}/db.sqlite', 'SECRET_KEY': 'k' * 40}})\n"
        "libs = ('simplemma', 'rapidfuzz', 'text_to_num')\n"
        "print(','.join(m for m in libs if m in sys.modules) or '-')\n"
        "from lms.roleplays.engine import text as T\n"
        "assert T.find(T.understand('Te devolveremos el importe mañana'), 'devolver ... #when') and T.similarity('hola', 'hola') == 100\n"
        "print(','.join(m for m in libs if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    before, after = done.stdout.split()
    assert before == "-"
    assert after == "simplemma,rapidfuzz,text_to_num"
