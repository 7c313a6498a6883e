"""The advisory pre-check of a role-play transcript: what can be checked mechanically.

It looks for the handbook's communication standard (greeting and identification,
the customer's name, active listening, empathy, a closing with summary and
thanks), the reply times against the channel's standard, the escalation decision,
and whether the replies deal with the customer's actual problem.  It is
*advisory*: the trainer's rubric grade is the grade.

It is built not to be fooled by stuffing: the stock phrases it looks for earn
nothing when the replies do not deal with what the customer wrote, a reply that
is mostly stock phrases is flagged, and the score is capped when no reply
addresses the problem.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from lms.reference.search import terms

#: response-time standard per channel in seconds (phone: the training timer, see the house rule)
CHANNEL_SECONDS = {"chat": 30, "email": 7200, "social": 3600, "phone": 15}

GREETING = re.compile(r"\b(hola|buen[oa]s\s+(d[ií]as|tardes|noches)|bienvenid[oa]|saludos|estimad[oa])\b", re.I)
IDENTIFICATION = re.compile(r"\b(soy\s+\w+|me llamo|mi nombre es|(le|te) atiende|(le|te) habla|(le|te) escribe|de parte de|del equipo de)\b", re.I)
AVAILABILITY = re.compile(r"(en qu[eé] (te|le|les) puedo ayudar|puedo ayudar(te|le)|estoy aqu[ií] para|con (mucho )?gusto|encantad[oa] de ayudar|(te|le) ayudo)", re.I)
PARAPHRASE = re.compile(r"(entiendo que|si (te|le) entiendo bien|me (dices|comentas|indicas|cuentas) que|(me )?confirma[s]? (que|si)|para asegurarme|¿es (as[ií]|correcto)|¿entiendo (bien|correctamente)|resumiendo|seg[uú]n me (dices|comentas|indica))", re.I)
EMPATHY = re.compile(r"(entiendo (tu|su) (frustraci[oó]n|molestia|preocupaci[oó]n|enfado|confusi[oó]n|duda)|lamento|siento (mucho|las molestias|el inconveniente)|comprendo|disculp|es comprensible|es normal|me imagino|perd[oó]n por|tranquil[oa])", re.I)
ACTION = re.compile(r"(voy a|vamos a|he (revisado|comprobado|verificado|gestionado|creado|escalado|solicitado|enviado|registrado|abierto|aplicado|actualizado)|hemos|te (env[ií]o|llegar[aá])|le (env[ií]o|llegar[aá])|(le|te) confirmo|procedo|queda(r[aá])? (resuelto|solucionad[oa]|activad[oa]|registrad[oa])|(en|dentro de) (las )?(pr[oó]ximas )?\d+ (horas|d[ií]as|minutos)|n[uú]mero de (caso|ticket|seguimiento)|ticket\s*#?\w*\d)", re.I)
THANKS = re.compile(r"(gracias|agradec)", re.I)
SUMMARY = re.compile(r"(resum|entonces|queda(mos)?|confirm|como hemos|en resumen|recapitul)", re.I)
FAREWELL = re.compile(r"(que (tengas|tenga|pases|pase)|buen d[ií]a|hasta pronto|un saludo|saludos cordiales|atentamente|aqu[ií] (estamos|estoy)|no dudes|no dude|quedo a (tu|su) disposici[oó]n|cualquier (otra )?(cosa|duda|consulta))", re.I)
STOCK = [GREETING, IDENTIFICATION, AVAILABILITY, PARAPHRASE, EMPATHY, THANKS, SUMMARY, FAREWELL]

CRITERIA = ("saludo", "nombre", "escucha", "empatia", "solucion", "cierre", "tiempos", "escalamiento")


@dataclass
class Turn:
    speaker: str
    text: str
    seconds: float | None = None


@dataclass
class Transcript:
    channel: str
    customer_type: str
    opening_message: str
    turns: list[Turn]
    #: optional context a scenario gives
    customer_names: list[str] = field(default_factory=list)
    standard_seconds: float | None = None
    objectives: list[str] = field(default_factory=list)
    #: the scenario's escalation rule {required, level, destination} and the agent's decision
    expected_escalation: dict | None = None
    escalation: dict | None = None


@dataclass
class Result:
    score: int
    criteria: dict[str, int | None]
    flags: list[str]

    def as_json(self) -> dict:
        return {"score": self.score, "criteria": self.criteria, "flags": self.flags}


def _stock_share(text: str) -> float:
    """How much of a reply is made of the stock phrases the checks look for (0..1)."""
    covered = [False] * len(text)
    for pattern in STOCK:
        for match in pattern.finditer(text):
            # the phrase and a few words around it count as formula
            start, end = match.start(), min(len(text), match.end() + 25)
            for i in range(start, end):
                covered[i] = True
    letters = [c for i, c in enumerate(text) if not c.isspace()]
    if not letters:
        return 1.0
    return sum(1 for i, c in enumerate(text) if covered[i] and not c.isspace()) / len(letters)


def _without_stock(text: str) -> str:
    for pattern in STOCK:
        text = pattern.sub(" ", text)
    return text


def _content_terms(text: str) -> set[str]:
    return {t for t in terms(text) if len(t) >= 4 and not t.isdigit()}


def check(t: Transcript) -> Result:
    agent = [turn for turn in t.turns if turn.speaker == "agent" and turn.text.strip()]
    customer_text = " ".join([t.opening_message] + [turn.text for turn in t.turns if turn.speaker == "customer"])
    flags: list[str] = []
    if not agent:
        criteria = {name: 0 for name in CRITERIA}
        criteria["tiempos"] = None if not any(turn.seconds is not None for turn in t.turns) else 0
        criteria["nombre"] = None if not t.customer_names else 0
        criteria["escalamiento"] = None if t.expected_escalation is None else 0
        return Result(0, criteria, ["sin_respuestas"])

    first, last = agent[0].text, agent[-1].text
    all_agent = "\n".join(turn.text for turn in agent)

    # substance first: does the agent deal with what the customer wrote?
    customer_terms = _content_terms(customer_text + " " + " ".join(t.objectives))
    agent_terms = _content_terms(_without_stock(all_agent))
    overlap = len(customer_terms & agent_terms) / len(customer_terms) if customer_terms else 0.0
    actions = len(ACTION.findall(_without_stock(all_agent)))
    if overlap >= 0.30 and actions >= 2:
        solution = 4
    elif overlap >= 0.20 and actions >= 1:
        solution = 3
    elif overlap >= 0.12 or (actions >= 1 and overlap > 0.05):
        solution = 2
    elif overlap > 0.05 or actions:
        solution = 1
    else:
        solution = 0
    substantive = solution >= 2

    greeting = bool(GREETING.search(first))
    ident = bool(IDENTIFICATION.search(first))
    available = bool(AVAILABILITY.search(all_agent))
    saludo = {3: 4, 2: 3, 1: 2}.get(greeting + ident + available, 0) if (greeting or ident) else 0

    nombre = None
    if t.customer_names:
        names = [n.split()[0] for n in t.customer_names if n.strip()]
        uses = [any(re.search(rf"\b{re.escape(n)}\b", turn.text, re.I) for n in names) for turn in agent]
        nombre = 4 if uses and uses[0] else 3 if any(uses) else 0

    paraphrase = bool(PARAPHRASE.search(all_agent))
    questions = "?" in all_agent
    escucha = 4 if paraphrase and substantive else 3 if paraphrase else 2 if questions else 0

    empathy_hits = [bool(EMPATHY.search(turn.text)) for turn in agent]
    if any(empathy_hits[:2]):
        empatia = 4
    elif any(empathy_hits):
        empatia = 3
    else:
        empatia = 2 if t.customer_type in ("satisfecho", "confundido") else 0

    closing = bool(THANKS.search(last)) + bool(SUMMARY.search(last)) + bool(FAREWELL.search(last))
    cierre = {3: 4, 2: 3, 1: 1}.get(closing, 0)

    seconds = [turn.seconds for turn in agent if turn.seconds is not None]
    standard = t.standard_seconds or CHANNEL_SECONDS.get(t.channel)
    tiempos = None
    if seconds and standard:
        share = sum(1 for s in seconds if s <= standard) / len(seconds)
        tiempos = 4 if share == 1 else 3 if share >= 0.75 else 2 if share >= 0.5 else 1 if share > 0 else 0
        if share < 1:
            flags.append("respuestas_fuera_de_tiempo")

    escalamiento = None
    if t.expected_escalation is not None:
        expected, chosen = t.expected_escalation, t.escalation or {}
        if expected.get("required"):
            if not chosen.get("level"):
                escalamiento = 0
                flags.append("no_escalo")
            elif int(chosen["level"]) != int(expected["level"]):
                escalamiento = 1
                flags.append("nivel_de_escalamiento_distinto")
            elif expected.get("destination") and not _same_destination(chosen.get("destination", ""), expected["destination"]):
                escalamiento = 2
                flags.append("destino_de_escalamiento_distinto")
            else:
                filled = sum(bool(str(chosen.get(k) or "").strip()) for k in ("context", "priority", "expectations", "timeline"))
                escalamiento = 4 if filled == 4 else 3
                if filled < 4:
                    flags.append("nota_de_traspaso_incompleta")
        else:
            escalamiento = 4 if not chosen.get("level") else 1
            if chosen.get("level"):
                flags.append("escalo_sin_necesidad")

    # stuffing: replies made of stock phrases that say nothing about the problem
    stuffed = [i for i, turn in enumerate(agent) if _stock_share(turn.text) > 0.6 and len(turn.text) > 80]
    if stuffed and not substantive:
        flags.append("relleno_de_frases_hechas")
    texts = [re.sub(r"\s+", " ", turn.text.strip().lower()) for turn in agent]
    if len(set(texts)) < len(texts):
        flags.append("respuestas_repetidas")
    if not substantive:
        flags.append("no_aborda_el_problema")
        # stock phrases around no solution earn little: the standard is about serving the customer
        escucha = min(escucha, 1)
        cierre = min(cierre, 1)
        empatia = min(empatia, 2)

    criteria = {"saludo": saludo, "nombre": nombre, "escucha": escucha, "empatia": empatia, "solucion": solution,
                "cierre": cierre, "tiempos": tiempos, "escalamiento": escalamiento}
    present = [v for v in criteria.values() if v is not None]
    score = round(100 * sum(present) / (4 * len(present))) if present else 0
    if not substantive:
        score = min(score, 40)
    if "relleno_de_frases_hechas" in flags or "respuestas_repetidas" in flags:
        score = min(score, 50)
    return Result(score, criteria, flags)


def _same_destination(chosen: str, expected: str) -> bool:
    a, b = set(terms(chosen)), set(terms(expected))
    return bool(a & b)


class TranscriptError(ValueError):
    pass


def transcript_from_dict(data: dict) -> tuple[str, Transcript]:
    """The CLI's input format: {id, channel, customer_type, opening_message, turns: [{speaker, text, seconds}]}."""
    if not isinstance(data, dict):
        raise TranscriptError("each transcript must be a mapping of fields")
    for name in ("id", "channel", "customer_type", "opening_message", "turns"):
        if name not in data:
            raise TranscriptError(f"missing field {name!r}")
    unknown = set(data) - {"id", "channel", "customer_type", "opening_message", "turns"}
    if unknown:
        raise TranscriptError(f"unknown field(s): {', '.join(sorted(unknown))}")
    if data["channel"] not in CHANNEL_SECONDS:
        raise TranscriptError(f"channel must be one of {', '.join(CHANNEL_SECONDS)}")
    if data["customer_type"] not in ("satisfecho", "frustrado", "confundido", "exigente"):
        raise TranscriptError("customer_type must be satisfecho, frustrado, confundido or exigente")
    if not isinstance(data["turns"], list):
        raise TranscriptError("turns must be a list")
    turns = []
    for n, turn in enumerate(data["turns"], start=1):
        if not isinstance(turn, dict) or turn.get("speaker") not in ("agent", "customer") or not isinstance(turn.get("text"), str):
            raise TranscriptError(f"turn {n}: needs speaker (agent or customer) and text")
        seconds = turn.get("seconds")
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0):
            raise TranscriptError(f"turn {n}: seconds must be a number >= 0")
        if len(turn["text"]) > 20_000:
            raise TranscriptError(f"turn {n}: text longer than 20000 characters")
        turns.append(Turn(turn["speaker"], turn["text"], None if seconds is None else float(seconds)))
    return str(data["id"]), Transcript(data["channel"], data["customer_type"], str(data["opening_message"]), turns)
