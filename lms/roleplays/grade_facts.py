"""The facts the rubric criteria share (see :mod:`lms.roleplays.grading`): quoting evidence, the moves made, whether the
case moved, the escalation decision against the expected one, false resolutions, compliance breaches, and the phrase
patterns several criteria read (acronyms, contacts, channels, the handbook's escalation criteria)."""
from __future__ import annotations

import re

from lms.roleplays.engine import text as T


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


def jargon(facts) -> list[tuple[int, str]]:
    """The replies with technical jargon the customer did not use himself: a term the customer wrote is his own vocabulary,
    not «jerga interna» (a technical customer writing «token», «sandbox», «logs»), as with acronyms."""
    made = _made(facts, "jerga")
    if not made:
        return made
    terms = {o for p in (facts.moves_library.get("jerga") or {}).get("patterns", []) for o in T.fold(p).replace("|", " ").split() if o.isalpha()}
    heard = T.understand_cached(facts.customer_text or facts.opening)
    own = {tok.surface for tok in heard.tokens} | {tok.lemma for tok in heard.tokens}
    if len({tok.surface for tok in heard.tokens if tok.surface in terms or tok.lemma in terms}) >= 3:
        return []  # a customer who writes «endpoint», «token», «log» reads technical words: they are his register, not jargon
    out = []
    for i, quote in made:
        said = T.understand_cached(customer_part(facts.replies[i].text))  # the internal hand-off note is for the team
        used = {tok.surface for tok in said.tokens if tok.surface in terms or tok.lemma in terms}
        if used - own:
            out.append((i, quote))
    return out


def customer_part(text: str) -> str:
    """What a reply says to the customer: the text before its internal hand-off note («Nota de escalamiento:…»)."""
    from lms.roleplays.precheck import _NOTE

    found = _NOTE.search(text)
    return text[:found.start()] if found else text


def _escalation_missing(facts) -> bool:
    return bool((facts.expected_escalation or {}).get("required")) and not facts.decision


def _solved_without_authority(facts) -> bool:
    """The case needs a team with the authority (a refund, an unlock, a compensation: the scenario's escalation), the agent
    never escalates, and yet tells the customer their main need is met: he claims what only that team can do."""
    if not _escalation_missing(facts):
        return False
    main = [n for n in facts.needs if n.get("main")] or facts.needs[:1]
    return any(n["id"] in facts.met for n in main)


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


#: the handbook's escalation criteria (by time, by complexity, by impact, by authority), as a reply names them
ESCALATION_CRITERIA = {
    "tiempo": ("#num horas|dias|semanas ... sin resolver|resolucion|solucion|respuesta", "plazo ... vencido|vencio|incumplido|pasado",
               "lleva|llevan ... horas|dias|semanas"),
    # «técnico» as the kind of case («requiere conocimiento técnico», «un caso técnico»), not as the team («equipo técnico»)
    "complejidad": ("legal|financier*|negocio|estrategic*|compensacion|compensaciones",
                    "caso|problema|incidencia|error|fallo|criterio|complejidad|conocimiento|requiere|necesita|cuestion|tema|motivo ... tecnic*",
                    "tecnico|tecnica|tecnicos|tecnicas ... especializado|especializada|complejo|compleja"),
    "autoridad": ("no estoy|esta|estamos autorizado|autorizada|autorizados", "autoridad", "no puedo ... decidir|aprobar|asignar|desbloquear|emitir"),
    "impacto": ("impacto", "prioridad|severidad ... alta|critica|media|baja|urgente"),
}


def _criteria_named(facts, replies=None) -> list[str]:
    texts = replies if replies is not None else facts.replies
    return [name for name, patterns in ESCALATION_CRITERIA.items() if any(T.find(r.reply, p) for r in texts for p in patterns)]


#: the agent himself contacting the customer later («te escribo», «la llamo yo», «me pongo en contacto»)
OWN_CONTACT = ("te|le|la|lo|os =escribo|=llamo|=aviso|=contacto|=escribire|=llamare|=avisare|=contactare|=confirmo|=confirmare|=informo|=informare",
               "me pongo|pondre en contacto", "=escribo|=llamo|=aviso yo", "yo mismo|misma ... llamar|escribir|avisar|contactar")
#: anyone contacting the customer later («te avisaremos», «Logística la llamará»)
ANY_CONTACT = "avisar|llamar|escribir|contactar|informar|confirmar|responder"
RECORDED = ("registr*|anot*|document*|apunt*", "nota de", "queda constancia")
CHANNEL = "email|correo|telefono|numero|mensaje|llamada|sms|chat|whatsapp|privado|directo"


def _record_used(facts) -> set[str]:
    said = set()
    for r in facts.replies:
        said |= {tok.surface for tok in r.reply.tokens if tok.kind == "num"}
    return said & facts.record_values


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



def _fault_moves(facts, fault: str) -> list[str]:
    return [move_id for move_id, move in facts.moves_library.items() if move.get("fault") == fault]


