"""The simulated customer: state, what a reply does, the customer's next message and the ending.

Pure functions of the scenario's data, the practice's seed and the agent's replies (with their seconds): the server
replays a thread from its stored turns, ``roleplays simulate`` and the pre-check run the same code.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from lms.roleplays.engine import text as T

#: two replies this alike (0-100, folded words in any order) are the same reply
REPEAT_SIMILARITY = 90
#: moves whose good effect on the mood counts once per conversation
ONCE = ("reconocer-emocion", "parafrasear", "pasos-claros")
#: a customer leaves after this many response standards without an answer (patience nudges + this)
LEAVE_AFTER_EXTRA = 2
DEFAULT_EFFECT = {"good": 0, "neutral": 0, "bad": -1}


def detect_move(reply: T.Reply, move: dict, *, start: int = 0) -> T.Match | None:
    """The first place the move is made in the reply (``unless`` patterns in the same sentence cancel it)."""
    for pattern in move["patterns"]:
        match = T.find(reply, pattern)
        if match is None:
            continue
        if any(T.find(reply, unless, sentence=match.sentence) for unless in move.get("unless", ())):
            # another sentence may still make the move
            for sentence in range(match.sentence + 1, len(reply.sentences)):
                again = T.find(reply, pattern, sentence=sentence)
                if again and not any(T.find(reply, u, sentence=sentence) for u in move.get("unless", ())):
                    return again
            continue
        return match
    return None


def meets_need(reply: T.Reply, need: dict, heard: T.Reply | None) -> T.Match | None:
    """A statement (not a question) that carries the need's substance, and not only the customer's own words."""
    for pattern in need["meet"]:
        for sentence in range(len(reply.sentences) or 1):
            match = T.find(reply, pattern, sentence=sentence)
            if match is None or (match.sentence in reply.questions and not need.get("question_ok")):
                continue
            if heard is not None and _echo(reply, match, heard):
                continue
            return match
    return None


def _echo(reply: T.Reply, match: T.Match, heard: T.Reply) -> bool:
    """The customer's own words given back: the substance the pattern found (numbers, dates) was all theirs, or the
    sentence adds fewer than two words of its own."""
    heard_words = {t.surface for t in heard.tokens} | {t.lemma for t in heard.tokens}
    substance = [reply.tokens[p] for p in match.positions if reply.tokens[p].kind == "num" or p in reply.dates or p in reply.durations]
    start, end = reply.sentences[match.sentence] if reply.sentences else (0, len(reply.tokens))
    fresh = {t.lemma for t in reply.tokens[start:end]
             if (t.kind == "num" or (t.kind == "word" and len(t.lemma) >= 4 and t.lemma not in T.STOPWORDS))
             and t.surface not in heard_words and t.lemma not in heard_words}
    if substance and not any(t.surface not in heard_words for t in substance):
        return len(fresh) < 2  # the date or number found is the customer's own: only new words around it make it an answer
    if substance:
        return not fresh
    heard_surfaces = {t.surface for t in heard.tokens}
    matched_fresh = any(reply.tokens[p].surface not in heard_words and reply.tokens[p].lemma not in heard_words for p in match.positions) or any(
        reply.tokens[p].surface.endswith(_DONE) and reply.tokens[p].surface not in heard_surfaces for p in match.positions)
    return not matched_fresh and len(fresh) < 2


#: a participle says something is done («actualizado»): not an echo of the customer's «actualizar»
_DONE = ("ado", "ada", "ados", "adas", "ido", "ida", "idos", "idas")


def pick(phrasings: list[str], *key) -> str:
    """One of the phrasings, the same for the same practice, customer, turn and reaction."""
    if not phrasings:
        return ""
    digest = hashlib.sha256(":".join(map(str, key)).encode("utf-8")).digest()
    return phrasings[int.from_bytes(digest[:4], "big") % len(phrasings)]


@dataclass
class Step:
    """What one agent reply did, and what the customer answers."""
    turn: int
    nudges: list[str]
    moves: list[dict]            # {id, kind, title, quote, fault?}
    met_now: list[dict]          # {id, title, quote}
    needs_met: list[str]
    holds_given: list[str]
    mood: int
    customer: str | None         # the customer's next message (None: gone without a word)
    ending: str | None = None
    ending_text: str | None = None
    reactions: list[str] = field(default_factory=list)
    escalation: dict | None = None

    def as_json(self) -> dict:
        return {"turn": self.turn, "nudges": self.nudges, "customer": self.customer, "moves": [m["id"] for m in self.moves],
                "needs_met": self.needs_met, "mood": self.mood, "reactions": self.reactions,
                **({"ending": self.ending} if self.ending else {})}


class Customer:
    """One simulated customer of a scenario (surge scenarios run one per thread, independently)."""

    def __init__(self, scenario: dict, customer: dict, seed, *, standard_seconds: float | None = None):
        self.scenario, self.customer, self.seed = scenario, customer, seed
        self.model = customer["model"]
        self.standard = float(standard_seconds or scenario["response_standard"]["seconds"])
        self.mood = self.model["mood"]
        self.turn = 0
        self.met: dict[str, dict] = {}
        self.given: set[str] = set()
        self.asked: dict[str, int] = {n["id"]: 1 for n in self.model["needs"] if n.get("asked")}
        self.replies: list[str] = []
        self.used_once: set[str] = set()
        self.heard_text = customer.get("opening") or (customer.get("messages") or [""])[0]
        self.ending: str | None = None
        self.escalation: dict | None = None
        self.escalation_pending = False
        self.handoff_complete = False
        self.last_asked = next((n["id"] for n in self.model["needs"] if n.get("asked")), None)
        self.steps: list[Step] = []

    # -- what a reply does ----------------------------------------------------------------------------------------
    def analyse(self, text: str) -> tuple[T.Reply, list[dict], list[dict], list[dict], list[str]]:
        reply = T.understand(text)
        heard = T.understand_cached(self.heard_text)
        moves = []
        for move_id, move in self.model["moves"].items():
            if move.get("first_reply_only") and self.turn > 1:
                continue
            match = detect_move(reply, move)
            if match is not None:
                moves.append({"id": move_id, "kind": move["kind"], "title": move["title"], "quote": match.quote(reply),
                              **({"fault": move["fault"]} if move.get("fault") else {}), "source": move.get("source")})
        met_now = []
        for need in self.model["needs"]:
            if need["id"] in self.met:
                continue
            match = meets_need(reply, need, heard)
            if match is not None:
                met_now.append({"id": need["id"], "title": need["title"], "quote": match.quote(reply), "source": need.get("source")})
        asked_holds, asked_known = [], []
        asks = any(m["id"] == "pedir-dato" for m in moves)
        for hold in self.model["holds"]:
            for pattern in hold["asked_by"]:
                match = T.find(reply, pattern)
                if match and (match.sentence in reply.questions or asks):
                    (asked_known if hold["known"] or hold["id"] in self.given else asked_holds).append(hold["id"])
                    break
        return reply, moves, met_now, asked_holds, asked_known

    def react(self, text: str, seconds: float | None = None) -> Step:
        """The agent's reply (and how long the customer waited for it) → the customer's next message."""
        if self.ending:
            raise ValueError("the conversation has ended")
        self.turn += 1
        key = (self.seed, self.customer["id"], self.turn)
        reactions: list[str] = []
        parts: list[str] = []
        # the wait: past the standard the customer nudges; past their patience they are gone
        nudges = []
        if seconds is not None and seconds > self.standard:
            count = min(int(seconds // self.standard), self.model["patience"])
            phrasings = self.model["reactions"]["espera"]["phrasings"]
            nudges = [pick(phrasings, *key, "espera", n) for n in range(count)]
            self.mood -= 1
            reactions.append("espera")
            if seconds > self.standard * (self.model["patience"] + LEAVE_AFTER_EXTRA):
                return self._end("timed_out", key, [], [], reactions, nudges)
        reply, moves, met_now, asked_holds, asked_known = self.analyse(text)
        repeated = any(T.similarity(text, before) >= REPEAT_SIMILARITY for before in self.replies)
        self.replies.append(text)
        if repeated:
            moves = [{"id": "repetir", "kind": "bad", "title": "Repite la misma respuesta", "quote": text[:200], "source":
                      self.model["reactions"]["repetido"]["source"]}]
            met_now, asked_holds, asked_known = [], [], []
        ids = {m["id"] for m in moves}
        unmet_main = [n for n in self.model["needs"] if n["main"] and n["id"] not in self.met and n["id"] not in {m["id"] for m in met_now}]
        # «resuelto» said of what is not resolved is the bad move; said of what is, it is a summary
        if "declarar-resuelto" in ids and not unmet_main:
            moves = [m for m in moves if m["id"] != "declarar-resuelto"]
            ids.discard("declarar-resuelto")
        # an acknowledgement is a step the first time (the customer calms); said again, it is no answer
        acknowledged = "reconocer-emocion" in ids and "reconocer-emocion" not in self.used_once
        # the mood
        delta = 0
        hurt = []
        for move in moves:
            effect = self._effect(move)
            if effect > 0 and move["id"] in ONCE:
                if move["id"] in self.used_once:
                    effect = 0
                self.used_once.add(move["id"])
            if effect < 0:
                hurt.append(move["id"])
            delta += effect
        if met_now:
            delta += 1
        progress = bool(met_now or asked_holds or acknowledged
                        or ids & {"pedir-dato", "explicar-causa", "siguiente-paso", "escalar", "pasar-a-privado", "parafrasear"})
        pending = self._pending()
        if repeated:
            pass  # the «repetir» move already costs its point
        elif not progress and pending is not None and self.asked.get(pending["id"]):
            if not hurt:  # one penalty for one reply: a bad move already costs its own
                delta -= 1
            reactions.append("ignorado")
        if asked_known:
            delta -= 1
        self.mood = max(0, min(4, self.mood + delta))
        for need in met_now:
            self.met[need["id"]] = need
        self.given.update(asked_holds)
        # escalation
        escalation = self._escalation(reply, ids) if "escalar" in ids else None
        if escalation is not None:
            self.escalation = escalation
        step_moves = moves
        # endings
        if escalation is not None and not escalation["correct"]:
            return self._end("escalated_wrongly", key, step_moves, met_now, reactions, nudges, escalation=escalation)
        if self.escalation and self.escalation["correct"] and not self.handoff_complete:
            # a complete hand-off tells the customer when they will hear back
            self.handoff_complete = T.find(reply, "#when") is not None
            self.escalation_pending = not self.handoff_complete
        if self.handoff_complete and self._pending() is None and "escalated" in self.model["endings"]:
            return self._end("escalated", key, step_moves, met_now, reactions, nudges, escalation=self.escalation)
        if not self._pending() and "resolved" in self.model["endings"] and not self.escalation_pending and self.mood > 0:
            return self._end("resolved", key, step_moves, met_now, reactions, nudges)
        if self.mood <= 0:
            return self._end("gives_up", key, step_moves, met_now, reactions, nudges)
        if self.turn >= self.model["max_turns"]:
            return self._end("timed_out", key, step_moves, met_now, reactions, nudges)
        # the customer's message: reaction to what was just done, then what is still unmet
        R = self.model["reactions"]
        if repeated:
            parts.append(pick(R["repetido"]["phrasings"], *key, "repetido"))
            reactions.append("repetido")
        for move_id in hurt:
            reaction = self.model["moves"].get(move_id, {}).get("reaction") or _MOVE_REACTION.get(move_id)
            if reaction and reaction in R:
                parts.append(pick(R[reaction]["phrasings"], *key, reaction))
                reactions.append(reaction)
                break
        for hold_id in asked_known:
            hold = next(h for h in self.model["holds"] if h["id"] == hold_id)
            parts.append(pick(hold["give"], *key, hold_id))
            reactions.append("dato-conocido")
        for hold_id in asked_holds:
            hold = next(h for h in self.model["holds"] if h["id"] == hold_id)
            parts.append(pick(hold["give"], *key, hold_id))
            reactions.append(f"da:{hold_id}")
        if self.escalation_pending and not parts:
            parts.append(pick(R["traspaso-sin-plazo"]["phrasings"], *key, "traspaso"))
            reactions.append("traspaso-sin-plazo")
        calmed = any(self._effect(m) > 0 for m in moves) and delta > 0
        pending = self._pending()
        if "cierre" in ids and pending is not None and not parts:
            parts.append(pick(R["despedida-prematura"]["phrasings"], *key, "despedida"))
            reactions.append("despedida-prematura")
        if calmed and not parts and "calma" in R and not met_now:
            parts.append(pick(R["calma"]["phrasings"], *key, "calma"))
            reactions.append("calma")
        if pending is not None and not self.escalation_pending:
            if "ignorado" in reactions or (self.asked.get(pending["id"]) and not met_now and not asked_holds and not parts):
                parts.append(pick(pending["again"], *key, pending["id"], "again"))
            elif not self.asked.get(pending["id"]) or not parts or self.last_asked != pending["id"]:
                parts.append(pick(pending["ask"], *key, pending["id"], "ask"))
            self.asked[pending["id"]] = self.asked.get(pending["id"], 0) + 1
            self.last_asked = pending["id"]
        if not parts and pending is None and "escalated" in self.model["endings"] and not self.handoff_complete:
            parts.append(pick(R["quien-se-encarga"]["phrasings"], *key, "quien"))
            reactions.append("quien-se-encarga")
        if not parts:
            parts.append(pick(R["sigue"]["phrasings"], *key, "sigue"))
            reactions.append("sigue")
        message = " ".join(dict.fromkeys(parts))
        self.heard_text += "\n" + message
        step = Step(self.turn, nudges, step_moves, met_now, list(self.met), sorted(self.given), self.mood, message,
                    reactions=reactions, escalation=escalation)
        self.steps.append(step)
        return step

    def _effect(self, move: dict) -> int:
        effects = self.model["effects"]
        if move["id"] in effects:
            return int(effects[move["id"]])
        library = self.model["moves"].get(move["id"], {})
        if "mood" in library:
            return int(library["mood"])
        return DEFAULT_EFFECT.get(move["kind"], 0)

    def _pending(self) -> dict | None:
        return next((n for n in self.model["needs"] if n["id"] not in self.met), None)

    def _escalation(self, reply: T.Reply, ids: set[str]) -> dict:
        """Where the reply escalates to (the teams it names, the level it says) and whether that is right."""
        from lms.roleplays.engine.model import teams_named

        words = teams_named(self.scenario.get("teams", []), reply)
        expected = (self.scenario.get("escalation") or {}) if self.model.get("escalates", True) else {"required": False}
        levels = []
        for sentence in range(len(reply.sentences)):
            found = T.find(reply, "nivel #num", sentence=sentence)
            if found:
                try:
                    levels.append(int(float(reply.tokens[found.positions[-1]].surface)))
                except ValueError:
                    pass
        # the level it escalates to: the expected one when named (a reply may also say «soy nivel 1»), else the highest
        level = expected.get("level") if expected.get("level") in levels else (max(levels) if levels else None)
        wanted = set(expected.get("teams") or [])
        named = set(words)
        if not expected.get("required"):
            correct = False
        elif not named and level is None:
            correct = True  # «te paso con el equipo que lo lleva»: not wrong yet, but incomplete (no timeline asked below)
        else:
            # a level is right when it is the expected one, or when a wanted team of that level is named (a reply may
            # also mention the next level it could go to: «si es un bug, pasará a Engineering, nivel 3»)
            team_levels = {t["id"]: t["level"] for t in self.scenario.get("teams", [])}
            level_ok = level is None or level == expected.get("level") or (expected.get("level") in levels) or any(
                team_levels.get(team) == expected.get("level") for team in named & wanted)
            correct = (not named or bool(named & wanted)) and level_ok
        return {"teams": sorted(named), "level": level, "correct": correct}

    def _end(self, kind, key, moves, met_now, reactions, nudges, escalation=None) -> Step:
        self.ending = kind
        for need in met_now:
            self.met[need["id"]] = need
        ending = self.model["endings"].get(kind) or {}
        message = pick(ending.get("customer") or [], *key, "ending", kind) or None
        step = Step(self.turn, nudges, moves, met_now, list(self.met), sorted(self.given), self.mood, message, kind,
                    ending.get("text"), reactions, escalation)
        self.steps.append(step)
        return step

    def give_up_waiting(self) -> Step:
        """The agent stopped answering: the customer leaves."""
        self.turn += 1
        return self._end("timed_out", (self.seed, self.customer["id"], self.turn), [], [], ["espera"], [])


_MOVE_REACTION = {"jerga": "jerga", "ofrecer-mejora": "mejora-a-destiempo", "defensivo": "defensivo", "anuncio-sin-sustancia": "anuncio",
                  "declarar-resuelto": "resuelto-en-falso", "prometer-sin-autoridad": "promesa", "no-volvera-a-pasar": "promesa",
                  "repetir": "repetido"}


def customer_of(scenario: dict, customer_id: str | None) -> dict:
    customers = scenario["customers"]
    if customer_id is None:
        return customers[0]
    for customer in customers:
        if customer["id"] == customer_id:
            return customer
    raise KeyError(customer_id)


def opening(customer: dict) -> str:
    return customer.get("opening") or customer["messages"][0]


def replay(scenario: dict, customer_id: str, seed, replies: list[tuple[str, float | None]]) -> Customer:
    """The customer after these replies (the server keeps only the turns; the state is their replay)."""
    customer = Customer(scenario, customer_of(scenario, customer_id), seed)
    for text, seconds in replies:
        if customer.ending:
            break
        customer.react(text, seconds)
    return customer


# Checking a scenario: every ending can be reached --------------------------------------------------------------------

def escalation_reply(scenario: dict, *, wrong: bool = False) -> str:
    """A reply escalating with a complete hand-off (or to the wrong team and level), in the scenario's words."""
    expected = scenario.get("escalation") or {}
    if wrong and not expected.get("required"):
        return "Paso ahora tu caso al equipo de Management, nivel 4; te escribirán en 24 horas."
    if not wrong:
        return (f"Paso ahora tu caso a {expected.get('destination', 'el equipo que corresponde')}, nivel {expected.get('level', 2)}, "
                "con todo el contexto; te escribirán en 24 horas con la solución.")
    wanted = set(expected.get("teams") or [])
    team = next(t for t in scenario.get("teams", []) if t["id"] not in wanted and t["id"] != "especialista")
    level = next(n for n in (4, 3, 2, 1) if n != expected.get("level"))
    return f"Paso ahora tu caso al equipo de {team['words'][0]}, nivel {level}; te escribirán en 24 horas."


def ending_paths(scenario: dict, mode: str, customer: dict) -> dict[str, list[tuple[str, float | None]]]:
    """For each of the customer's endings, agent replies that reach it (the content check plays them; tests too)."""
    model = customer["model"]
    standard = float(scenario["response_standard"]["seconds"])
    needs = [need["examples"]["must"][0] for need in model["needs"]]
    paths = {}
    for kind in model["endings"]:
        if kind == "resolved":
            replies = needs
        elif kind == "escalated":
            replies = needs + [escalation_reply(scenario)]
        elif kind == "escalated_wrongly":
            replies = [escalation_reply(scenario, wrong=True)]
        elif kind == "gives_up":
            replies = ["Ok."] * model["max_turns"]
        else:
            paths[kind] = [("Gracias por escribirnos.", 1.0)] if mode == "email" else \
                [("Hola.", standard * (model["patience"] + LEAVE_AFTER_EXTRA + 1))]
            continue
        paths[kind] = [("\n\n".join(replies), 1.0)] if mode == "email" else [(text, 1.0) for text in replies]
    return paths


def check_reachable(scenario: dict, mode: str, customer: dict) -> list[str]:
    problems = []
    for kind, path in ending_paths(scenario, mode, customer).items():
        played = replay(scenario, customer["id"], "check", path)
        if played.ending != kind:
            last = played.steps[-1] if played.steps else None
            problems.append(f"ending {kind!r} is not reached by its check path (ended {played.ending!r}, mood {played.mood}, "
                            f"needs met {sorted(played.met)}, last message {last.customer if last else None!r})")
    return problems


def simulate(scenario: dict, mode: str, replies: list[dict], *, seed="simulate") -> dict:
    """``replies``: [{text, seconds, customer}] → {turns: [...], endings: {customer: ending}} (each customer apart)."""
    customers = {c["id"]: Customer(scenario, c, seed) for c in scenario["customers"]}
    turns = []
    for n, item in enumerate(replies, start=1):
        cid = item.get("customer") or scenario["customers"][0]["id"]
        customer = customers[cid]
        if customer.ending:
            turns.append({"reply": n, "customer_id": cid, "error": "the conversation with this customer has ended"})
            continue
        step = customer.react(item["text"], item.get("seconds"))
        turns.append({"reply": n, "customer_id": cid, "nudges": step.nudges, "customer": step.customer,
                      "moves": [m["id"] for m in step.moves], "needs_met": step.needs_met, "mood": step.mood,
                      **({"ending": step.ending, "ending_text": step.ending_text} if step.ending else {})})
    return {"turns": turns, "customers": customers}
