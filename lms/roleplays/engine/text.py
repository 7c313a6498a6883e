"""Understanding a Spanish reply: folding, lemmas, numbers, dates, typos and negation, and the phrase patterns that
moves and needs are written in (spec: roleplays/README.md, «Patrones»).

Deterministic and offline: simplemma (lemmas), text2num (numbers in words), rapidfuzz (typos); dates are read by
pattern (:data:`_DATE_EXPRESSION`). Nothing here knows a scenario: :mod:`.model` and :mod:`.engine` give it the patterns.
"""
from __future__ import annotations

import importlib
import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

# simplemma, rapidfuzz and text_to_num (~8 MiB with their dictionaries) are imported on first use (``_lib``), so a worker
# that never reads a role-play reply does not load them


#: words that put what follows them (in the same clause, a few words on) under negation
NEGATORS = frozenset({"no", "nunca", "jamas", "tampoco", "ni", "sin", "nadie", "nada", "ningun", "ninguno", "ninguna"})
#: words that end a negation's scope (besides punctuation)
CLAUSE_BREAKS = frozenset({"pero", "sino", "aunque", "y", "porque", "mientras"})
NEGATION_REACH = 4
#: default number of words that may come between two terms of a pattern
DEFAULT_GAP = 3
STOPWORDS = frozenset("""a al algo ante antes aqui asi aun bien cada como con cual cuando de del desde donde el ella ellas ellos en entre
era es esa ese eso esta estas este esto estos fue ha han has hay he la las le les lo los mas me mi mis mucho muy nos o os para pero
por que se ser si sin sobre son su sus te ti tu tus un una uno unos unas y ya yo vosotros usted ustedes estar haber tener hacer ir
poder decir querer dar ver deber vez solo tambien todo toda todos""".split())
#: words the contact center uses for the same thing (folded lemmas): a need written with one is met with another
SYNONYM_GROUPS = (
    ("llegar", "entrega", "entregar", "recibir", "envio", "enviar", "reparto"),
    ("devolver", "reembolso", "reembolsar", "devolucion", "abonar", "abono"),
    ("cobro", "cargo", "cobrar", "factura", "facturar", "cuota", "pago"),
    ("pedido", "compra", "paquete", "encargo"),
    ("fecha", "dia", "plazo", "cuando"),
    ("problema", "incidencia", "error", "fallo", "averia"),
    ("garantia", "cobertura", "cubrir"),
    ("cuenta", "acceso", "usuario", "contrasena"),
    ("arreglar", "reparar", "resolver", "solucionar"),
    ("cambiar", "actualizar", "modificar"),
)
SYNONYMS = {word: frozenset(group) for group in SYNONYM_GROUPS for word in group}
MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "setiembre", "octubre",
          "noviembre", "diciembre")
WEEKDAYS = ("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo")
RELATIVE_DAYS = ("hoy", "manana", "pasado")
UNITS = frozenset({"minuto", "minutos", "min", "hora", "horas", "h", "dia", "dias", "semana", "semanas", "mes", "meses",
                   "habil", "habiles", "laborable", "laborables"})
CURRENCY = frozenset({"€", "eur", "euro", "euros", "dolar", "dolares", "usd", "$", "peso", "pesos"})
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_TOKEN = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|https?://\S+|\d+(?:[.,:/]\d+)*|[#@]?\w+|[€$]|[¿?¡!.;:,]|\n", re.UNICODE)
_FUZZY_MIN = 5
_FUZZY_SCORE = 85


@lru_cache(maxsize=None)
def _lib(name: str):
    """The matcher's third-party libraries, imported the first time a reply is read (cached)."""
    return importlib.import_module(name)


def fold(text: str) -> str:
    """Lower case without accents (ñ kept as n): «Devolución» → «devolucion»."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=50_000)
def lemma(word: str) -> str:
    """The folded lemma of a lower-case word (simplemma's Spanish dictionary)."""
    return fold(_lib("simplemma").lemmatize(word, lang="es"))


@dataclass
class Token:
    surface: str       # folded
    lemma: str         # folded
    sentence: int
    negated: bool = False
    kind: str = "word"  # word | num | punct


@dataclass
class Reply:
    """A reply as the patterns see it."""
    text: str
    tokens: list[Token]
    sentences: list[tuple[int, int]]          # token ranges
    questions: set[int]                        # sentences that ask (¿…? or «?»)
    dates: set[int]                            # token positions inside a date expression
    durations: set[int]                        # token positions of a «5 días», «24 horas», «14:00»
    money: set[int]
    _terms: dict = field(default_factory=dict)
    _vocabulary: list[str] | None = None
    normalised: str = ""
    spans: list = field(default_factory=list)   # (start, end) of each token in ``normalised``

    def sentence_of(self, position: int) -> int:
        return self.tokens[position].sentence

    def words(self) -> list[Token]:
        return [t for t in self.tokens if t.kind != "punct"]

    def content_lemmas(self) -> set[str]:
        return {t.lemma for t in self.tokens if t.kind == "word" and len(t.lemma) >= 4 and t.lemma not in STOPWORDS}

    def numbers(self) -> set[str]:
        return {t.surface for t in self.tokens if t.kind == "num"}


def _normalise_numbers(text: str) -> str:
    try:
        return _lib("text_to_num").alpha2digit(text, "es")
    except Exception:  # text2num is strict about some inputs; words are then left as they are
        return text


def understand(text: str, *, now: datetime | None = None) -> Reply:
    """Tokenise, lemmatise and mark negation, dates, durations and amounts."""
    original = text or ""
    normalised = _normalise_numbers(original)
    found = list(_TOKEN.finditer(normalised.lower()))
    raw_tokens = [m.group(0) for m in found]
    spans: list[tuple[int, int]] = []  # where each kept token is in the normalised text (for quoting sentences)
    tokens: list[Token] = []
    sentences: list[tuple[int, int]] = []
    questions: set[int] = set()
    sentence, start, negation_left = 0, 0, 0
    spans_pending = (0, 0)
    for m, raw in zip(found, raw_tokens):
        spans.extend([spans_pending] * (len(tokens) - len(spans)))
        spans_pending = (m.start(), m.end())
        if raw in ",:":  # a comma closes a negation's scope: «no, te lo devolvemos» is not a refusal; a colon too
            tokens.append(Token(raw, raw, sentence, kind="punct"))
            negation_left = 0
            continue
        if raw in ".;!?\n¡¿":
            if raw == "¿":
                questions.add(sentence)
            if raw in ".;!?\n":
                if raw == "?":
                    questions.add(sentence)
                tokens.append(Token(raw, raw, sentence, kind="punct"))
                sentences.append((start, len(tokens)))
                sentence, start, negation_left = sentence + 1, len(tokens), 0
            continue
        surface = fold(raw)
        if "@" in raw[1:] or raw.startswith("http"):  # an address is one word
            tokens.append(Token(surface, surface, sentence))
            negation_left = max(0, negation_left - 1)
            continue
        if raw[0].isdigit():
            tokens.append(Token(surface.replace(",", "."), surface, sentence, kind="num"))
            negation_left = max(0, negation_left - 1)
            continue
        if raw in "€$":
            tokens.append(Token(raw, raw, sentence, kind="word"))
            continue
        lem = lemma(raw.lstrip("#@")) if raw[0] not in "#@" else surface
        token = Token(surface, lem, sentence, negated=negation_left > 0)
        if surface in CLAUSE_BREAKS and surface not in NEGATORS:
            negation_left = 0
            token.negated = False
        elif surface in NEGATORS:
            negation_left = NEGATION_REACH
        elif surface == "que" and negation_left > 0:
            negation_left = 12  # «no hace falta que…», «no creo que…»: the whole subordinate clause
        else:
            negation_left = max(0, negation_left - 1)
        tokens.append(token)
    spans.extend([spans_pending] * (len(tokens) - len(spans)))
    if start < len(tokens):
        sentences.append((start, len(tokens)))
    reply = Reply(original, tokens, sentences, questions, set(), set(), set())
    reply.normalised, reply.spans = normalised, spans
    _mark_quantities(reply)
    _mark_dates(reply, normalised, now)
    return reply


def _mark_quantities(reply: Reply) -> None:
    tokens = reply.tokens
    for i, token in enumerate(tokens):
        if token.kind != "num":
            continue
        following = tokens[i + 1].surface if i + 1 < len(tokens) else ""
        after_next = tokens[i + 2].surface if i + 2 < len(tokens) else ""
        previous = tokens[i - 1].surface if i else ""
        if ":" in token.surface or following in UNITS or (following in ("o", "a", "y") and after_next.isdigit()):
            reply.durations.add(i)
            if following in UNITS:
                reply.durations.add(i + 1)
        if following in CURRENCY or previous in CURRENCY:
            reply.money.add(i)
        if following == "h" or token.surface.endswith("h"):
            reply.durations.add(i)


_MONTH_RE = "|".join(MONTHS)
_WEEKDAY_RE = r"lunes|martes|miercoles|jueves|viernes|sabado|domingo"
#: the date expressions a reply writes: «12 de marzo (de 2026)», «marzo», «el lunes 12», «12/03(/2026)» (folded text)
_DATE_EXPRESSION = re.compile(
    r"\b(?:(?:" + _WEEKDAY_RE + r"),?\s+)?(?:\d{1,2}\s+(?:de\s+)?)?(?:" + _MONTH_RE + r")\b(?:\s+(?:de\s+|del\s+)?\d{4}\b)?"
    r"|\b(?:" + _WEEKDAY_RE + r"),?\s+(?:dia\s+)?\d{1,2}\b(?![:.,/]\d)"
    r"|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b")


@lru_cache(maxsize=4096)
def _regex_date_spans(text: str, base: datetime | None = None) -> tuple[str, ...]:
    """The date expressions of ``text`` (folded), read by pattern: a span with a month, a weekday and its day, or a d/m
    date. (dateparser's search found the same spans here at tens of milliseconds per window, so it is not used.)"""
    return tuple(m.group(0) for m in _DATE_EXPRESSION.finditer(fold(text)))


_DATE_HINT_TEXT = re.compile(r"\b(" + "|".join(MONTHS) + r"|lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bado|domingo|hoy|ma[nñ]ana)\b"
                             r"|\d{1,2}/\d{1,2}", re.IGNORECASE)
_DATE_WINDOW = 24
_NEEDS_PARSER = re.compile(r"\b(" + "|".join(MONTHS) + r")\b|\d{1,2}/\d{1,2}|\d", re.IGNORECASE)
_RELATIVE = re.compile(r"\b(hoy|ma[nñ]ana|lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bado|domingo)\b", re.IGNORECASE)


def _date_windows(text: str) -> list[str]:
    """The stretches of text around a month, a weekday, «hoy», «mañana» or a d/m date: only those are read for dates."""
    spans: list[list[int]] = []
    for hit in _DATE_HINT_TEXT.finditer(text):
        start, end = max(0, hit.start() - _DATE_WINDOW), min(len(text), hit.end() + _DATE_WINDOW)
        if spans and start <= spans[-1][1]:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return [text[a:b] for a, b in spans]


def _mark_dates(reply: Reply, text: str, now: datetime | None) -> None:
    windows = _date_windows(text)
    if not windows:
        return
    surfaces = [t.surface for t in reply.tokens]
    # «hoy», «mañana» and a weekday on their own are dates; the windows with a month or a number are read by pattern
    relative = {fold(w) for w in _RELATIVE.findall(text)}
    for i, surface in enumerate(surfaces):
        if surface in relative and not (surface == "manana" and i and surfaces[i - 1] == "la" and i + 1 < len(surfaces)
                                         and surfaces[i + 1] in ("de", ",", ".")):
            reply.dates.add(i)
    for span in (span for window in windows if _NEEDS_PARSER.search(window) for span in _regex_date_spans(window, now)):
        words = [fold(w) for w in _TOKEN.findall(span) if w not in "¿¡"]
        words = [w.replace(",", ".") for w in words]
        if not words or not any(w in MONTHS or w in WEEKDAYS or w in RELATIVE_DAYS or "/" in w for w in words):
            continue
        n = len(words)
        for i in range(len(surfaces) - n + 1):
            if surfaces[i:i + n] == words:
                reply.dates.update(range(i, i + n))


# Patterns ---------------------------------------------------------------------------------------------------------

SPECIAL = ("#num", "#money", "#date", "#when", "#email", "#q", "...")


@dataclass(frozen=True)
class Term:
    options: tuple[str, ...]     # folded words or lemmas; «word*» is a prefix
    special: str | None = None   # #num | #money | #date | #when | #email
    negative: bool = False       # the term is a negator itself («no»): the pattern is about a negation


@dataclass(frozen=True)
class Pattern:
    source: str
    terms: tuple[Term, ...]
    gaps: tuple[int, ...]        # the most words allowed before each term (the first: 0)
    question: bool               # the sentence must ask (#q)
    has_negator: bool


class PatternError(ValueError):
    pass


@lru_cache(maxsize=20_000)
def compile_pattern(source: str) -> Pattern:
    """``"reembolso|devolver ... #when"``: terms in order within one sentence; ``a|b`` alternatives (words or lemmas,
    accents and case ignored), ``pref*`` a prefix, ``...`` any number of words between, otherwise at most 3;
    ``#num`` a number, ``#money`` an amount, ``#date`` a date, ``#when`` a date, a time or a duration, ``#email`` an
    e-mail address (name@domain.tld, one word), ``#q`` anywhere: the sentence asks something."""
    if not isinstance(source, str) or not source.strip():
        raise PatternError("a pattern must be a non-empty string")
    terms, gaps, gap, question = [], [], 0, False
    for chunk in source.split():
        chunk = fold(chunk)
        if chunk == "#q":
            question = True
            continue
        if chunk == "...":
            gap = 60
            continue
        if chunk.startswith("#"):
            if chunk not in SPECIAL:
                raise PatternError(f"unknown marker {chunk!r} (use {', '.join(s for s in SPECIAL if s != '...')})")
            terms.append(Term((), special=chunk))
        else:
            options = tuple(o for o in chunk.split("|") if o)
            if not options or any(not re.fullmatch(r"=?[a-z0-9ñ]+(?:\.[0-9]+)?\*?", o) for o in options):
                raise PatternError(f"bad term {chunk!r}: words separated by |, a trailing * for a prefix, a leading = for this exact form")
            normalised = tuple(o if o.endswith("*") or o.isdigit() else o for o in options)
            terms.append(Term(normalised, negative=any(o in NEGATORS for o in options)))
        gaps.append(0 if len(terms) == 1 else (gap or DEFAULT_GAP))
        gap = 0
    if not terms:
        raise PatternError("a pattern needs at least one term besides #q")
    return Pattern(source, tuple(terms), tuple(gaps), question, any(t.negative for t in terms))


def _positions(reply: Reply, term: Term) -> list[int]:
    key = term
    cached = reply._terms.get(key)
    if cached is not None:
        return cached
    tokens = reply.tokens
    if term.special == "#num":
        out = [i for i, t in enumerate(tokens) if t.kind == "num"]
    elif term.special == "#money":
        out = sorted(reply.money)
    elif term.special == "#date":
        out = sorted(reply.dates)
    elif term.special == "#when":
        out = sorted(reply.dates | reply.durations)
    elif term.special == "#email":
        out = [i for i, t in enumerate(tokens) if _ADDRESS.fullmatch(t.surface)]
    else:
        by_surface, by_lemma = _index(reply)
        surface_words, lemma_words = reply._terms["__sorted__"]
        prefixes, exact, plain = _term_plan(term)
        out = []
        for prefix in prefixes:
            for index, words in ((by_surface, surface_words), (by_lemma, lemma_words)):
                at = bisect_left(words, prefix)
                while at < len(words) and words[at].startswith(prefix):
                    out += index[words[at]]
                    at += 1
        for word in exact:
            out += by_surface.get(word, ())
        fuzzy_needed = []
        for option, option_lemma, fuzzy in plain:
            # a short word stands for itself: «se» is not «le» though both lemmatise to «él», «fue» is not «es»
            hits = by_surface.get(option, ()), by_lemma.get(option, ()), by_lemma.get(option_lemma, ()) if len(option) > 3 else ()
            if any(hits):
                for h in hits:
                    out += h
            elif fuzzy:
                fuzzy_needed.append(option)
        if fuzzy_needed:
            initials = _vocabulary_by_initial(reply)
            for option in fuzzy_needed:
                candidates = initials.get(option[0])
                if not candidates:
                    continue  # a typo keeps the first letter: no word of the reply starts like the option
                for word, _score, _n in _lib("rapidfuzz.process").extract(option, candidates, scorer=_lib("rapidfuzz.fuzz").ratio, score_cutoff=_FUZZY_SCORE, limit=3):
                    if len(word) >= _FUZZY_MIN and abs(len(word) - len(option)) <= 1:
                        out += by_surface.get(word, ())
        out = sorted(set(out))
    reply._terms[key] = out
    return out


@lru_cache(maxsize=20_000)
def understand_cached(text: str) -> Reply:
    """:func:`understand` of a text read again and again (what the customer said), read once."""
    return _understood(text)


@lru_cache(maxsize=512)
def _understood(text: str) -> Reply:
    return understand(text)


@lru_cache(maxsize=20_000)
def _option_lemma(option: str) -> str:
    return lemma(option)


def _index(reply: Reply) -> tuple[dict, dict]:
    """{surface: positions} and {lemma: positions} of the reply's words (built once per reply)."""
    cached = reply._terms.get("__index__")
    if cached is None:
        by_surface: dict[str, list[int]] = {}
        by_lemma: dict[str, list[int]] = {}
        for i, t in enumerate(reply.tokens):
            if t.kind == "punct":
                continue
            by_surface.setdefault(t.surface, []).append(i)
            if t.lemma != t.surface:
                by_lemma.setdefault(t.lemma, []).append(i)
        cached = reply._terms["__index__"] = (by_surface, by_lemma)
        reply._terms["__sorted__"] = (sorted(by_surface), sorted(by_lemma))  # prefix terms look words up by bisection
    return cached


@lru_cache(maxsize=20_000)
def _term_plan(term: Term) -> tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, str, bool], ...]]:
    """A term's options sorted once: prefixes, exact forms, and plain words with their lemma and whether a typo of them
    is looked for."""
    prefixes = tuple(o[:-1] for o in term.options if o.endswith("*"))
    exact = tuple(o[1:] for o in term.options if o.startswith("=") and not o.endswith("*"))
    plain = tuple((o, _option_lemma(o), len(o) >= _FUZZY_MIN) for o in term.options if not o.endswith("*") and not o.startswith("="))
    return prefixes, exact, plain


def _vocabulary_by_initial(reply: Reply) -> dict[str, list[str]]:
    """The reply's words of at least :data:`_FUZZY_MIN` letters, by first letter (the candidates of a typo)."""
    cached = reply._terms.get("__initials__")
    if cached is None:
        cached = {}
        for word in _vocabulary(reply):
            cached.setdefault(word[0], []).append(word)
        reply._terms["__initials__"] = cached
    return cached


def _vocabulary(reply: Reply) -> list[str]:
    if reply._vocabulary is None:
        reply._vocabulary = sorted({t.surface for t in reply.tokens if t.kind == "word" and len(t.surface) >= _FUZZY_MIN})
    return reply._vocabulary


@dataclass
class Match:
    pattern: str
    positions: tuple[int, ...]
    sentence: int

    def quote(self, reply: Reply) -> str:
        return sentence_text(reply, self.sentence)


def find(reply: Reply, pattern: Pattern | str, *, sentence: int | None = None) -> Match | None:
    """The first match of the pattern not under a negation (unless the pattern itself says «no»); ``sentence``: only
    in that sentence."""
    if isinstance(pattern, str):
        pattern = compile_pattern(pattern)
    candidate_lists = [_positions(reply, term) for term in pattern.terms]
    if any(not c for c in candidate_lists):
        return None
    for first in candidate_lists[0]:
        token = reply.tokens[first]
        if sentence is not None and token.sentence != sentence:
            continue
        if pattern.question and token.sentence not in reply.questions:
            continue
        if token.negated and not pattern.has_negator and pattern.terms[0].special is None:
            continue
        chain = _extend(reply, pattern, candidate_lists, 1, [first])
        if chain:
            return Match(pattern.source, tuple(chain), token.sentence)
    return None


def _extend(reply, pattern, candidates, index, chain):
    if index == len(pattern.terms):
        return chain
    last = chain[-1]
    sentence = reply.tokens[last].sentence
    limit = pattern.gaps[index]
    words_between = 0
    for position in candidates[index]:
        if position <= last:
            continue
        token = reply.tokens[position]
        if token.sentence != sentence:
            break
        words_between = sum(1 for t in reply.tokens[last + 1:position] if t.kind != "punct")
        if words_between > limit:
            break
        if token.negated and not pattern.has_negator and pattern.terms[index].special is None:
            continue
        found = _extend(reply, pattern, candidates, index + 1, chain + [position])
        if found:
            return found
    return None


def sentence_text(reply: Reply, sentence: int) -> str:
    """The sentence as written (numbers in words given as digits), for quoting a reply as evidence."""
    if not reply.sentences or not 0 <= sentence < len(reply.sentences):
        return reply.text.strip()[:300]
    first, last = reply.sentences[sentence]
    words = [i for i in range(first, last) if reply.tokens[i].kind != "punct" or reply.tokens[i].surface in "?!."]
    if not words or not reply.spans:
        return reply.text.strip()[:300]
    start, end = reply.spans[words[0]][0], reply.spans[words[-1]][1]
    if start and reply.normalised[start - 1] in "¿¡":
        start -= 1
    quote = " ".join(reply.normalised[start:end].split()).strip(" -*")
    return quote[:300]


def similarity(a: str, b: str) -> float:
    """How alike two replies are (0..100), on folded text: a repeat is ≥ 90."""
    return _lib("rapidfuzz.fuzz").token_sort_ratio(fold(a), fold(b))
