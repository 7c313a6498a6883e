"""The advisory pre-check of a role-play transcript, on the conversation engine's understanding of the replies.

Each agent reply is read by the same matcher as the simulated customer (:mod:`lms.roleplays.engine`): which of the
customer's needs it met (with its substance: the datum, the step, the date), which moves it made, which data it asked
for. From those facts, :mod:`lms.roleplays.grading` gives each criterion of the scenario's rubric (or of the general
handbook rubric) a level 0-4 with its evidence, flags critical faults and caps the score as critical criteria do.

Stock phrases earn nothing by themselves: greeting, empathy and closing count only around replies that move the
conversation forward. It is *advisory*: the trainer's rubric grade is the grade.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from lms.roleplays.engine import text as T
from lms.roleplays.engine.conversation import Customer, detect_move, meets_need

#: response-time standard per channel in seconds (phone: the training timer, see the house rule)
CHANNEL_SECONDS = {"chat": 30, "email": 7200, "social": 3600, "phone": 15}
CUSTOMER_TYPES = ("satisfecho", "frustrado", "confundido", "exigente")


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
    #: the expected escalation {required, level, destination} and the agent's decision (the hand-off form)
    expected_escalation: dict | None = None
    escalation: dict | None = None
    #: grade against a scenario's model: its data (with ``mode`` and ``rubric``) and the customer's id
    scenario: dict | None = None
    customer_id: str | None = None
    context: str = ""
    record: dict | None = None


@dataclass
class Result:
    score: int
    criteria: dict[str, int | None]
    flags: list[str]
    band: str = "deficiente"
    evidence: dict[str, list[str]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    met: list[dict] = field(default_factory=list)
    missed: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"score": self.score, "band": self.band, "criteria": self.criteria, "evidence": self.evidence, "flags": self.flags,
                "titles": self.titles, "met": self.met, "missed": self.missed}


# What the agent did: the facts the criteria are graded from ---------------------------------------------------------

@dataclass
class ReplyFacts:
    index: int                   # 0-based among the agent's replies
    text: str
    seconds: float | None
    moves: dict[str, str]        # move id → quoted sentence
    met: list[dict]              # needs met: {id, title, quote, main}
    asked: list[str]             # data asked for (holds)
    asked_known: list[str]
    repeated: bool
    escalation: dict | None      # {teams, level, correct}
    reply: T.Reply


@dataclass
class Facts:
    replies: list[ReplyFacts]
    needs: list[dict]
    met: dict[str, dict]
    customer_type: str
    names: list[str]
    standard: float | None
    expected_escalation: dict | None
    decision: dict | None        # the agent's escalation: from the hand-off form or the text
    record_values: set[str]
    mode: str
    unanswered: int = 0          # customer messages left without an agent reply
    moves_library: dict = field(default_factory=dict)
    scenario_moves: list = field(default_factory=list)
    opening: str = ""            # the customer's first message
    customer_text: str = ""      # everything the customer wrote


def _general_model(t: Transcript, library: dict) -> dict:
    """A customer model for a transcript of no scenario: the library's moves, and needs from the objectives (or, without
    them, from the customer's questions)."""
    needs = []
    sources = list(t.objectives)
    if not sources:
        customer_text = [t.opening_message] + [x.text for x in t.turns if x.speaker == "customer"]
        for n, message in enumerate(customer_text):
            reply = T.understand(message)
            spans = [reply.sentences[i] for i in sorted(reply.questions) if i < len(reply.sentences)]
            if not spans and n == 0:
                spans = [(0, len(reply.tokens))]  # the opening states the problem without asking
            for start, end in spans:
                words = [tok.lemma for tok in reply.tokens[start:end] if tok.kind in ("word", "num") and (tok.kind == "num" or len(tok.lemma) >= 4)
                         and tok.lemma not in T.STOPWORDS and tok.lemma not in _GREETINGS]
                if words:
                    sources.append(" ".join(words))
    for n, objective in enumerate(sources):
        reply = T.understand(objective)
        words = sorted({tok.lemma for tok in reply.tokens if tok.kind == "word" and len(tok.lemma) >= 4 and tok.lemma not in T.STOPWORDS
                        and tok.lemma not in _GENERIC_OBJECTIVE_WORDS}, key=lambda w: (-len(w), w))[:6]
        if not words:
            continue
        when = any(w in ("fecha", "plazo", "cuando", "hora", "tiempo", "dia") for w in (tok.surface for tok in reply.tokens))
        needs.append({"id": f"objetivo-{n + 1}", "title": objective.strip(), "main": n == 0, "terms": words,
                      "min": 1 if len(words) <= 2 else 2, "when": when, "meet": [], "source": None})
    return {"type": t.customer_type, "effects": {}, "patience": 2, "mood": 2, "max_turns": 99, "moves": library["moves"],
            "needs": needs, "holds": [], "reactions": library["reactions"], "endings": library["endings"], "scenario_moves": []}


_GREETINGS = frozenset({"hola", "buenas", "buenos", "gracias", "saludo", "saludos"})
_GENERIC_OBJECTIVE_WORDS = frozenset("""cliente clienta agente saludar identificar nombre usar reconocer emocion frustracion explicar
decir informar ofrecer solucion resolver problema conversacion pedir dato datos necesidad manera forma tono claro clara concreto concreta
correcto correcta siempre nunca antes despues durante cada mantener cerrar cierre""".split())


def _meets_objective(reply: T.Reply, need: dict, heard: T.Reply) -> T.Match | None:
    if need.get("meet"):
        return meets_need(reply, need, heard)
    for sentence in range(len(reply.sentences)):
        if sentence in reply.questions:
            continue
        start, end = reply.sentences[sentence]
        lemmas = {tok.lemma for tok in reply.tokens[start:end]} | {tok.surface for tok in reply.tokens[start:end]}
        hits = [w for w in need["terms"] if w in lemmas or lemmas & T.SYNONYMS.get(w, frozenset())
                or any(x.startswith(w[:6]) for x in lemmas if len(w) >= 7)]
        timed = any(start <= p < end for p in reply.dates | reply.durations)
        if len(hits) < need["min"] and not (hits and timed):
            continue
        if need.get("when") and not timed:
            continue
        has_substance = any(start <= p < end for p in reply.dates | reply.durations) or any(
            tok.kind == "num" for tok in reply.tokens[start:end]) or any(
            tok.lemma not in heard.content_lemmas() and len(tok.lemma) >= 5 and tok.lemma not in T.STOPWORDS for tok in reply.tokens[start:end])
        if has_substance:
            return T.Match("objective", tuple(range(start, end)), sentence)
    return None


def analyse(t: Transcript, library: dict) -> Facts:
    """Read each agent reply as the simulated customer would."""
    scenario = t.scenario or {}
    customer = None
    if scenario.get("customers"):
        customer = next((c for c in scenario["customers"] if c["id"] == t.customer_id), scenario["customers"][0])
    if customer is not None and "model" in customer:
        model = customer["model"]
        engine_scenario = scenario
        if not model.get("escalates", True) and (scenario.get("escalation") or {}).get("required"):
            engine_scenario = scenario | {"escalation": {"required": False}}  # surge: this customer's case is not escalated
            t.expected_escalation = {"required": False}
    else:
        model = _general_model(t, library)
        engine_scenario = {"response_standard": {"seconds": t.standard_seconds or CHANNEL_SECONDS.get(t.channel, 30)},
                           "teams": library["teams"], "escalation": t.expected_escalation or {}}
        customer = {"id": "cliente", "name": "", "opening": t.opening_message, "model": model}
    if (t.expected_escalation or {}).get("required") and "teams" not in (engine_scenario.get("escalation") or {}):
        from lms.roleplays.engine.model import expected_teams

        engine_scenario = dict(engine_scenario)
        engine_scenario["escalation"] = dict(t.expected_escalation) | {"teams": expected_teams(library, t.expected_escalation.get("destination") or "")}
    sim = Customer(engine_scenario, customer | {"opening": t.opening_message or customer.get("opening", "")}, "precheck",
                   standard_seconds=t.standard_seconds or CHANNEL_SECONDS.get(t.channel))
    heard_text = t.opening_message
    replies: list[ReplyFacts] = []
    met: dict[str, dict] = {}
    previous: list[str] = []
    unanswered = 0
    waiting = True
    for turn in t.turns:
        if turn.speaker == "customer":
            heard_text += "\n" + turn.text
            waiting = True
            continue
        if not turn.text.strip():
            continue
        waiting = False
        reply = T.understand(turn.text)
        heard = T.understand_cached(heard_text)
        moves, matches = {}, {}
        for move_id, move in model["moves"].items():
            if move.get("first_reply_only") and replies:
                continue
            match = detect_move(reply, move)
            if match is not None:
                moves[move_id] = match.quote(reply)
                matches[move_id] = match
        if "prometer-sin-autoridad" in moves and _within_authority(t.record if t.record is not None else customer.get("record"),
                                                                   moves["prometer-sin-autoridad"]):
            del moves["prometer-sin-autoridad"]
        repeated = any(T.similarity(turn.text, before) >= 90 for before in previous)
        previous.append(turn.text)
        met_now = []
        if not repeated:
            for need in model["needs"]:
                if need["id"] in met:
                    continue
                match = _meets_objective(reply, need, heard)
                if match is not None:
                    item = {"id": need["id"], "title": need["title"], "quote": match.quote(reply), "main": need.get("main", False),
                            "source": need.get("source")}
                    met[need["id"]] = item
                    met_now.append(item)
        asked, asked_known = [], []
        for hold in model.get("holds", []):
            for pattern in hold["asked_by"]:
                match = T.find(reply, pattern)
                if match and (match.sentence in reply.questions or "pedir-dato" in moves):
                    (asked_known if hold["known"] else asked).append(hold["id"])
                    break
        escalation = _escalation_target(sim, reply, matches["escalar"], set(moves)) if "escalar" in moves else None
        replies.append(ReplyFacts(len(replies), turn.text, turn.seconds, moves, met_now, asked, asked_known, repeated, escalation, reply))
    # a question the customer was left with at the end is a message without an answer (nudges and last words are not)
    if waiting and replies and t.turns and t.turns[-1].speaker == "customer" and t.turns[-1].text.rstrip().endswith("?"):
        unanswered += 1
    decision = _decision(t, replies, sim)
    record_values = set()
    for value in _flatten(t.record if t.record is not None else (customer.get("record") or {})):
        record_values |= {tok.surface for tok in T.understand_cached(str(value)).tokens if tok.kind == "num" and len(tok.surface) >= 3}
    expected = (engine_scenario.get("escalation") if (engine_scenario.get("escalation") or {}).get("required")
                or t.expected_escalation is not None or scenario.get("escalation") is not None else None)
    if expected is None and scenario.get("customers"):
        expected = {"required": False}  # a scenario without an escalation: the agent resolves it (the engine says so too)
    return Facts(replies, model["needs"], met, model.get("type") or t.customer_type, t.customer_names, t.standard_seconds
                 or CHANNEL_SECONDS.get(t.channel), expected,
                 decision, record_values, scenario.get("mode") or t.channel, unanswered, model["moves"], model.get("scenario_moves", []),
                 t.opening_message or "", heard_text)


#: the record grants the agent a compensation («permisos_del_agente: Puede conceder abonos de hasta 10 € por retraso»)
_GRANT = "puede|pueden|podra|autorizado|autorizada ... conceder|aplicar|ofrecer|dar|hacer|abonar|regalar|devolver|reembolsar|emitir|bonificar"
#: what a compensation is (folded words and lemmas → its kind), as the promise and the grant name it
_COMPENSATION = {"descuento": "descuento", "descontar": "descuento", "abono": "abono", "abonar": "abono", "credito": "abono",
                 "reembolso": "reembolso", "reembolsar": "reembolso", "devolver": "reembolso", "devolucion": "reembolso",
                 "regalo": "regalo", "regalar": "regalo", "gratis": "regalo", "cupon": "cupon", "vale": "cupon",
                 "bonificacion": "bonificacion", "bonificar": "bonificacion", "compensacion": "compensacion", "compensar": "compensacion"}


def _compensations(tokens) -> set[str]:
    return {_COMPENSATION[w] for tok in tokens for w in (tok.lemma, tok.surface) if w in _COMPENSATION}


def _within_authority(record: dict | None, promise: str) -> bool:
    """Whether the agent may grant what ``promise`` grants: the handbook leaves compensation decisions to Management
    («Nivel 4: Management · Autoridad: Decisiones de compensación»), unless the scenario's record says this agent may grant
    it («permisos_del_agente»), within the amount it gives («hasta 10 €»)."""
    said = T.understand_cached(promise)
    promised = _compensations(said.tokens)
    if not promised:
        return False
    amounts = [float(tok.surface.replace(",", ".")) for tok in said.tokens if tok.kind == "num" and _number(tok.surface)]
    for key, value in (record or {}).items():
        if "permis" not in T.fold(str(key)) and "autoriza" not in T.fold(str(key)):
            continue
        grant = T.understand_cached(str(value))
        for sentence in range(len(grant.sentences)):
            if T.find(grant, _GRANT, sentence=sentence) is None:
                continue
            start, end = grant.sentences[sentence]
            tokens = grant.tokens[start:end]
            granted = _compensations(tokens)
            limits = [float(tok.surface.replace(",", ".")) for tok in tokens if tok.kind == "num" and _number(tok.surface)]
            if granted and (promised <= granted or promised == {"compensacion"}):
                return not limits or all(a <= max(limits) for a in amounts)
    return False


def _number(surface: str) -> bool:
    try:
        float(surface.replace(",", "."))
    except ValueError:
        return False
    return True


def _escalation_target(sim: Customer, reply: T.Reply, match: T.Match, ids: set[str]) -> dict:
    """Where the reply escalates to: the team named first after the escalating words in their sentence (a reply often names
    other teams as context: «el almacén no tiene ruta, así que lo paso a Dirección» goes to Management), else the first
    team of that sentence, else the engine's reading of the whole reply; the level said in that sentence."""
    found = sim._escalation(reply, ids)
    history = _history_sentences(reply)
    if history:
        # «escalado a Logística el 04/12» tells what happened before: those teams are context, not where the case goes now
        past = set(_teams_in(sim, reply, history)) - set(_teams_in(sim, reply, set(range(len(reply.sentences))) - history))
        if match.sentence in history:
            kept = [team for team in found["teams"] if team not in past]
            if not kept:
                return None
            if kept != found["teams"]:
                found = dict(found, teams=kept)
            return found
    start, end = reply.sentences[match.sentence] if match.sentence < len(reply.sentences) else (0, len(reply.tokens))
    first = match.positions[0] if match.positions else start
    teams = sim.scenario.get("teams", [])
    at: dict[str, int] = {}
    for position in range(start, end):
        token = reply.tokens[position]
        if token.kind != "word" or token.negated:
            continue
        for team in teams:
            hit = any(w == token.surface or w == token.lemma for w in team["words"] if not w.isupper()) or any(
                w.lower() == token.surface and w in reply.text for w in team["words"] if w.isupper())
            if hit and team["id"] not in at:
                at[team["id"]] = position
    if at:
        after = {tid: p for tid, p in at.items() if p >= first}
        pool = after or at
        named = [min(pool, key=pool.get)]
        level = None
        level_match = T.find(reply, "nivel #num", sentence=match.sentence)
        if level_match:
            try:
                level = int(float(reply.tokens[level_match.positions[-1]].surface))
            except ValueError:
                level = None
        wanted = set(((sim.scenario.get("escalation") or {}).get("teams")) or [])
        expected = sim.scenario.get("escalation") or {}
        correct = bool(expected.get("required")) and (not wanted or bool(set(named) & wanted)) and (level is None or level == expected.get("level"))
        return {"teams": named, "level": level, "correct": correct}
    if history and found and set(found["teams"]) - past and set(found["teams"]) & past:
        found = dict(found, teams=[team for team in found["teams"] if team not in past])
    return found


#: a hand-off told as past: a participle with a date («escalado a Logística el 04/12», «fue derivado el lunes»)
HISTORY = ("escalado|escalada|derivado|derivada|trasladado|trasladada|transferido|transferida|remitido|remitida ... #date",
           "#date ... escalado|escalada|derivado|derivada|trasladado|trasladada|transferido|transferida|remitido|remitida")
#: ... unless the agent does it now: «he escalado tu caso hoy», «queda escalado; te llaman mañana»
NOW = "=he|=hemos|=acabo|=acabamos|=queda|=quedo|=dejo|=dejamos|=voy|=vamos"


def _history_sentences(reply: T.Reply) -> set[int]:
    return {i for i in range(len(reply.sentences))
            if any(T.find(reply, p, sentence=i) for p in HISTORY) and not T.find(reply, NOW, sentence=i)}


def _teams_in(sim: Customer, reply: T.Reply, sentences: set[int]) -> list[str]:
    from lms.roleplays.engine.model import teams_named

    if not sentences:
        return []
    text = " ".join(" ".join(t.surface for t in reply.tokens[a:b]) for i, (a, b) in enumerate(reply.sentences) if i in sentences)
    return teams_named(sim.scenario.get("teams", []), T.understand(text))


def _flatten(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _flatten(v)
    elif isinstance(value, list):
        for v in value:
            yield from _flatten(v)
    elif value is not None:
        yield value


def _decision(t: Transcript, replies: list[ReplyFacts], sim: Customer) -> dict | None:
    """The agent's escalation: the hand-off form when filled, otherwise what the replies say (and their note)."""
    form = t.escalation or {}
    found = next((r.escalation for r in reversed(replies) if r.escalation), None)
    if form.get("level"):
        from lms.roleplays.engine.model import teams_named

        teams = sorted(teams_named(sim.scenario.get("teams", []), T.understand(str(form.get("destination") or ""))))
        handoff = {k: bool(str(form.get(k) or "").strip()) for k in ("context", "priority", "expectations", "timeline")}
        return {"teams": teams, "level": int(form["level"]), "handoff": handoff, "from": "form"}
    if found is None:
        return None
    # the internal note when the reply has one («Nota de escalamiento: …»), else the replies that escalate
    note = "\n".join(_note_of(r.text) for r in replies if r.escalation)
    reply = T.understand(note)
    handoff = {
        "context": len([tok for tok in reply.tokens if tok.kind != "punct"]) >= 25 and any(tok.kind == "num" for tok in reply.tokens),
        "priority": T.find(reply, "prioridad|urgente|urgencia|severidad|critico|critica") is not None,
        "expectations": T.find(reply, "pido|pedir|solicito|solicitar|necesito|espero|esperar|encargar") is not None,
        "timeline": T.find(reply, "#when") is not None,
    }
    return {"teams": found["teams"], "level": found["level"], "handoff": handoff, "from": "text", "note": note}


_NOTE = re.compile(r"^\W*nota(?:\s+interna)?(?:\s+(?:de|del|para)\s+(?:escalamiento|escalado|traspaso|transferencia|[a-zé]+))?\s*:", re.IGNORECASE | re.MULTILINE)


def _note_of(text: str) -> str:
    """The internal hand-off note of a reply: what follows a line starting «Nota (de escalamiento):», or the whole reply."""
    found = _NOTE.search(text)
    return text[found.end():] if found else text


def check(t: Transcript, rubric: dict | None = None) -> Result:
    """Grade a transcript against ``rubric`` (the scenario's; the general handbook rubric when None)."""
    from lms.roleplays import grading

    library = grading.library()
    facts = analyse(t, library)
    return grading.grade(facts, rubric or grading.general_rubric(t))


class TranscriptError(ValueError):
    pass


TRANSCRIPT_FIELDS = {"id", "channel", "customer_type", "opening_message", "turns", "scenario", "customer", "context", "objectives", "escalation"}


def transcript_from_dict(data: dict) -> tuple[str, Transcript]:
    """The CLI's input format without scenarios (calibration anchors): (id, transcript)."""
    tid, transcript, _rubric = parse_transcript(data)
    return tid, transcript


def parse_transcript(data: dict, scenarios: dict | None = None) -> tuple[str, Transcript, dict | None]:
    """The CLI's input format: {id, channel, customer_type, opening_message, turns: [{speaker, text, seconds}]} and,
    optionally, ``scenario`` (+ ``customer``) or ``context``, ``objectives`` and ``escalation``. Returns the id, the
    transcript and the rubric to grade against (None: the general handbook rubric)."""
    if not isinstance(data, dict):
        raise TranscriptError("each transcript must be a mapping of fields")
    unknown = set(data) - TRANSCRIPT_FIELDS
    if unknown:
        raise TranscriptError(f"unknown field(s): {', '.join(sorted(map(str, unknown)))}")
    scenario_id = data.get("scenario")
    scenario = rubric = None
    if scenario_id is not None:
        if not isinstance(scenario_id, str) or scenarios is None or scenario_id not in scenarios:
            raise TranscriptError(f"field 'scenario': unknown scenario {scenario_id!r}")
        scenario, rubric = scenarios[scenario_id]
        if data.get("context") or data.get("objectives") or data.get("escalation"):
            raise TranscriptError("field 'scenario': give either a scenario or an inline context (context, objectives, escalation), not both")
    required = ("id", "turns") if scenario else ("id", "channel", "customer_type", "opening_message", "turns")
    for name in required:
        if name not in data:
            raise TranscriptError(f"missing field {name!r}")
    customer = None
    if scenario:
        ids = [c["id"] for c in scenario["customers"]]
        cid = data.get("customer")
        if cid is None and len(ids) > 1:
            raise TranscriptError(f"field 'customer': scenario {scenario_id!r} has several customers, say which one ({', '.join(ids)})")
        if cid is not None and cid not in ids:
            raise TranscriptError(f"field 'customer': {cid!r} is not a customer of {scenario_id!r} ({', '.join(ids)})")
        customer = next(c for c in scenario["customers"] if c["id"] == (cid or ids[0]))
    elif "customer" in data:
        raise TranscriptError("field 'customer': only with 'scenario'")
    channel = data.get("channel") or (scenario["channel"] if scenario else None)
    if channel not in CHANNEL_SECONDS:
        raise TranscriptError(f"field 'channel': must be one of {', '.join(CHANNEL_SECONDS)}")
    ctype = data.get("customer_type") or (customer["type"] if customer else None)
    if ctype not in CUSTOMER_TYPES:
        raise TranscriptError("field 'customer_type': must be satisfecho, frustrado, confundido or exigente")
    opening = data.get("opening_message")
    if opening is None and customer:
        opening = customer.get("opening") or customer["messages"][0]
    if not isinstance(opening, str):
        raise TranscriptError("field 'opening_message': must be text")
    if not isinstance(data["turns"], list):
        raise TranscriptError("field 'turns': must be a list")
    turns = []
    for n, turn in enumerate(data["turns"], start=1):
        if not isinstance(turn, dict) or turn.get("speaker") not in ("agent", "customer") or not isinstance(turn.get("text"), str):
            raise TranscriptError(f"field 'turns', turn {n}: needs speaker (agent or customer) and text")
        seconds = turn.get("seconds")
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0):
            raise TranscriptError(f"field 'turns', turn {n}: seconds must be a number >= 0")
        if len(turn["text"]) > 20_000:
            raise TranscriptError(f"field 'turns', turn {n}: text longer than 20000 characters")
        turns.append(Turn(turn["speaker"], turn["text"], None if seconds is None else float(seconds)))
    context = data.get("context", "")
    if not isinstance(context, str):
        raise TranscriptError("field 'context': must be text")
    objectives = data.get("objectives", [])
    if not isinstance(objectives, list) or not all(isinstance(o, str) and o.strip() for o in objectives):
        raise TranscriptError("field 'objectives': must be a list of texts (what the agent must achieve)")
    expected = data.get("escalation")
    if expected is not None:
        if not isinstance(expected, dict) or not isinstance(expected.get("required"), bool):
            raise TranscriptError("field 'escalation': must be {required: true|false, level: 1-4, destination: text}")
        level = expected.get("level")
        if level is not None and (isinstance(level, bool) or level not in (1, 2, 3, 4)):
            raise TranscriptError("field 'escalation': level must be 1, 2, 3 or 4")
        if expected.get("destination") is not None and not isinstance(expected["destination"], str):
            raise TranscriptError("field 'escalation': destination must be text")
        unknown = set(expected) - {"required", "level", "destination"}
        if unknown:
            raise TranscriptError(f"field 'escalation': unknown field(s) {', '.join(sorted(unknown))}")
    if scenario:
        expected = scenario.get("escalation")
        objectives = list(scenario.get("objectives") or [])
    transcript = Transcript(channel, ctype, opening, turns, customer_names=[customer["name"]] if customer else [],
                            standard_seconds=scenario["response_standard"]["seconds"] if scenario else None, objectives=objectives,
                            expected_escalation=expected, scenario=scenario, customer_id=customer["id"] if customer else None,
                            context=context, record=customer.get("record") if customer else None)
    return str(data["id"]), transcript, rubric
