"""Rubric criteria graded from the engine's facts (see :mod:`lms.roleplays.precheck`): levels 0-4 with evidence, critical
faults flagged and capped, and the band (house banding, roleplays/README.md «Pre-check»)."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from lms.roleplays.engine import text as T

#: house banding of a score (percentage of level 4): the lowest score of each band — the same cuts as the grade's bands
#: (roleplays/calibration/README.md «Score and banding»: deficiente < 50, regular 50–75, bueno 75–90, excelente ≥ 90)
BANDS = (("excelente", 90), ("bueno", 75), ("regular", 50), ("deficiente", 0))
#: the highest score of the two failing bands
DEFICIENT_TOP, REGULAR_TOP = 49, 74
#: critical faults and the highest score they leave (the top of the band they put the role-play in)
FAULT_CAPS = {"incumplimiento": DEFICIENT_TOP, "problema_sin_resolver": DEFICIENT_TOP, "nivel_de_escalamiento_distinto": REGULAR_TOP,
              "destino_de_escalamiento_distinto": REGULAR_TOP, "promesa_sin_autoridad": REGULAR_TOP, "escalo_sin_necesidad": REGULAR_TOP,
              "venta_a_cliente_molesto": REGULAR_TOP, "respuestas_repetidas": REGULAR_TOP, "resuelto_sin_autoridad": REGULAR_TOP,
              "resuelto_en_falso": REGULAR_TOP}
#: the criteria that grade a fault: when the rubric has one of them as a critical criterion, that criterion failing makes
#: the band deficiente «sea cual sea la nota», so the fault does not cap the score as well (it stays the weighted mean)
FAULT_CRITERIA = {"incumplimiento": ("guion-aprobado", "confidencialidad", "cumplimiento")}
CRITICAL_FLAGS = ("incumplimiento", "nivel_de_escalamiento_distinto", "destino_de_escalamiento_distinto", "promesa_sin_autoridad",
                  "problema_sin_resolver")


@lru_cache(maxsize=4)
def _library(root: str) -> dict:
    from lms.content.registry import Problems
    from lms.roleplays.engine.model import load_library

    problems = Problems()
    library = load_library(Path(root), problems, None)
    if library is None:
        raise RuntimeError("roleplays/moves.yaml is missing or invalid: run flask --app lms content check")
    return library


def library() -> dict:
    """The move library of the content root (the project's own when that root has none, e.g. a test tree)."""
    from lms.roleplays.engine.model import LIBRARY_FILE

    try:
        from flask import current_app

        root = Path(current_app.config["CONTENT_ROOT"])
    except (RuntimeError, KeyError):
        root = None
    if root is None or not (root / LIBRARY_FILE).exists():
        root = Path(__file__).resolve().parents[2]
    return _library(str(root))


def band_of(score: float) -> str:
    return next(name for name, low in BANDS if score >= low)


def general_rubric(t) -> dict:
    """The handbook's standards as a rubric, for transcripts of no scenario (critical: solution, escalation, compliance)."""
    context = T.fold(" ".join([t.context or "", *t.objectives]))
    compliance = any(word in context for word in ("dato", "titular", "identidad", "grabacion", "guion", "cumplimiento", "confidencial",
                                                   "seguridad", "privacidad", "regulad", "financier"))
    criteria = [
        {"id": "saludo", "title": "Saludo e identificación", "weight": 1},
        {"id": "escucha", "title": "Escucha activa", "weight": 1},
        {"id": "empatia", "title": "Empatía", "weight": 1},
        {"id": "claridad", "title": "Claridad", "weight": 1},
        {"id": "solucion", "title": "Solución con pasos concretos", "weight": 2, "critical": True, "pass_level": 2},  # nosec B105  # a rubric level
        {"id": "escalamiento", "title": "Escalamiento", "weight": 1, "critical": True, "pass_level": 2},  # nosec B105  # a rubric level
        {"id": "cierre", "title": "Cierre", "weight": 1},
        {"id": "tiempos", "title": "Tiempos de respuesta", "weight": 1},
    ]
    if compliance:
        criteria.append({"id": "cumplimiento", "title": "Cumplimiento", "weight": 2, "critical": True, "pass_level": 2})  # nosec B105  # a rubric level
    return {"title": "Estándares del manual", "criteria": criteria}


# Aspects: each (facts) → (level or None, evidence) -------------------------------------------------------------------

def _q(text: str) -> str:
    text = " ".join(text.split())
    return f"«{text[:160]}{'…' if len(text) > 160 else ''}»"


def _made(facts, move_id: str) -> list[tuple[int, str]]:
    return [(r.index, r.moves[move_id]) for r in facts.replies if move_id in r.moves]


def _progress(facts) -> bool:
    return bool(facts.met) or _escalation_ok(facts)


def _escalation_ok(facts) -> bool:
    expected, decision = facts.expected_escalation or {}, facts.decision
    if not expected.get("required") or not decision:
        return False
    return _team_ok(decision, expected) and _level_ok(decision, expected)


def _team_ok(decision: dict, expected: dict) -> bool:
    wanted = set(expected.get("teams") or [])
    return not decision["teams"] or not wanted or bool(set(decision["teams"]) & wanted)


def _level_ok(decision: dict, expected: dict) -> bool:
    """The level is right when it is the expected one, or unsaid, or when the hand-off goes to the expected team: the team
    is where the case lands (its level follows), and a «nivel N» beside it often names the criterion met or the level the
    case is at («más de 24 horas sin resolución en nivel 1»), not where it goes."""
    wanted = set(expected.get("teams") or [])
    if decision["level"] is None or not expected.get("level") or decision["level"] == expected["level"]:
        return True
    # only read from the replies' words: the hand-off form's level is the agent's own explicit decision
    return decision.get("from") == "text" and bool(wanted and set(decision["teams"]) & wanted)


def _false_resolution(facts) -> str | None:
    """The quote where the agent declares solved (or closes) a case that is not: a need of the customer still unmet, or
    the escalation the case needs not made (the team that can solve it was never asked)."""
    done = _made(facts, "declarar-resuelto")
    if not done:
        return None
    unmet = any(n["id"] not in facts.met for n in facts.needs)
    return done[0][1] if unmet or _solved_without_authority(facts) or _escalation_missing(facts) else None


def _escalation_missing(facts) -> bool:
    return bool((facts.expected_escalation or {}).get("required")) and not facts.decision


def _solved_without_authority(facts) -> bool:
    """The case needs a team with the authority (a refund, an unlock, a compensation: the scenario's escalation), the agent
    never escalates, and yet tells the customer their main need is met: he claims what only that team can do."""
    if not _escalation_missing(facts):
        return False
    main = [n for n in facts.needs if n.get("main")] or facts.needs[:1]
    return any(n["id"] in facts.met for n in main)


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


#: acronyms a customer is expected to know (documents, formats, the channel)
KNOWN_ACRONYMS = frozenset({"TI", "DNI", "NIE", "NIF", "CIF", "IBAN", "IVA", "PDF", "SMS", "DM", "OK", "CP", "UE", "EUR", "USD", "FAQ", "PIN",
                            "SL", "SA", "ID", "WIFI", "TV", "AM", "PM"})
_ACRONYM = re.compile(r"(?<![\w-])([A-ZÁÉÍÓÚÑ]{2,5})(?![\w-])")


def unexplained_acronyms(facts) -> list[str]:
    """Internal acronyms the agent writes and the customer never used, not explained in brackets (right after it, or
    the acronym itself in brackets after its meaning)."""
    customer = facts.customer_text or facts.opening
    out = []
    for r in facts.replies:
        for m in _ACRONYM.finditer(r.text):
            word = m.group(1)
            explained = r.text[m.end():m.end() + 3].lstrip().startswith("(") or r.text[max(0, m.start() - 1):m.start()] == "("
            if word in KNOWN_ACRONYMS or word in customer or explained or word in out:
                continue
            out.append(word)
    return out


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
    jargon, vague = _made(facts, "jerga"), _made(facts, "anuncio-sin-sustancia")
    evidence = [f"Jerga sin explicar: {_q(q)}" for _i, q in jargon[:2]] + [f"Anuncia sin concretar: {_q(q)}" for _i, q in vague[:2]]
    concrete = _made(facts, "siguiente-paso") or _made(facts, "pasos-claros")
    if len(jargon) >= 2:
        level = 0
    elif jargon:
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
    promises = [(i, q) for i, q in _made(facts, "prometer-sin-autoridad") + _made(facts, "no-volvera-a-pasar")]
    if promises:
        level = min(level, 1)
        flags.add("promesa_sin_autoridad")
        evidence.append(f"Promete lo que no depende de él: {_q(promises[0][1])}")
    repeats = [r for r in facts.replies if r.repeated]
    if repeats:
        flags.add("respuestas_repetidas")
        evidence.append(f"Repite la misma respuesta: {_q(repeats[0].text)}")
    return level, evidence


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


def escalation(facts, flags):
    expected, decision = facts.expected_escalation, facts.decision
    if expected is None:
        return None, []
    if expected.get("required"):
        if not decision:
            flags.add("no_escalo")
            return 0, [f"No escala: correspondía nivel {expected.get('level')} → {expected.get('destination')}"]
        if not _level_ok(decision, expected):
            flags.add("nivel_de_escalamiento_distinto")
            return 1, [f"Escala a nivel {decision['level']}; correspondía nivel {expected['level']}"]
        if not _team_ok(decision, expected):
            flags.add("destino_de_escalamiento_distinto")
            return 1, [f"Escala a {', '.join(decision['teams'])}; correspondía {expected.get('destination')}"]
        filled = sum(decision["handoff"].values())
        if filled < 4:
            flags.add("nota_de_traspaso_incompleta")
        missing = [k for k, v in decision["handoff"].items() if not v]
        return (4 if filled == 4 else 3 if filled >= 2 else 2), [f"Escala a {expected.get('destination')}" +
                                                                  (f"; falta en el traspaso: {', '.join(missing)}" if missing else "")]
    if decision:
        flags.add("escalo_sin_necesidad")
        return 1, ["Escala un caso que podía resolver"]
    return 4, ["No escala, y no hacía falta"]


#: the handbook's escalation criteria (by time, by complexity, by impact, by authority), as a reply names them
ESCALATION_CRITERIA = {
    "tiempo": ("#num horas|dias|semanas ... sin resolver|resolucion|solucion|respuesta", "plazo ... vencido|vencio|incumplido|pasado",
               "lleva|llevan ... horas|dias|semanas"),
    "complejidad": ("tecnic*|legal|financier*|negocio|estrategic*|compensacion|compensaciones",),
    "autoridad": ("no estoy|esta|estamos autorizado|autorizada|autorizados", "autoridad", "no puedo ... decidir|aprobar|asignar|desbloquear|emitir"),
    "impacto": ("impacto", "prioridad|severidad ... alta|critica|media|baja|urgente"),
}


def _criteria_named(facts, replies=None) -> list[str]:
    texts = replies if replies is not None else facts.replies
    return [name for name, patterns in ESCALATION_CRITERIA.items() if any(T.find(r.reply, p) for r in texts for p in patterns)]


def escalation_need(facts, flags):
    """The escalation rubric's «necesidad y criterio»: 0 no escalation of a case that needs it (or escalating a case the
    agent could solve); 1 escalating after promising what the agent cannot keep; 2 a generic reason; 3 a criterion of the
    handbook named; 4 several criteria and the impact (or priority)."""
    expected, decision = facts.expected_escalation, facts.decision
    if expected is None:
        return None, []
    if not expected.get("required"):
        if decision:
            flags.add("escalo_sin_necesidad")
            return 0, ["Escala un caso que podía resolver"]
        return 4, ["No escala, y no hacía falta"]
    if not decision:
        flags.add("no_escalo")
        return 0, [f"No escala: correspondía nivel {expected.get('level')} → {expected.get('destination')}"]
    escalated_at = min((r.index for r in facts.replies if "escalar" in r.moves), default=len(facts.replies))
    promised = [(i, q) for i, q in _made(facts, "prometer-sin-autoridad") if i <= escalated_at]
    if promised:
        return 1, [f"Escala después de prometer lo que no puede cumplir: {_q(promised[0][1])}"]
    named = _criteria_named(facts)
    if not named:
        return 2, ["Escala sin nombrar ningún criterio del manual"]
    level = 4 if len(named) >= 2 and "impacto" in named else 3
    return level, [f"Nombra criterios: {', '.join(named)}"]


def handoff(facts, flags):
    """The hand-off note's five elements (reason and criterion, full context, priority, what is asked, timeline): all five
    4, one missing 3, two missing 2, three or more missing 1, no note 0."""
    decision = facts.decision
    if not decision:
        return (0, ["Sin nota de traspaso"]) if (facts.expected_escalation or {}).get("required") else (None, [])
    elements = dict(decision["handoff"])
    note = T.understand(decision.get("note") or "")
    elements["criterion"] = any(T.find(note, p) for patterns in ESCALATION_CRITERIA.values() for p in patterns) if decision.get("from") != "form" else True
    names = {"criterion": "motivo y criterio", "context": "contexto", "priority": "prioridad", "expectations": "qué se pide", "timeline": "plazo"}
    missing = [k for k, v in elements.items() if not v]
    level = {0: 4, 1: 3, 2: 2}.get(len(missing), 1)
    return level, [f"La nota incluye: {', '.join(names[k] for k, v in elements.items() if v) or 'nada'}"] + (
        [f"Falta: {', '.join(names[k] for k in missing)}"] if missing else [])


def informed(facts, flags):
    """The escalation rubric's «cliente informado»: 0 not told, or promised a result or date that does not depend on the
    agent; 1 told it is escalated; 2 to whom (and why); 3 and when there will be news; 4 and the channel agreed."""
    replies = [r for r in facts.replies if "escalar" in r.moves]
    if not replies:
        return (0, ["No dice al cliente qué pasará con su caso"]) if (facts.expected_escalation or {}).get("required") else solution(facts, flags)
    promised = _made(facts, "prometer-sin-autoridad")
    if promised:
        return 0, [f"Promete un resultado que no depende de él: {_q(promised[0][1])}"]
    timed = [r for r in replies if T.find(r.reply, "#when")]
    if not facts.decision or not facts.decision["teams"]:
        return 1, [f"Dice que se escala, sin decir a quién: {_q(replies[0].moves['escalar'])}"]
    if timed:
        channel = any(T.find(r.reply, CHANNEL) for r in facts.replies)
        return (4 if channel else 3), [f"Informa del traspaso y del plazo: {_q(timed[0].moves['escalar'])}"]
    return 2, [f"Informa del traspaso sin plazo: {_q(replies[0].moves['escalar'])}"]


def five_elements(facts, flags):
    """The escalation rubric's «comunicación»: greeting with name and company, the emotion recognised before explaining,
    plain language, thanks, a warm farewell; 0 when defensive or ignoring the emotion of an upset customer."""
    defensive = _made(facts, "defensivo")
    if defensive:
        return 0, [f"Tono defensivo: {_q(defensive[0][1])}"]
    upset = facts.customer_type in ("frustrado", "exigente")
    if upset and not _made(facts, "reconocer-emocion"):
        return 0, ["Ignora la emoción del cliente"]
    first, last = facts.replies[0], facts.replies[-1]
    present = {
        "saludo con nombre y empresa": "saludo" in first.moves and "identificarse" in first.moves,
        "reconoce la emoción": any("reconocer-emocion" in r.moves for r in facts.replies[:2]),
        "lenguaje simple": not _made(facts, "jerga") and len(unexplained_acronyms(facts)) < 2,
        "agradece": any(T.find(r.reply, "gracias|agradecer|agradezco") for r in facts.replies),
        "despedida cálida": "cierre" in last.moves,
    }
    missing = [k for k, v in present.items() if not v]
    level = {0: 4, 1: 3, 2: 2}.get(len(missing), 1)
    return level, ([f"Falta: {', '.join(missing)}"] if missing else ["Están los cinco elementos"])


#: the agent himself contacting the customer later («te escribo», «la llamo yo», «me pongo en contacto»)
OWN_CONTACT = ("te|le|la|lo|os =escribo|=llamo|=aviso|=contacto|=escribire|=llamare|=avisare|=contactare|=confirmo|=confirmare|=informo|=informare",
               "me pongo|pondre en contacto", "=escribo|=llamo|=aviso yo", "yo mismo|misma ... llamar|escribir|avisar|contactar")
#: anyone contacting the customer later («te avisaremos», «Logística la llamará»)
ANY_CONTACT = "avisar|llamar|escribir|contactar|informar|confirmar|responder"
RECORDED = ("registr*|anot*|document*|apunt*", "nota de", "queda constancia")
CHANNEL = "email|correo|telefono|numero|mensaje|llamada|sms|chat|whatsapp|privado|directo"


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
        level = 4 if recorded and channel else 3
        return level, [f"Seguimiento propio con fecha: {_q(own_dated)}"] + (["Registrado, con canal"] if level == 4 else [])
    if dated:
        return 2, [f"Fecha de contacto sin decir que lo hará él: {_q(dated)}"]
    if own or generic:
        return 1, [f"Seguimiento sin fecha: {_q(own or generic)}"]
    return 0, ["No programa seguimiento"]


def complaint_steps(facts, flags):
    steps = [("reconocer-emocion", "Reconoce"), ("explicar-causa", "Explica"), ("siguiente-paso", "Resuelve")]
    evidence, count = [], 0
    for move_id, label in steps:
        made = _made(facts, move_id)
        if made:
            count += 1
            evidence.append(f"{label}: {_q(made[0][1])}")
    if any(T.find(r.reply, "lament*|sentir mucho|disculp*|perdon") for r in facts.replies):
        count += 1
        evidence.append("Se disculpa")
    non_main = [m for m in facts.met.values() if not m.get("main")]
    if len(non_main) >= 2 or (non_main and count >= 4):
        count += 1
        evidence.append("Previene o responde más allá de lo principal")
    if _made(facts, "no-volvera-a-pasar"):
        count -= 1
        evidence.append("Promete que no volverá a pasar sin acción que lo garantice")
    level = max(0, min(4, count - 1 if count >= 2 else count))
    return level, evidence


def reception(facts, flags):
    early = facts.replies[:2]
    parts, evidence = 0, []
    if any("reconocer-emocion" in r.moves for r in early):
        parts += 1
        evidence.append("Reconoce la frustración al recibir la queja")
    if any(T.find(r.reply, "gracias|agradecer|agradezco") for r in early):
        parts += 1
        evidence.append("Agradece el aviso")
    if any(r.asked or "parafrasear" in r.moves or "pedir-dato" in r.moves for r in early):
        parts += 1
        evidence.append("Confirma los detalles")
    return {3: 4, 2: 3, 1: 2}.get(parts, 0), evidence


#: the agent checks the scope of a fault: other charges, orders or contacts affected
SCOPE = ("alcance", "afectad*", "otro|otros|otra|otras|mas|ningun|ninguna|resto ... cobro*|cargo*|pedido*|contacto*|cuenta*|cliente*|factura*")
#: the agent tells what he reviewed («he revisado», «veo en tu cuenta»)
REVIEWED = ("he|hemos revisado|mirado|comprobado|consultado|verificado", "lo he|hemos mirado|revisado|comprobado", "veo en|que", "revisando")


def investigation(facts, flags):
    """The complaint rubric's «investigación»: 0 a standard answer without reviewing anything; 1 reviews without finding the
    cause; 2 the cause, without checking its scope (or without the team it needs); 3 cause and scope, with the team when
    needed; 4 that, telling the customer what was reviewed and found."""
    cause = _made(facts, "explicar-causa")
    used = _record_used(facts)
    reviewed = [r for r in facts.replies if any(T.find(r.reply, p) for p in REVIEWED)]
    evidence = []
    if used:
        evidence.append(f"Usa la ficha: {', '.join(sorted(used)[:3])}")
    if not cause:
        return (1 if used or reviewed else 0), evidence + ["No identifica la causa"]
    evidence.append(f"Identifica la causa: {_q(cause[0][1])}")
    scope = any(T.find(r.reply, p) for r in facts.replies for p in SCOPE)
    if not scope or _escalation_missing(facts):
        return 2, evidence + (["No comprueba el alcance"] if not scope else ["No consulta al equipo que corresponde"])
    evidence.append("Comprueba el alcance")
    return (4 if reviewed else 3), evidence + (["Cuenta qué revisó y qué encontró"] if reviewed else [])


def _record_used(facts) -> set[str]:
    said = set()
    for r in facts.replies:
        said |= {tok.surface for tok in r.reply.tokens if tok.kind == "num"}
    return said & facts.record_values


def record_use(facts, flags):
    used = _record_used(facts)
    known = [r for r in facts.replies if r.asked_known]
    if known:
        return 1, [f"Pide un dato que ya está en la ficha: {_q(known[0].text)}"]
    if len(used) >= 2:
        return 4, [f"Usa datos de la ficha: {', '.join(sorted(used)[:4])}"]
    if used:
        return 3, [f"Usa un dato de la ficha: {next(iter(used))}"]
    return 2, ["No usa los datos de la ficha"]


def calm(facts, flags):
    if _made(facts, "defensivo"):
        return 0, [f"Responde a la defensiva: {_q(_made(facts, 'defensivo')[0][1])}"]
    if any(r.repeated for r in facts.replies):
        return 2, ["Repite respuestas"]
    return (4, ["Mantiene la calma y se centra en resolver"]) if _made(facts, "reconocer-emocion") and _progress(facts) else (3, [])


def public_reply(facts, flags):
    first = facts.replies[0]
    parts, evidence = 0, []
    if "reconocer-emocion" in first.moves:
        parts += 1
        evidence.append(f"Reconoce en público: {_q(first.moves['reconocer-emocion'])}")
    if "pasar-a-privado" in first.moves:
        parts += 1
        evidence.append("Invita al canal privado")
    if any(r.index == 0 for r, _move in _breaches(facts)):
        flags.add("incumplimiento")
        return 0, [f"Muestra datos en la respuesta pública: {_q(first.moves.get(DISCLOSURE_MOVE, first.text))}"]
    if "revelar-datos" not in first.moves and not (first.asked and "pasar-a-privado" not in first.moves):
        parts += 1
    else:
        evidence.append("Pide o muestra datos en público")
    if len(first.text) <= 400:
        parts += 1
    return parts, evidence


def private(facts, flags):
    moved = _made(facts, "pasar-a-privado")
    if not moved:
        return 0, ["No pasa la conversación a un canal privado"]
    return (4 if moved[0][0] == 0 else 3), [f"Pasa a privado: {_q(moved[0][1])}"]


_SUBJECT_PREFIX = re.compile(r"^\s*((re|rv|fw|fwd)\s*:\s*)+", re.IGNORECASE)


def subject(facts, flags):
    """The e-mail subject: 1 generic (only «RE:» on the customer's), 2 the area, 3 the customer's concrete topic, 4 that
    with the case number or the state; a state «resuelto» that is not true is at most 2."""
    text = facts.replies[0].text if facts.replies else ""
    line = next((line for line in text.splitlines() if T.fold(line).strip(" *_#>").startswith("asunto")), "")
    if not line:
        return 0, ["Sin asunto"]
    own = _SUBJECT_PREFIX.sub("", line.split(":", 1)[1] if ":" in line else "").strip()
    theirs = next((x for x in facts.opening.splitlines() if T.fold(x).strip().startswith("asunto")), "")
    theirs = _SUBJECT_PREFIX.sub("", theirs.split(":", 1)[1] if ":" in theirs else "").strip()
    if not own or (theirs and T.fold(own) == T.fold(theirs) and _SUBJECT_PREFIX.match(line.split(":", 1)[1].strip() if ":" in line else "")):
        return 1, [f"Asunto genérico (solo «RE:» sobre el del cliente): {_q(line)}"]
    reply = T.understand(own)
    topic = {m for n in facts.needs for m in T.understand_cached(n["title"]).content_lemmas()} | (
        T.understand_cached(facts.opening).content_lemmas() - {"asunto"})
    hits = reply.content_lemmas() & topic
    extra = any(tok.kind == "num" for tok in reply.tokens) or T.find(reply, "resuelto|solucion|pasos|caso|confirmacion|confirmada") is not None
    level = 4 if hits and extra else 3 if hits else 2 if len(reply.content_lemmas()) >= 3 else 1
    if level > 2 and _false_resolution(facts) and T.find(reply, "resuelto|resuelta|solucionado|solucionada"):
        return 2, [f"El asunto da por resuelto lo que no lo está: {_q(line)}"]
    return level, [f"Asunto: {_q(line)}"]


def body(facts, flags):
    level, evidence = solution(facts, flags)
    clear, _e = clarity(facts, flags)
    return min(level, clear + 1), evidence


def action(facts, flags):
    """The e-mail rubric's «acción con pasos específicos»: 0 no step nor what happens next; 1 vague steps; 2 concrete steps
    without saying who does each; 3 concrete steps saying who does them; 4 that, numbered, with a way to check it worked or
    a date for what depends on the company."""
    text = "\n".join(r.text for r in facts.replies)
    numbered = sum(1 for line in text.splitlines() if line.strip()[:3].rstrip(".)- ").isdigit())
    dated = _made(facts, "siguiente-paso")
    ordered = numbered >= 2 or bool(_made(facts, "pasos-claros"))
    concrete = ordered or bool(dated) or bool(_made(facts, "escalar"))
    if not concrete:
        vague = _made(facts, "anuncio-sin-sustancia")
        if vague or any(T.find(r.reply, "revis*|comprob*|mir*|verific*") for r in facts.replies):
            return 1, [f"Pasos vagos: {_q(vague[0][1]) if vague else 'sin concretar'}"]
        return 0, ["No dice ningún paso ni qué pasará después"]
    evidence = [f"Paso con plazo: {_q(dated[0][1])}"] if dated else []
    if ordered:
        evidence.append("Pasos ordenados")
    who = bool(_made(facts, "escalar")) or any(T.find(r.reply, p) for r in facts.replies for p in _WHO)
    if not who:
        return 2, evidence + ["No dice quién hace cada paso"]
    check = bool(dated) or any(T.find(r.reply, "comprob*|compruebe|verific*|prueba|sabra|sabras|vera|veras|confirmar*") for r in facts.replies)
    if numbered >= 2 and check:
        return 4, evidence + ["Numerados, con cómo comprobarlo o cuándo sabrá el resultado"]
    return 3, evidence


#: a step says who does it: the customer, the agent or another team
_WHO = ("nosotros|equipo|yo", "usted|tu ... debe|tiene|tienes|puede|puedes", "su|tu parte", "=haga|=entre|=pulse|=abra|=marque|=desactive|=active|=revise|=compruebe|=haz|=entra|=pulsa|=abre|=marca|=desactiva|=activa")


def writing(facts, flags):
    """The e-mail rubric's writing practices that apply: short paragraphs; lists and bold when there are several data or
    steps; a link when a resource is mentioned; a signature with the team and a way to contact. All 4, one missing 3, two
    2, more 1; a block without paragraphs nor signature 0."""
    text = facts.replies[0].text if facts.replies else ""
    paragraphs = [p for p in text.split("\n\n") if p.strip() and not T.fold(p).strip().startswith("asunto")]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reply = facts.replies[0].reply
    data = sum(1 for tok in reply.tokens if tok.kind == "num") + len(reply.dates)
    listed = any(line.startswith(("-", "•", "*")) or line[:2].rstrip(".)").isdigit() for line in lines)
    tail = T.understand("\n".join(lines[-5:]))
    practices = {"párrafos cortos": len(paragraphs) >= 3 and all(len(p) <= 600 for p in paragraphs)}
    steps = sum(1 for i in range(len(reply.sentences)) if T.find(reply, _WHO[3], sentence=i))
    if data >= 3 or steps >= 2 or _made(facts, "pasos-claros"):
        practices["listas"] = listed
        practices["negrita"] = "**" in text
    if T.find(reply, "guia|manual|articulo|tutorial|enlace|pagina|web|video|kb"):
        practices["enlace"] = "http" in text or "www." in text
    practices["firma"] = bool(T.find(tail, "equipo|soporte|atencion|departamento|servicio|area")) and bool(
        T.find(tail, "telefono|correo|email|responder|respondiendo|extension") or "@" in "\n".join(lines[-5:])
        or any(tok.kind == "num" and len(tok.surface.replace(" ", "")) >= 6 for tok in tail.tokens))
    missing = [k for k, v in practices.items() if not v]
    if not practices["párrafos cortos"] and not practices["firma"] and len(paragraphs) <= 1:
        return 0, ["Un bloque de texto sin firma"]
    level = {0: 4, 1: 3, 2: 2}.get(len(missing), 1)
    return level, [f"Aplica: {', '.join(k for k, v in practices.items() if v) or 'ninguna'}"] + ([f"Falta: {', '.join(missing)}"] if missing else [])


#: the library's move for disclosing account or order data (its fault depends on who can read the reply, see _breaches)
DISCLOSURE_MOVE = "revelar-datos"


def _breaches(facts, criterion: str | None = None, any_disclosure: bool = False) -> list[tuple]:
    """(reply, move id) of each compliance fault made: a move with ``fault: cumplimiento`` (of ``criterion`` when the move
    names one). Disclosing data is a fault where someone other than the holder may read it: in a social conversation only
    the public reply (the private messages are with the holder); elsewhere only when the scenario's model lists the move
    (a third party asks, or the caller is not verified yet) or, with ``any_disclosure``, when the transcript's own context
    calls for compliance (the general rubric's criterion); not when the agent confirms the customer's own data to them."""
    out = []
    for move_id in _fault_moves(facts, "cumplimiento"):
        named = (facts.moves_library.get(move_id) or {}).get("criterion")
        if criterion is not None and named and named != criterion:
            continue
        for r in facts.replies:
            if move_id not in r.moves:
                continue
            if move_id == DISCLOSURE_MOVE and (r.index != 0 if facts.mode == "social" else
                                               not any_disclosure and move_id not in facts.scenario_moves):
                continue
            out.append((r, move_id))
    return sorted(out, key=lambda pair: pair[0].index)


def _compliance(criterion: str | None, breach_level: int = 0, any_disclosure: bool = False):
    """A compliance criterion: 4 without a breach; ``breach_level`` with one (0 for data given to whom may not have it; a
    script criterion whose steps are all there but one's meaning changed — «ofrece dejar de grabar» — is a 1)."""
    def aspect(facts, flags):
        breach = _breaches(facts, criterion, any_disclosure)
        if breach:
            flags.add("incumplimiento")
            reply, move = breach[0]
            return breach_level, [f"Incumple: {_q(reply.moves[move])}"]
        return 4, ["Sin datos revelados a terceros"]
    return aspect


confidentiality = _compliance(None)


def _fault_moves(facts, fault: str) -> list[str]:
    return [move_id for move_id, move in facts.moves_library.items() if move.get("fault") == fault]


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


ASPECTS = {
    "saludo": greeting, "escucha-activa": listening, "escucha": listening, "empatia": empathy, "tono-y-empatia": empathy,
    "servicio-y-empatia": empathy, "claridad": clarity, "solucion": solution, "resolucion": solution,
    "informacion-correcta": correctness, "cierre": closing, "tiempos": timing, "tiempo": timing, "atencion": timing,
    "escalamiento": escalation, "nivel-y-destino": escalation, "necesidad-y-criterio": escalation_need,
    "nota-de-transferencia": handoff, "cliente-informado": informed, "seguimiento": followup,
    "comunicacion": five_elements, "comunicacion-efectiva": complaint_steps, "recepcion": reception,
    "investigacion": investigation, "calma": calm, "respuesta-publica": public_reply, "paso-a-privado": private,
    "asunto": subject, "cuerpo": body, "accion": action, "buenas-practicas": writing, "uso-de-la-ficha": record_use,
    "guion-aprobado": _compliance("guion-aprobado", 1), "confidencialidad": _compliance("confidencialidad"), "cumplimiento": _compliance(None, 0, True),
    "atencion-y-cierre": _mean(greeting, closing),
}
#: stock-phrase criteria: without progress on the customer's problem they earn at most 1
STOCK = ("saludo", "empatia", "tono-y-empatia", "servicio-y-empatia", "cierre", "escucha-activa", "escucha", "recepcion",
         "atencion-y-cierre", "comunicacion", "comunicacion-efectiva", "calma", "respuesta-publica")


def grade(facts, rubric: dict):
    from lms.roleplays.precheck import Result

    facts.moves_library = facts.moves_library if hasattr(facts, "moves_library") else library()["moves"]
    criteria, evidence, titles, flags = {}, {}, {}, set()
    if not facts.replies:
        for c in rubric["criteria"]:
            criteria[c["id"]], evidence[c["id"]], titles[c["id"]] = 0, ["Sin respuestas: el mensaje del cliente se quedó sin contestar"], c["title"]
        return Result(0, criteria, ["sin_respuestas"], "deficiente", evidence, titles, [], _missed(facts))
    progress = _progress(facts)
    ids = {c["id"] for c in rubric["criteria"]}
    # critical faults are flagged whatever the rubric grades: the escalation decision, promises, compliance
    for aspect, names in ((escalation, ("escalamiento", "nivel-y-destino", "necesidad-y-criterio")), (solution, ("solucion", "resolucion")),
                          (confidentiality, ("confidencialidad", "cumplimiento", "guion-aprobado")),
                          (empathy, ("empatia", "tono-y-empatia", "servicio-y-empatia"))):
        if not ids & set(names):
            aspect(facts, flags)
    for c in rubric["criteria"]:
        fn = ASPECTS.get(c["id"]) or _mean(solution, clarity, empathy)
        level, ev = fn(facts, flags)
        if level is not None and c["id"] in STOCK and not progress:
            level = min(level, 1)
            ev = ev + ["No cuenta: ninguna respuesta hace avanzar el problema del cliente"]
        for move_id in facts.scenario_moves:
            move = facts.moves_library.get(move_id) or {}
            if move.get("criterion") != c["id"] or level is None:
                continue
            made = _made(facts, move_id)
            if move["kind"] == "good" and not made:
                level = min(level, 2)
                ev = ev + [f"Falta: {move['title']}"]
            elif move["kind"] == "bad" and made:
                level = min(level, 1)
                ev = ev + [f"{move['title']}: {_q(made[0][1])}"]
            elif move["kind"] == "good" and made:
                ev = ev + [f"{move['title']}: {_q(made[0][1])}"]
        criteria[c["id"]], evidence[c["id"]], titles[c["id"]] = level, ev, c["title"]
    # critical criteria failing fail the role-play; critical faults cap the score like they do
    weights = {c["id"]: c.get("weight", 1) for c in rubric["criteria"]}
    present = {k: v for k, v in criteria.items() if v is not None}
    total = sum(weights[k] for k in present)
    score = round(100 * sum(weights[k] * v for k, v in present.items()) / (4 * total)) if total else 0
    critical_ids = {c["id"] for c in rubric["criteria"] if c.get("critical")}
    for flag in flags:
        if critical_ids & set(FAULT_CRITERIA.get(flag, ())):
            continue
        score = min(score, FAULT_CAPS.get(flag, 100))
    failed_critical = [c["id"] for c in rubric["criteria"] if c.get("critical") and criteria.get(c["id"]) is not None
                       and criteria[c["id"]] < (c.get("pass_level") or 0)]
    band = band_of(score)
    if failed_critical:
        band = "deficiente"  # the role-play fails whatever the score; the score stays the rubric's weighted mean
    met = [{"title": m["title"], "quote": m["quote"], "source": m.get("source")} for m in facts.met.values()]
    return Result(score, criteria, sorted(flags), band, evidence, titles, met, _missed(facts))


def _missed(facts) -> list[dict]:
    return [{"title": n["title"], "source": n.get("source")} for n in facts.needs if n["id"] not in facts.met]


def combine(results: list, rubric: dict | None):
    """Surge: each conversation graded apart; the lowest level per criterion (response times over all of them)."""
    from lms.roleplays.precheck import Result

    first = results[0]
    criteria, evidence = {}, {}
    for cid in first.criteria:
        levels = [r.criteria.get(cid) for r in results if r.criteria.get(cid) is not None]
        criteria[cid] = min(levels) if levels else None
        evidence[cid] = [e for r in results for e in r.evidence.get(cid, [])]
    weights = {c["id"]: c.get("weight", 1) for c in (rubric or {}).get("criteria", [])} or {cid: 1 for cid in criteria}
    present = {k: v for k, v in criteria.items() if v is not None}
    total = sum(weights.get(k, 1) for k in present)
    score = min([round(100 * sum(weights.get(k, 1) * v for k, v in present.items()) / (4 * total)) if total else 0]
                + [r.score for r in results])
    flags = sorted({f for r in results for f in r.flags})
    band = "deficiente" if any(r.band == "deficiente" for r in results) else band_of(score)
    return Result(score, criteria, flags, band, evidence, first.titles, [m for r in results for m in r.met],
                  [m for r in results for m in r.missed])
