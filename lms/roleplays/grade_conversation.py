"""The conversation criteria every channel shares: greeting, listening, empathy, clarity, solution, closing, response
times and follow-up (levels 0-4 with their evidence; see :mod:`lms.roleplays.grading`)."""
from __future__ import annotations

from lms.roleplays.engine import text as T
from lms.roleplays.grade_facts import (ANY_CONTACT, CHANNEL, OWN_CONTACT, RECORDED, _escalation_ok, _false_resolution, _made, _q,
                                       _solved_without_authority, jargon, unexplained_acronyms)


#: the informal second person: an e-mail that uses it does not keep the «usted»
_TU = frozenset({"tu", "tus", "te", "ti", "contigo", "tienes", "puedes", "quieres", "necesitas", "estas", "has"})


def email_greeting(facts, flags):
    """The e-mail rubric's «saludo personalizado»: 0 none; 1 without the customer's name; 2 with the name, a generic
    opening; 3 an opening about the customer's concrete query; 4 that, recognising the emotion the customer shows (or
    thanking for the message) and keeping the «usted» throughout."""
    text = facts.replies[0].text
    lines = [line.strip() for line in text.splitlines() if line.strip() and not T.fold(line).strip().startswith("asunto")]
    if not lines:
        return 0, ["Sin saludo"]
    salutation = T.understand(lines[0])
    if not (T.find(salutation, "estimado|estimada|hola|querido|querida|buenos|buenas|senor|senora|sr|sra") or lines[0].endswith((":", ","))):
        return 0, ["Sin saludo"]
    names = {T.fold(part) for n in facts.names for part in n.split() if len(part) >= 3}
    if names and not names & {tok.surface for tok in salutation.tokens}:
        return 1, [f"Saludo sin el nombre del cliente: {_q(lines[0])}"]
    opening = T.understand(" ".join(lines[1:3]))
    asked = T.understand_cached(facts.opening).content_lemmas() | {m for n in facts.needs for m in T.understand_cached(n["title"]).content_lemmas()}
    shared = opening.content_lemmas() & asked
    if len(shared) < 2:
        return 2, [f"Saludo con nombre; apertura genérica: {_q(lines[0])}"]
    evidence = [f"Saludo con nombre y apertura sobre su consulta: {_q(lines[1] if len(lines) > 1 else lines[0])}"]
    feeling = T.find(opening, "gracias|agradecer|agradezco") or any(
        m in facts.replies[0].moves and facts.replies[0].moves[m] in " ".join(lines[1:3]) for m in ("reconocer-emocion",))
    usted = not _TU & {tok.surface for tok in facts.replies[0].reply.tokens}
    if feeling and usted:
        return 4, evidence + ["Reconoce la emoción o agradece, y mantiene el usted"]
    return 3, evidence


def greeting(facts, flags):
    if facts.mode == "email":
        return email_greeting(facts, flags)
    first = facts.replies[0]
    parts, evidence = 0, []
    for move_id, label in (("saludo", "Saluda"), ("identificarse", "Se identifica")):
        if move_id in first.moves:
            parts += 1
            evidence.append(f"{label}: {_q(first.moves[move_id])}")
    if T.find(first.reply, "ayudar|ayudo|gusto|encantado|encantada|atender|atenderte|atenderle") is not None:
        parts += 1
        evidence.append("Confirma disponibilidad")
    names = [T.fold(n.split()[0]) for n in facts.names if n.strip()]
    # the name in the first reply, or in the next one when the customer gives it only then
    if names and any(n in {t.surface for r in facts.replies[:2] for t in r.reply.tokens} for n in names):
        parts += 1
        evidence.append("Usa el nombre del cliente")
    elif not names:
        parts += 1
    return min(4, parts), evidence


def listening(facts, flags):
    paraphrase, asked = _made(facts, "parafrasear"), [r for r in facts.replies if r.asked or "pedir-dato" in r.moves]
    evidence = [f"Parafrasea: {_q(q)}" for _i, q in paraphrase[:1]] + [f"Pregunta lo que falta: {_q(r.moves.get('pedir-dato', r.text))}" for r in asked[:1]]
    confirm = any(i for i, _q2 in paraphrase if facts.replies[i].reply.questions) or any(facts.replies[i].reply.questions for i, _ in paraphrase)
    if paraphrase and (asked or confirm):
        level = 4
    elif paraphrase or asked:
        level = 3
    elif facts.met:
        level = 2
    else:
        level = 0
    known = [r for r in facts.replies if r.asked_known]
    if known:
        level = min(level, 1)
        evidence.append(f"Vuelve a pedir un dato que ya tiene: {_q(known[0].text)}")
    if facts.unanswered:
        level = min(level, 1)
        evidence.append("Deja mensajes del cliente sin respuesta")
    return level, evidence


def empathy(facts, flags):
    recognised, generic, defensive = _made(facts, "reconocer-emocion"), _made(facts, "disculpa-generica"), _made(facts, "defensivo")
    evidence = []
    if defensive:
        return 0, [f"Se defiende o culpa: {_q(defensive[0][1])}"]
    if recognised:
        first_index, quote = recognised[0]
        evidence.append(f"Reconoce la emoción: {_q(quote)}")
        level = 3 if first_index <= 1 else 2
        validated = any(T.find(facts.replies[i].reply, "comprensible|normal|logico|razon") for i, _q2 in recognised)
        if level == 3 and (validated or len(recognised) >= 2):
            level = 4
    elif generic:
        level, evidence = 1, [f"Solo una disculpa genérica: {_q(generic[0][1])}"]
    else:
        level = 2 if facts.customer_type == "satisfecho" else 0
        evidence.append("No nombra la emoción ni la situación del cliente")
    upsell = _made(facts, "ofrecer-mejora")
    if upsell and facts.customer_type in ("frustrado", "exigente", "confundido"):
        level = min(level, 1)
        flags.add("venta_a_cliente_molesto")
        evidence.append(f"Ofrece una venta a un cliente molesto: {_q(upsell[0][1])}")
    return level, evidence



def clarity(facts, flags):
    incorrect = _made(facts, "prometer-sin-autoridad") or _false_resolution(facts) or _solved_without_authority(facts)
    if incorrect:
        quote = incorrect[0][1] if isinstance(incorrect, list) else incorrect if isinstance(incorrect, str) else "lo que solo puede hacer otro equipo"
        return 0, [f"Información incorrecta: da por hecho lo que no lo está: {_q(quote)}"]
    level, evidence = _plain_language(facts)
    acronyms = unexplained_acronyms(facts)
    if len(acronyms) >= 2:
        level = min(level, 1 if len(acronyms) < 4 else 0)
        evidence.append(f"Siglas internas sin explicar: {', '.join(acronyms[:5])}")
    return level, evidence


def _plain_language(facts):
    jargon_made, vague = jargon(facts), _made(facts, "anuncio-sin-sustancia")
    evidence = [f"Jerga sin explicar: {_q(q)}" for _i, q in jargon_made[:2]] + [f"Anuncia sin concretar: {_q(q)}" for _i, q in vague[:2]]
    concrete = _made(facts, "siguiente-paso") or _made(facts, "pasos-claros")
    if len(jargon_made) >= 2:
        level = 0
    elif jargon_made:
        level = 1
    elif len(vague) >= 2 or not concrete:
        level = 2
    else:
        level = 4 if not vague else 3
        evidence.append(f"Concreto: {_q(concrete[0][1])}")
    return level, evidence


def solution(facts, flags):
    evidence = [f"Cubre «{m['title']}»: {_q(m['quote'])}" for m in facts.met.values()]
    missed = [n for n in facts.needs if n["id"] not in facts.met]
    evidence += [f"Sin cubrir: «{n['title']}»" for n in missed]
    main = [n for n in facts.needs if n.get("main")] or facts.needs[:1]
    main_met = [n for n in main if n["id"] in facts.met]
    share = len(facts.met) / len(facts.needs) if facts.needs else 0.0
    escalated = _escalation_ok(facts)
    if facts.needs and len(main_met) == len(main) and share >= 0.75:
        level = 4 if _made(facts, "verificar-comprension") else 3
    elif main_met and share >= 0.5:
        level = 3 if escalated or share >= 0.6 else 2
    elif main_met or (escalated and share > 0):
        level = 2
    elif escalated or facts.met:
        level = 1
    else:
        level = 0
    if not facts.needs:
        level = 3 if (_made(facts, "siguiente-paso") or escalated) else 1
    handed = _handed_off(facts)
    if handed:
        # the case needs a team: a correct hand-off that tells the customer when they will hear back is the solution
        # («resuelve o encamina la necesidad principal (…o escala al equipo correcto cuando no puede)», explaining what follows)
        level = max(level, 4 if _made(facts, "verificar-comprension") and share >= 0.5 else 3)
        evidence.append(f"Encamina el caso al equipo que corresponde, con plazo: {_q(handed)}")
    if not main_met and not escalated:
        flags.add("problema_sin_resolver")
    false_done = _false_resolution(facts)
    if false_done:
        level = min(level, 1)
        flags.add("resuelto_en_falso")
        evidence.append(f"Da por resuelto lo que no lo está: {_q(false_done)}")
    if _solved_without_authority(facts):
        level = min(level, 1)
        flags.add("resuelto_sin_autoridad")
        evidence.append(f"Da por hecho lo que solo puede hacer {facts.expected_escalation.get('destination')}, sin escalarlo")
    expected = facts.expected_escalation
    if expected is not None and not expected.get("required") and facts.decision and facts.decision.get("teams"):
        # a case the agent resolves (the scenario has no escalation, its house rule says why) handed to a team: the
        # rubrics' 1, «propone una solución incompleta o que no encaja» (the case waits on a team that should not have it)
        level = min(level, 1)
        flags.add("escalo_sin_necesidad")
        evidence.append(f"Escala a {', '.join(facts.decision['teams'])} un caso que podía resolver")
    promises = [(i, q) for i, q in _made(facts, "prometer-sin-autoridad") + _made(facts, "no-volvera-a-pasar")]
    if promises:
        level = 0  # the rubrics' 0: «promete algo que no depende de él» / «fuera de su autoridad»
        flags.add("promesa_sin_autoridad")
        evidence.append(f"Promete lo que no depende de él: {_q(promises[0][1])}")
    repeats = [r for r in facts.replies if r.repeated]
    if repeats:
        flags.add("respuestas_repetidas")
        evidence.append(f"Repite la misma respuesta: {_q(repeats[0].text)}")
    return level, evidence


def _handed_off(facts) -> str | None:
    """The escalating reply's quote when the case needs an escalation, it went to the right team and level, and that reply
    tells the customer when there will be news."""
    if not (facts.expected_escalation or {}).get("required") or not _escalation_ok(facts):
        return None
    return next((r.moves["escalar"] for r in facts.replies if "escalar" in r.moves and T.find(r.reply, "#when")), None)


CLOSING_PARTS = {
    "resumen": ("resum*", "en resumen", "queda|quedamos|acordado|entonces|recapitul*", "asi queda"),
    "seguimiento": ("#when",),  # and the agent's own contact (OWN_CONTACT)
    "agradecimiento": ("gracias|agradecer|agradezco|agradecemos",),
    "disponibilidad": ("cualquier|disposicion|escribenos|llamanos|escribeme|llamame", "aqui estamos|estoy", "estamos|estoy en",
                       "si necesitas|necesita|necesitais", "no dudes|dude", "para lo que necesites|necesite", "volver a contactar|escribir|llamar"),
    "despedida": ("que tengas|tenga|pases|pase ... dia|tarde|noche|semana|fin", "hasta pronto|luego", "un saludo", "saludos|atentamente|cordialmente",
                  "buen|buena|feliz dia|tarde|noche|semana|fin"),
}


def _closing_window(facts) -> list:
    """The replies (or, in an e-mail, the paragraphs) the closing is in: the last reply, and the one before when the last is
    only a line (a chat often closes over its last two messages)."""
    if facts.mode == "email":
        paragraphs = [p for p in facts.replies[-1].text.split("\n\n") if p.strip()]
        return [T.understand("\n\n".join(paragraphs[-4:]))]
    last = facts.replies[-1]
    window = [last.reply]
    if len(last.reply.words()) < 25 and len(facts.replies) >= 2:
        window.insert(0, facts.replies[-2].reply)
    return window


def closing(facts, flags):
    """The rubrics' closing: summary, follow-up (only when something is pending or escalated), thanks, availability and a
    warm farewell; all that apply 4, one missing 3, two 2, three or more 1, none 0."""
    window = _closing_window(facts)
    pending = bool(facts.decision) or bool((facts.expected_escalation or {}).get("required")) or any(n["id"] not in facts.met for n in facts.needs)
    present, missing = [], []
    for part, patterns in CLOSING_PARTS.items():
        if part == "seguimiento" and not pending:
            continue
        patterns = patterns + OWN_CONTACT if part == "seguimiento" else patterns
        (present if any(T.find(reply, p) for reply in window for p in patterns) else missing).append(part)
    if not present:
        return 0, ["Sin cierre"]
    level = {0: 4, 1: 3, 2: 2}.get(len(missing), 1)
    return level, [f"Cierre con: {', '.join(present)}"] + ([f"Falta: {', '.join(missing)}"] if missing else [])


def timing(facts, flags):
    seconds = [r.seconds for r in facts.replies if r.seconds is not None]
    if not seconds or not facts.standard:
        return None, []
    late = [s for s in seconds if s > facts.standard]
    if late:
        flags.add("respuestas_fuera_de_tiempo")
    if facts.unanswered or seconds[0] >= 2 * facts.standard:
        return 0, [f"Primera respuesta a los {seconds[0]:g} s (estándar {facts.standard:g} s)"]
    if seconds[0] > facts.standard:
        return 1, [f"Primera respuesta a los {seconds[0]:g} s"]
    level = 4 if not late else 3 if len(late) == 1 else 2
    return level, [f"{len(seconds) - len(late)} de {len(seconds)} respuestas dentro de {facts.standard:g} s"]



#: the hand-off note asks the receiving team for something by a time («se pide la decisión antes de las 12:30»)
TEAM_TIMELINE = "pido|pide|pedir|solicito|solicita|solicitar|respuesta|decision|confirmar|confirmacion|espero|necesito|diagnostico"


def _team_timeline(facts) -> bool:
    """With a hand-off, the follow-up date is «coherente con el cronograma acordado con el equipo que lo recibe» only when
    the note sets that timeline with the team (a request with its time); without a hand-off there is no team to agree with."""
    decision = facts.decision
    if not decision or decision.get("from") == "form" or not (facts.expected_escalation or {}).get("required"):
        return True
    note = T.understand(decision.get("note") or "")
    return any(T.find(note, "#when", sentence=i) and T.find(note, TEAM_TIMELINE, sentence=i) for i in range(len(note.sentences)))


def followup(facts, flags):
    """Follow-up (the rubrics' «seguimiento»): 0 none, or a case declared solved that is not; 1 a follow-up without a date;
    2 a date without the agent saying he will make the contact himself; 3 the agent's own contact with its date; 4 that,
    recorded (or handed off with a note) and through a stated channel."""
    false_done = _false_resolution(facts)
    if false_done:
        return 0, [f"Da el caso por terminado: {_q(false_done)}"]
    own_dated = own = dated = generic = None
    for r in facts.replies:
        for sentence in range(len(r.reply.sentences)):
            timed = T.find(r.reply, "#when", sentence=sentence) is not None
            mine = next((m for m in (T.find(r.reply, p, sentence=sentence) for p in OWN_CONTACT) if m), None)
            if mine:
                quote = mine.quote(r.reply)
                own_dated = own_dated or (quote if timed else None)
                own = own or quote
            elif T.find(r.reply, ANY_CONTACT, sentence=sentence) and sentence not in r.reply.questions:
                quote = T.sentence_text(r.reply, sentence)
                dated = dated or (quote if timed else None)
                generic = generic or quote
    recorded = any(T.find(r.reply, p) for r in facts.replies for p in RECORDED) or bool(facts.decision)
    channel = any(T.find(r.reply, CHANNEL) for r in facts.replies)
    if own_dated:
        level = 4 if recorded and channel and _team_timeline(facts) else 3
        return level, [f"Seguimiento propio con fecha: {_q(own_dated)}"] + (["Registrado, con canal"] if level == 4 else [])
    if dated:
        return 2, [f"Fecha de contacto sin decir que lo hará él: {_q(dated)}"]
    if own or generic:
        return 1, [f"Seguimiento sin fecha: {_q(own or generic)}"]
    return 0, ["No programa seguimiento"]


def correctness(facts, flags):
    level, evidence = solution(facts, flags)
    return level, evidence


def _mean(*aspects):
    def aspect(facts, flags):
        values, evidence = [], []
        for fn in aspects:
            level, ev = fn(facts, flags)
            if level is not None:
                values.append(level)
                evidence += ev
        return (round(sum(values) / len(values)) if values else None), evidence
    return aspect


