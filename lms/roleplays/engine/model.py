"""The customer model: the shared library (``roleplays/moves.yaml``) and each scenario customer's needs, information,
moves, mood, reactions and endings, validated and merged into plain JSON the engine runs on.

Validation reports ``file:line: message`` problems; it runs every move's and need's examples (the content's own unit
tests), and :func:`lms.roleplays.engine.conversation.check_reachable` plays each ending through.
"""
from __future__ import annotations

import contextlib
import copy
import re
from pathlib import Path

from lms.content.files import ContentFileError
from lms.content.files import plain as _plain
from lms.content.files import read_yaml
from lms.roleplays.engine import text as T

LIBRARY_FILE = "roleplays/moves.yaml"
KINDS = ("good", "bad", "neutral")
FAULTS = ("promesa", "cumplimiento")
ENDING_KINDS = ("resolved", "escalated", "escalated_wrongly", "gives_up", "timed_out")
#: the move each library reaction answers (a bad move's reaction, shown when it hurts the mood)
MOVE_REACTIONS = {"jerga": "jerga", "ofrecer-mejora": "mejora-a-destiempo", "defensivo": "defensivo", "anuncio-sin-sustancia": "anuncio",
                  "declarar-resuelto": "resuelto-en-falso", "prometer-sin-autoridad": "promesa", "no-volvera-a-pasar": "promesa",
                  "reconocer-emocion": "calma"}
#: reactions the engine itself uses (besides those a move names)
ENGINE_REACTIONS = ("repetido", "ignorado", "traspaso-sin-plazo", "espera", "despedida-prematura", "sigue", "quien-se-encarga")
MIN_MOVE_EXAMPLES = 3
MIN_NEED_EXAMPLES = 2
DEFAULT_MAX_TURNS = 12


#: whether loading a library or a customer model replays its must / must-not examples through the matcher (content check
#: and sync do; the pre-check, which only reads models that content check has passed, skips it: see examples_unchecked)
_CHECK_EXAMPLES = True


@contextlib.contextmanager
def examples_unchecked():
    """Load models without replaying their examples (the pre-check of many transcripts: the examples are content check's
    job, and replaying them costs seconds per process)."""
    global _CHECK_EXAMPLES
    before, _CHECK_EXAMPLES = _CHECK_EXAMPLES, False
    try:
        yield
    finally:
        _CHECK_EXAMPLES = before


def checking_examples() -> bool:
    """False inside :func:`examples_unchecked` (then the loader also skips playing each ending through)."""
    return _CHECK_EXAMPLES


class Sink:
    """Collects problems for one file (``problems.add(path, line, message)``)."""

    def __init__(self, problems, path: str):
        self.problems, self.path = problems, path

    def add(self, line, message: str) -> None:
        self.problems.add(self.path, line or 1, message)


def _line(node, default=1) -> int:
    return getattr(node, "line", default) or default


def _citation(sink: Sink, raw, line: int, reference: dict, what: str):
    from lms.reference.services import check_citations

    if reference is None:  # read at run time (the content check validated the passages)
        return raw
    if raw is None:
        sink.add(line, f"{what}: cite the passage it rests on ('source': {{ref, quote}})")
        return None
    found = check_citations(sink.problems, sink.path, [raw] if isinstance(raw, dict) else raw, _line(raw, line), reference, what=what)
    return found[0] if found else None


def _patterns(sink: Sink, raw, line: int, what: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        sink.add(line, f"{what}: a list of patterns (text)")
        return []
    good = []
    for pattern in raw:
        try:
            T.compile_pattern(pattern)
        except T.PatternError as exc:
            sink.add(line, f"{what}: pattern {pattern!r}: {exc}")
            continue
        good.append(pattern)
    return good


def _texts(sink: Sink, raw, line: int, what: str, minimum: int = 1) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(p, str) and p.strip() for p in raw) or len(raw) < minimum:
        sink.add(line, f"{what}: a list of at least {minimum} non-empty text(s)")
        return [p.strip() for p in raw if isinstance(p, str) and p.strip()] if isinstance(raw, list) else []
    return [p.strip() for p in raw]


def _examples(sink: Sink, raw, line: int, what: str, minimum: int) -> dict:
    if not isinstance(raw, dict):
        sink.add(line, f"{what}: 'examples' with 'must' and 'must_not' replies (at least {minimum} of each)")
        return {"must": [], "must_not": []}
    return {"must": _texts(sink, raw.get("must"), _line(raw, line), f"{what} examples.must", minimum),
            "must_not": _texts(sink, raw.get("must_not"), _line(raw, line), f"{what} examples.must_not", minimum)}


# The library ----------------------------------------------------------------------------------------------------

def load_library(root: Path, problems, reference: dict) -> dict | None:
    path = Path(root) / LIBRARY_FILE
    if not path.exists():
        return None
    sink = Sink(problems, LIBRARY_FILE)
    before = len(problems)
    try:
        data = read_yaml(path, LIBRARY_FILE)
    except ContentFileError as exc:
        problems.extend_from(exc)
        return None
    if not isinstance(data, dict):
        sink.add(1, "expected a mapping with types, mood, teams, moves, reactions and endings")
        return None
    for key in ("types", "mood", "teams", "moves", "reactions", "endings"):
        if not isinstance(data.get(key), (dict, list)):
            sink.add(1, f"missing {key!r}")
    if len(problems) > before:
        return None
    library: dict = {"types": {}, "teams": [], "moves": {}, "reactions": {}, "endings": {}}
    #: the file as written, kept with the scenarios that use it so ``content export`` can write it back
    library["text"] = path.read_text(encoding="utf-8")
    for name, spec in data["types"].items():
        line = data["types"].line_of(name) if hasattr(data["types"], "line_of") else 1
        if not isinstance(spec, dict) or not isinstance(spec.get("mood"), int) or not isinstance(spec.get("patience"), int):
            sink.add(line, f"type {name!r}: needs 'mood' (0-4), 'patience' (nudges) and 'effects'")
            continue
        library["types"][name] = {"mood": spec["mood"], "patience": spec["patience"], "effects": dict(spec.get("effects") or {}),
                                  "source": _citation(sink, spec.get("source"), line, reference, f"type {name}")}
    mood = data["mood"]
    library["mood"] = {"min": int(mood.get("min", 0)), "max": int(mood.get("max", 4)), "labels": {str(k): v for k, v in (mood.get("labels") or {}).items()},
                       "source": _citation(sink, mood.get("source"), _line(mood), reference, "mood")}
    for team in data["teams"]:
        if not isinstance(team, dict) or not team.get("id") or not isinstance(team.get("words"), list) or team.get("level") not in (1, 2, 3, 4):
            sink.add(_line(team), "a team needs 'id', 'words' and 'level' (1-4)")
            continue
        library["teams"].append({"id": team["id"], "words": [w if w.isupper() else T.fold(w) for w in team["words"]], "level": team["level"]})
    for move_id, spec in data["moves"].items():
        move = _move(sink, move_id, spec, data["moves"].line_of(move_id), reference, library=None)
        if move:
            library["moves"][move_id] = move
    for reaction_id, spec in data["reactions"].items():
        line = data["reactions"].line_of(reaction_id)
        if not isinstance(spec, dict):
            sink.add(line, f"reaction {reaction_id!r}: needs 'phrasings' and 'source'")
            continue
        library["reactions"][reaction_id] = {"phrasings": _texts(sink, spec.get("phrasings"), line, f"reaction {reaction_id}", 2),
                                             "source": _citation(sink, spec.get("source"), line, reference, f"reaction {reaction_id}")}
    for reaction_id in set(MOVE_REACTIONS.values()) | set(ENGINE_REACTIONS):
        if reaction_id not in library["reactions"]:
            sink.add(data.line_of("reactions"), f"the engine needs the reaction {reaction_id!r}")
    for move_id, move in library["moves"].items():
        if move.get("reaction") and move["reaction"] not in library["reactions"]:
            sink.add(data["moves"].line_of(move_id), f"move {move_id!r}: unknown reaction {move['reaction']!r}")
    for kind in ENDING_KINDS:
        spec = data["endings"].get(kind)
        if not isinstance(spec, dict):
            sink.add(data.line_of("endings"), f"ending {kind!r} missing")
            continue
        library["endings"][kind] = _ending(sink, kind, spec, data["endings"].line_of(kind), reference, None)
    if len(problems) > before:
        return None
    if reference is None or not _CHECK_EXAMPLES:
        return library
    for move_id, move in library["moves"].items():
        check_move_examples(sink, data["moves"].line_of(move_id), move_id, move)
    return library if len(problems) == before else None


def _move(sink: Sink, move_id: str, spec, line: int, reference: dict, *, library: dict | None) -> dict | None:
    if not isinstance(spec, dict):
        sink.add(line, f"move {move_id!r}: expected a mapping")
        return None
    base = copy.deepcopy(library["moves"].get(move_id)) if library else None
    if base is None and library is not None and not spec.get("patterns"):
        sink.add(line, f"move {move_id!r} is not in {LIBRARY_FILE}: give its 'patterns', 'examples', 'kind' and 'source'")
        return None
    move = base or {"kind": "neutral", "title": move_id, "patterns": [], "unless": [], "examples": {"must": [], "must_not": []}}
    unknown = set(spec) - {"kind", "title", "patterns", "unless", "examples", "mood", "reaction", "fault", "source", "criterion",
                           "first_reply_only"}
    if unknown:
        sink.add(line, f"move {move_id!r}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    if "kind" in spec:
        if spec["kind"] not in KINDS:
            sink.add(line, f"move {move_id!r}: kind must be good, bad or neutral")
        move["kind"] = spec["kind"]
    if "fault" in spec:
        if spec["fault"] not in FAULTS:
            sink.add(line, f"move {move_id!r}: fault must be one of {', '.join(FAULTS)}")
        move["fault"] = spec["fault"]
    for key in ("title", "reaction", "criterion"):
        if key in spec:
            move[key] = str(spec[key])
    if "first_reply_only" in spec:
        move["first_reply_only"] = bool(spec["first_reply_only"])
    if "mood" in spec:
        if isinstance(spec["mood"], bool) or not isinstance(spec["mood"], int) or not -3 <= spec["mood"] <= 3:
            sink.add(line, f"move {move_id!r}: mood must be a whole number from -3 to 3")
        else:
            move["mood"] = spec["mood"]
    added = _patterns(sink, spec.get("patterns"), line, f"move {move_id}")
    move["patterns"] = move["patterns"] + added
    move["unless"] = move.get("unless", []) + _patterns(sink, spec.get("unless"), line, f"move {move_id} unless")
    if added or base is None or "examples" in spec:
        own = _examples(sink, spec.get("examples"), line, f"move {move_id}", MIN_MOVE_EXAMPLES)
        move["examples"] = own if base is None else {"must": base["examples"]["must"] + own["must"],
                                                    "must_not": base["examples"]["must_not"] + own["must_not"]}
    if "source" in spec or base is None:
        move["source"] = _citation(sink, spec.get("source"), line, reference, f"move {move_id}")
    return move


def _ending(sink: Sink, kind: str, spec, line: int, reference: dict, base: dict | None) -> dict:
    ending = copy.deepcopy(base) if base else {}
    if not isinstance(spec, dict):
        sink.add(line, f"ending {kind!r}: expected a mapping (text, customer, source)")
        return ending
    if "text" in spec or base is None:
        ending["text"] = str(spec.get("text") or "").strip()
        if not ending["text"]:
            sink.add(line, f"ending {kind!r}: 'text' (one line stated to the agent) is missing")
    if "customer" in spec or base is None:
        ending["customer"] = _texts(sink, spec.get("customer"), line, f"ending {kind} customer", 1)
    if "source" in spec or base is None:
        ending["source"] = _citation(sink, spec.get("source"), line, reference, f"ending {kind}")
    return ending


# A scenario's customers --------------------------------------------------------------------------------------------

CUSTOMER_MODEL_KEYS = {"opening", "mood", "needs", "holds", "moves", "reactions", "endings", "max_turns", "escalates"}


def named(ending: dict, name) -> dict:
    """The ending's line said of this customer: the library's ``{nombre}`` is their first name («Gabriela pierde la
    paciencia…», not «El cliente…» of a woman)."""
    first = (str(name or "").split() or [""])[0]
    return ending | {"text": ending["text"].replace("{nombre}", first)} if first and "text" in ending else ending


def has_model(customer: dict) -> bool:
    return "needs" in customer


def build_customer(sink: Sink, customer, library: dict, reference: dict, *, escalation: dict | None, mode: str) -> dict | None:
    """The merged, JSON-ready model of one customer (``None`` when it has problems)."""
    before = len(sink.problems)
    line = _line(customer)
    ctype = library["types"].get(customer["type"], {"mood": 2, "patience": 2, "effects": {}})
    model: dict = {"type": customer["type"], "effects": dict(ctype["effects"]), "patience": ctype["patience"]}
    mood = customer.get("mood", ctype["mood"])
    if isinstance(mood, bool) or not isinstance(mood, int) or not library["mood"]["min"] < mood <= library["mood"]["max"]:
        sink.add(line, f"customer {customer['id']!r}: mood must be a whole number from 1 to {library['mood']['max']}")
        mood = 2
    model["mood"] = mood
    max_turns = customer.get("max_turns", DEFAULT_MAX_TURNS)
    if isinstance(max_turns, bool) or not isinstance(max_turns, int) or not 2 <= max_turns <= 40:
        sink.add(line, f"customer {customer['id']!r}: max_turns must be a whole number from 2 to 40 (the conversation's cap)")
        max_turns = DEFAULT_MAX_TURNS
    model["max_turns"] = 1 if mode == "email" else max_turns
    # moves: every library move, refined by the customer's own entries
    moves = copy.deepcopy(library["moves"])
    refined = customer.get("moves") or {}
    if not isinstance(refined, dict):
        sink.add(line, f"customer {customer['id']!r}: 'moves' maps move ids to refinements")
        refined = {}
    for move_id, spec in refined.items():
        move = _move(sink, move_id, spec or {}, refined.line_of(move_id) if hasattr(refined, "line_of") else line, reference, library=library)
        if move:
            moves[move_id] = move
            if "mood" in (spec or {}):
                model["effects"][move_id] = spec["mood"]
    model["moves"] = moves
    model["scenario_moves"] = sorted(refined)
    # reactions: library phrasings, replaced where the customer says them their way
    reactions = copy.deepcopy(library["reactions"])
    for reaction_id, spec in (customer.get("reactions") or {}).items():
        rline = customer["reactions"].line_of(reaction_id) if hasattr(customer["reactions"], "line_of") else line
        if reaction_id not in reactions and not any(m.get("reaction") == reaction_id for m in moves.values()):
            sink.add(rline, f"reaction {reaction_id!r} answers no move and no engine event: it could never be said")
            continue
        spec = spec if isinstance(spec, dict) else {"phrasings": spec}
        reactions[reaction_id] = {"phrasings": _texts(sink, spec.get("phrasings"), rline, f"reaction {reaction_id}", 2),
                                  "source": _citation(sink, spec["source"], rline, reference, f"reaction {reaction_id}")
                                  if "source" in spec else (reactions.get(reaction_id) or {}).get("source")}
        if reactions[reaction_id]["source"] is None:
            sink.add(rline, f"reaction {reaction_id!r}: cite its passage ('source')")
    model["reactions"] = reactions
    # needs
    needs, ids = [], set()
    raw_needs = customer.get("needs")
    if not isinstance(raw_needs, list) or not raw_needs:
        sink.add(line, f"customer {customer['id']!r}: 'needs' lists what the customer wants from the conversation")
        raw_needs = []
    for index, need in enumerate(raw_needs):
        nline = _line(need, line)
        if not isinstance(need, dict) or not need.get("id") or not need.get("title"):
            sink.add(nline, f"needs[{index + 1}]: needs 'id', 'title', 'meet', 'examples', 'ask', 'again' and 'source'")
            continue
        if need["id"] in ids:
            sink.add(nline, f"need {need['id']!r} repeats")
        ids.add(need["id"])
        unknown = set(need) - {"id", "title", "main", "meet", "examples", "ask", "again", "source", "asked", "question_ok"}
        if unknown:
            sink.add(nline, f"need {need['id']!r}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        meet = _patterns(sink, need.get("meet"), nline, f"need {need['id']} meet")
        if not meet:
            sink.add(nline, f"need {need['id']!r}: 'meet' needs at least one pattern (it could never be met)")
        needs.append({"id": need["id"], "title": str(need["title"]).strip(), "main": bool(need.get("main", index == 0)),
                      "meet": meet, "asked": bool(need.get("asked", index == 0)), "question_ok": bool(need.get("question_ok", False)),
                      "examples": _examples(sink, need.get("examples"), nline, f"need {need['id']}", MIN_NEED_EXAMPLES),
                      "ask": _texts(sink, need.get("ask"), nline, f"need {need['id']} ask", 1),
                      "again": _texts(sink, need.get("again"), nline, f"need {need['id']} again", 1 if mode == "email" else 2),
                      "source": _citation(sink, need.get("source"), nline, reference, f"need {need['id']}")})
    model["needs"] = needs
    holds = []
    for index, hold in enumerate(customer.get("holds") or []):
        hline = _line(hold, line)
        if not isinstance(hold, dict) or not hold.get("id"):
            sink.add(hline, f"holds[{index + 1}]: needs 'id', 'asked_by', 'give' and 'source'")
            continue
        unknown = set(hold) - {"id", "title", "asked_by", "give", "known", "source"}
        if unknown:
            sink.add(hline, f"hold {hold['id']!r}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        asked_by = _patterns(sink, hold.get("asked_by"), hline, f"hold {hold['id']} asked_by")
        if not asked_by:
            sink.add(hline, f"hold {hold['id']!r}: 'asked_by' needs at least one pattern")
        holds.append({"id": hold["id"], "title": str(hold.get("title") or hold["id"]), "asked_by": asked_by,
                      "give": _texts(sink, hold.get("give"), hline, f"hold {hold['id']} give", 1), "known": bool(hold.get("known", False)),
                      "source": _citation(sink, hold.get("source"), hline, reference, f"hold {hold['id']}")})
    model["holds"] = holds
    # endings
    escalates = bool(escalation and escalation.get("required")) and customer.get("escalates", True) is not False
    model["escalates"] = escalates
    available = ["escalated" if escalates else "resolved", "escalated_wrongly", "gives_up", "timed_out"]
    if mode == "email":  # one reply: the customer cannot lose patience within the conversation
        available.remove("gives_up")
    raw_endings = customer.get("endings") or {}
    if not isinstance(raw_endings, dict):
        sink.add(line, f"customer {customer['id']!r}: 'endings' maps ending kinds to their text")
        raw_endings = {}
    for kind in raw_endings:
        if kind not in ENDING_KINDS:
            sink.add(raw_endings.line_of(kind), f"unknown ending {kind!r} (use {', '.join(ENDING_KINDS)})")
        elif kind not in available:
            available.insert(0, kind)
    endings = {}
    for kind in available:
        spec = raw_endings.get(kind)
        endings[kind] = _ending(sink, kind, spec, raw_endings.line_of(kind) if spec is not None else line, reference,
                                library["endings"][kind]) if spec is not None else copy.deepcopy(library["endings"][kind])
    model["endings"] = {kind: named(ending, customer.get("name")) for kind, ending in endings.items()}
    if len(needs) + len(model["scenario_moves"]) < 5:
        sink.add(line, f"customer {customer['id']!r}: at least 5 needs or moves that matter (has {len(needs) + len(model['scenario_moves'])})")
    if len(sink.problems) > before:
        return None
    if not _CHECK_EXAMPLES:
        return model
    for move_id in model["scenario_moves"]:
        check_move_examples(sink, line, move_id, moves[move_id])
    opening = customer.get("opening") or ""
    for need in needs:
        check_need_examples(sink, line, need, opening)
    return model if len(sink.problems) == before else None


def check_move_examples(sink: Sink, line: int, move_id: str, move: dict) -> None:
    from lms.roleplays.engine.conversation import detect_move

    for example in move["examples"]["must"]:
        if detect_move(T.understand(example), move) is None:
            sink.add(line, f"move {move_id!r}: example must trigger it but does not: {example!r}")
    for example in move["examples"]["must_not"]:
        if detect_move(T.understand(example), move) is not None:
            sink.add(line, f"move {move_id!r}: example must not trigger it but does: {example!r}")


def check_need_examples(sink: Sink, line: int, need: dict, opening: str) -> None:
    from lms.roleplays.engine.conversation import meets_need

    heard = T.understand(opening)
    for example in need["examples"]["must"]:
        if meets_need(T.understand(example), need, heard) is None:
            sink.add(line, f"need {need['id']!r}: example must meet it but does not: {example!r}")
    for example in need["examples"]["must_not"]:
        if meets_need(T.understand(example), need, heard) is not None:
            sink.add(line, f"need {need['id']!r}: example must not meet it but does: {example!r}")


def expected_teams(library: dict, destination: str) -> list[str]:
    return teams_named(library["teams"], T.understand(destination or ""))


def teams_named(teams: list[dict], reply: T.Reply) -> list[str]:
    """The teams a text names: folded words and lemmas, and words written in capitals (``TI``) only as written."""
    words = {t.surface for t in reply.tokens if not t.negated} | {t.lemma for t in reply.tokens if not t.negated}
    capitals = set(re.findall(r"\b[A-ZÁÉÍÓÚ]{2,}\b", reply.text))
    return [team["id"] for team in teams if any((w in capitals) if w.isupper() else (w in words) for w in team["words"])]


def plain(value):
    return _plain(value)
