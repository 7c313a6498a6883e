"""The criteria of one kind of rubric: the e-mail (subject, body, action, writing practices), complaints (reception,
investigation, the record, calm), social media (public reply, moving to private) and compliance (see
:mod:`lms.roleplays.grading`)."""
from __future__ import annotations

import re

from lms.roleplays.engine import text as T
from lms.roleplays.grade_conversation import clarity, solution
from lms.roleplays.grade_facts import (DISCLOSURE_MOVE, _breaches, _escalation_missing, _false_resolution, _made,
                                       _progress, _q, _record_used)


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


