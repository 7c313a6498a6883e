"""The escalation rubric's criteria: level and destination, need and criterion, the hand-off note, the customer informed
and the five elements of the communication (see :mod:`lms.roleplays.grading`)."""
from __future__ import annotations

from lms.roleplays.engine import text as T
from lms.roleplays.grade_conversation import solution
from lms.roleplays.grade_facts import (CHANNEL, ESCALATION_CRITERIA, _criteria_named, _level_ok, _made, _q, _team_ok, customer_part, jargon,
                                       unexplained_acronyms)

#: telling the customer why that team: the authority or the tools it has («tiene autoridad para decidir compensaciones»,
#: «tiene acceso a los logs del servidor»)
WHY_THAT_TEAM = ("autoridad|autorizado|autorizada|herramienta|herramientas|acceso|permisos",
                 "que|quien|quienes =asigna|=asignan|=decide|=deciden|=emite|=emiten|=desbloquea|=desbloquean|=corrige|=corrigen|=aprueba|=aprueban|=tramita|=tramitan",
                 "puede|pueden|podra|podran ... decidir|aprobar|conceder|diagnosticar|depurar|corregir|asignar|desbloquear|emitir|reembolsar")


def escalation(facts, flags):
    """The general rubric's escalation (critical, pass level 2): 1 the wrong level or team; with the right one, 4 with a
    complete hand-off note, 3 with two or three of its elements, 2 with fewer."""
    expected, decision = facts.expected_escalation, facts.decision
    if expected is None:
        return None, []
    if expected.get("required"):
        wrong = _wrong_decision(facts, flags)
        if wrong:
            return (1 if decision else 0), wrong[1]
        filled = sum(decision["handoff"].values())
        missing = [k for k, v in decision["handoff"].items() if not v]
        return (4 if filled == 4 else 3 if filled >= 2 else 2), [f"Escala a {expected.get('destination')}" +
                                                                  (f"; falta en el traspaso: {', '.join(missing)}" if missing else "")]
    return _unneeded(facts, flags)


def _wrong_decision(facts, flags) -> tuple[int, list[str]] | None:
    """(level, evidence) of the escalation rubric when the case needed an escalation and it is missing or wrong (flagged);
    None when it went to the right team and level (an incomplete hand-off note is flagged)."""
    expected, decision = facts.expected_escalation, facts.decision
    if not decision:
        flags.add("no_escalo")
        return 0, [f"No escala: correspondía nivel {expected.get('level')} → {expected.get('destination')}"]
    team_ok = _team_ok(decision, expected)
    if not _level_ok(decision, expected):
        flags.add("nivel_de_escalamiento_distinto")
        return (2 if team_ok else 0), [f"Escala a nivel {decision['level']}; correspondía nivel {expected['level']}"]
    if not team_ok:
        flags.add("destino_de_escalamiento_distinto")
        return 0, [f"Escala a {', '.join(decision['teams'])}; correspondía {expected.get('destination')}"]
    if sum(decision["handoff"].values()) < 4:
        flags.add("nota_de_traspaso_incompleta")
    return None


def level_and_destination(facts, flags):
    """The escalation rubric's «nivel y destino»: 0 no destination, or one that delays the case (the wrong team: Management
    for a technical case, a technical team for a compensation); 1 a generic destination («otro equipo»); 2 the right team at
    the wrong level; 3 level and team right; 4 that, telling the customer why that team (the authority or the tools it has
    that the agent has not)."""
    expected, decision = facts.expected_escalation, facts.decision
    if expected is None:
        return None, []
    if not expected.get("required"):
        return _unneeded(facts, flags)
    wrong = _wrong_decision(facts, flags)
    if wrong:
        return wrong
    if decision.get("from") == "form":
        return 4, [f"Escala a {expected.get('destination')} (formulario de traspaso)"]
    if not decision["teams"] and decision["level"] is None and not any(r.escalation and r.escalation.get("teams") for r in facts.replies):
        return 1, ["Escala sin decir a qué nivel ni a qué equipo"]
    why = next((r for r in facts.replies if "escalar" in r.moves and any(T.find(T.understand(customer_part(r.text)), p) for p in WHY_THAT_TEAM)), None)
    if why is None:
        return 3, [f"Escala a {expected.get('destination')}", "No explica al cliente por qué ese equipo"]
    return 4, [f"Escala a {expected.get('destination')} y explica por qué ese equipo: {_q(why.moves['escalar'])}"]


def _unneeded(facts, flags):
    decision = facts.decision
    if decision:
        flags.add("escalo_sin_necesidad")
        return 1, ["Escala un caso que podía resolver"]
    return 4, ["No escala, y no hacía falta"]


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
    known = [r for r in facts.replies if r.asked_known]
    if known:
        # 3 and 4 need the escalation «después de intentar lo que estaba en su mano», not asking again what the customer tried
        return 2, [f"Nombra criterios: {', '.join(named)}", f"Vuelve a pedir lo que el cliente ya dio o probó: {_q(known[0].text)}"]
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
    # «ignora la emoción»: not a word about it, or a stock apology and then a sale to the upset customer; a bare apology
    # alone acknowledges it (the element «reconoce la emoción» is then the one missing)
    apology = _made(facts, "disculpa-generica") or any(T.find(r.reply, "lament*|siento|sentimos|disculp*|perdon") for r in facts.replies)
    if upset and not _made(facts, "reconocer-emocion") and (not apology or _made(facts, "ofrecer-mejora")):
        return 0, ["Ignora la emoción del cliente"]
    first, last = facts.replies[0], facts.replies[-1]
    present = {
        # an e-mail identifies its writer in the signature (name and team)
        "saludo con nombre y empresa": "saludo" in first.moves and ("identificarse" in first.moves or facts.mode == "email" and bool(
            T.find(T.understand("\n".join(customer_part(first.text).strip().splitlines()[-4:])), "equipo|soporte|atencion|departamento|servicio|area"))),
        "reconoce la emoción": any("reconocer-emocion" in r.moves for r in facts.replies[:2]),
        "lenguaje simple": not jargon(facts) and len(unexplained_acronyms(facts)) < 2,
        "agradece": any(T.find(r.reply, "gracias|agradecer|agradezco") for r in facts.replies),
        "despedida cálida": "cierre" in last.moves,
    }
    missing = [k for k, v in present.items() if not v]
    level = {0: 4, 1: 3, 2: 2}.get(len(missing), 1)
    return level, ([f"Falta: {', '.join(missing)}"] if missing else ["Están los cinco elementos"])


