"""GIFT (Moodle's "General Import Format Technology") import and export.

Covers every question form Moodle's GIFT reader accepts: categories, titles, text
formats ([html] [markdown] [plain] [moodle]), escapes, per-answer and general
feedback, weights (negative too), multiple choice with one or several answers,
missing word, true/false in every spelling, short answer (wildcards), matching,
numeric (value:tolerance, min..max ranges, several answers), essay, and
descriptions (which are not questions and are reported).
"""
from __future__ import annotations

import re
import unicodedata

from lms.quizzes.formats import ImportReport

SOURCE_COMMENT = "// lms-source: "
ID_COMMENT = "// lms-id: "
TAGS_COMMENT = "// lms-tags: "
SPECIAL = "~=#{}:"


# Escaping ---------------------------------------------------------------------------

def escape(text: str) -> str:
    text = str(text).replace("\\", "\\\\")
    for ch in SPECIAL:
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", "\\n")


_PLACEHOLDERS = {"\\" + ch: f"\x00{ord(ch)}\x00" for ch in SPECIAL}
_PLACEHOLDERS["\\\\"] = "\x00backslash\x00"
_PLACEHOLDERS["\\n"] = "\x00newline\x00"


def _protect(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        pair = text[i:i + 2]
        if pair in _PLACEHOLDERS:
            out.append(_PLACEHOLDERS[pair])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _restore(text: str) -> str:
    for raw, placeholder in _PLACEHOLDERS.items():
        value = "\n" if raw == "\\n" else raw[1]
        text = text.replace(placeholder, value)
    return text


def _clean(text: str) -> str:
    return _restore(text).strip()


# Import ----------------------------------------------------------------------------------

_FORMAT = re.compile(r"^\[(html|markdown|plain|moodle)\]", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


def slugify(text: str, fallback: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60].strip("-")
    return slug or fallback


def _blocks(text: str):
    """Question blocks with the line they start on (blank lines separate questions)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    block, start, depth = [], 1, 0
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        protected = _protect(line)
        if not stripped and depth == 0:
            if block:
                yield start, block
                block = []
            continue
        if not block:
            start = number
        block.append(line)
        depth += protected.count("{") - protected.count("}")
        depth = max(depth, 0)
    if block:
        yield start, block


def parse(text: str) -> ImportReport:
    report = ImportReport()
    category = None
    used_ids: set[str] = set()
    for line_no, block in _blocks(text):
        comments = [line.strip() for line in block if line.strip().startswith("//")]
        body_lines = [line for line in block if not line.strip().startswith("//")]
        if not body_lines:
            continue
        body = "\n".join(body_lines).strip()
        if body.startswith("$CATEGORY:"):
            category = body[len("$CATEGORY:"):].strip()
            report.category = report.category or category
            continue
        try:
            question = _parse_question(body, line_no, report)
        except ValueError as exc:
            report.errors.append((line_no, str(exc)))
            continue
        if question is None:
            continue
        meta = _read_comments(comments)
        qid = meta.get("id") or slugify(question.pop("_title", "") or question["text"][:50], f"pregunta-{line_no}")
        question.pop("_title", None)
        base, n = qid, 2
        while qid in used_ids:
            qid, n = f"{base}-{n}", n + 1
        used_ids.add(qid)
        question = {"id": qid, **question}
        if meta.get("tags"):
            question["tags"] = meta["tags"]
        if meta.get("sources"):
            question["sources"] = meta["sources"]
        else:
            question["sources"] = []
            report.notes.append((line_no, f"question {qid!r} has no citation: add its 'sources' before syncing"))
        if category and "category" not in question:
            question.setdefault("tags", [])
            cat_tag = slugify(category.split("/")[-1], "")
            if cat_tag and cat_tag not in question["tags"]:
                question["tags"].append(cat_tag)
        report.questions.append(question)
    return report


def _read_comments(comments: list[str]) -> dict:
    meta: dict = {"sources": []}
    for comment in comments:
        if comment.startswith(ID_COMMENT):
            meta["id"] = comment[len(ID_COMMENT):].strip()
        elif comment.startswith(TAGS_COMMENT):
            meta["tags"] = [t.strip() for t in comment[len(TAGS_COMMENT):].split(",") if t.strip()]
        elif comment.startswith(SOURCE_COMMENT):
            ref, _, quote = comment[len(SOURCE_COMMENT):].partition(" | ")
            if ref.strip() and quote.strip():
                meta["sources"].append({"ref": ref.strip(), "quote": _restore(_protect(quote.strip()))})
    return meta


def _split_answers(inner: str) -> list[tuple[str, str]]:
    """Split protected answer text into (marker, text) pairs; marker is '=' or '~'."""
    parts, current, marker = [], [], None
    for ch in inner:
        if ch in "=~":
            if marker is not None or "".join(current).strip():
                parts.append((marker, "".join(current)))
            marker, current = ch, []
        else:
            current.append(ch)
    if marker is not None or "".join(current).strip():
        parts.append((marker, "".join(current)))
    return parts


_WEIGHT = re.compile(r"^%(-?\d+(?:\.\d+)?)%")


def _weight(text: str) -> tuple[float | None, str]:
    match = _WEIGHT.match(text.strip())
    if not match:
        return None, text.strip()
    return float(match.group(1)), text.strip()[match.end():]


def _feedback(text: str) -> tuple[str, str | None]:
    answer, sep, feedback = text.partition("#")
    return answer.strip(), (_clean(feedback) if sep and feedback.strip() else None)


def _parse_question(body: str, line_no: int, report: ImportReport) -> dict | None:
    text = _protect(body)
    title = None
    if text.startswith("::"):
        end = text.find("::", 2)
        if end == -1:
            raise ValueError("the title is not closed by '::'")
        title, text = _clean(text[2:end]), text[end + 2:].strip()
    text_format = None
    match = _FORMAT.match(text)
    if match:
        text_format, text = match.group(1).lower(), text[match.end():].strip()
    open_at = text.find("{")
    if open_at == -1:
        report.notes.append((line_no, "a description (text with no answers) is not a question: skipped"))
        return None
    close_at = text.rfind("}")
    if close_at < open_at or text.count("{") != text.count("}"):
        raise ValueError("the answer block is not closed with '}'")
    if text.count("{") > 1:
        raise ValueError("more than one answer block '{…}' in one question")
    before, inner, after = text[:open_at].strip(), text[open_at + 1:close_at], text[close_at + 1:].strip()
    general = None
    if "####" in inner:
        inner, _, general = inner.partition("####")
        general = _clean(general) or None
    question_text = _clean(before)
    missing_word = bool(after)
    if missing_word:
        question_text = f"{question_text} _____ {_clean(after)}".strip()
    if text_format == "html":
        question_text = _TAG.sub("", question_text)
        report.notes.append((line_no, "[html] text converted to plain text"))
    if not question_text:
        raise ValueError("the question has no text")
    question = {"_title": title or "", "text": question_text}
    stripped = inner.strip()

    if not stripped:
        question |= {"type": "essay", "guidance": "Corregir según la rúbrica del formador."}
    elif stripped.upper().split("#")[0].strip() in ("T", "TRUE", "F", "FALSE", "V", "VERDADERO", "FALSO"):
        value, *feedbacks = stripped.split("#")
        question |= {"type": "true_false", "answer": value.strip().upper() in ("T", "TRUE", "V", "VERDADERO")}
        if len([f for f in feedbacks if f.strip()]) and not general:
            general = _clean(feedbacks[-1]) or None
    elif stripped.startswith("#"):
        question |= _numeric(stripped[1:], line_no, report)
    else:
        answers = _split_answers(stripped)
        if any(m is None for m, _ in answers):
            raise ValueError("answers must start with '=' or '~'")
        if all(m == "=" and "->" in a for m, a in answers):
            pairs, distractors = [], []
            for _, answer in answers:
                left, _, right = answer.partition("->")
                if _clean(left):
                    pairs.append({"left": _clean(left), "right": _clean(right)})
                else:
                    distractors.append(_clean(right))
            if len(pairs) < 2:
                raise ValueError("a matching question needs at least 2 pairs")
            question |= {"type": "matching", "pairs": pairs}
            if distractors:
                question["distractors"] = distractors
        elif all(m == "=" for m, _ in answers):
            accepted = []
            for _, answer in answers:
                weight, rest = _weight(answer)
                value, _fb = _feedback(rest)
                if weight is None or weight == 100:
                    accepted.append(_clean(value))
                else:
                    report.notes.append((line_no, f"short answer {_clean(value)!r} with weight {weight:g}% dropped: partial credit for short answers is not supported"))
            if not accepted:
                raise ValueError("a short-answer question needs at least one answer worth 100%")
            question |= {"type": "short_text", "answers": accepted}
        else:
            choices, weighted = [], False
            for marker, answer in answers:
                weight, rest = _weight(answer)
                value, fb = _feedback(rest)
                if weight is not None:
                    weighted = True
                correct = (weight > 0) if weight is not None else marker == "="
                choice = {"text": _clean(value), "correct": correct}
                if fb:
                    choice["feedback"] = fb
                choices.append(choice)
            n_correct = sum(c["correct"] for c in choices)
            if n_correct == 0:
                raise ValueError("no correct answer (mark one with '=' or a positive weight)")
            weights = [w for w in (_weight(a)[0] for _, a in answers) if w is not None]
            several = n_correct > 1 or any(w < 0 for w in weights) or any(0 < w < 100 for w in weights)
            if not several:
                question |= {"type": "single_choice", "choices": choices}
            else:
                question |= {"type": "multiple_choice", "choices": choices}
                if weighted:
                    report.notes.append((line_no, "answer weights converted to the multiple-answer rule (each right choice earns its share, each wrong one takes its share)"))
            for choice in choices:
                if not choice["correct"]:
                    choice.pop("correct")
    question["explanation"] = general or "Sin explicación en el archivo importado."
    if not general:
        report.notes.append((line_no, "no general feedback (####…): add an explanation"))
    return question


_RANGE = re.compile(r"^(-?\d+(?:\.\d+)?)\.\.(-?\d+(?:\.\d+)?)$")
_TOLERANCE = re.compile(r"^(-?\d+(?:\.\d+)?)(?::(\d+(?:\.\d+)?))?$")


def _numeric(inner: str, line_no: int, report: ImportReport) -> dict:
    answers = _split_answers(inner) if "=" in inner else [("=", inner)]
    best = None
    for _, answer in answers:
        if not answer.strip():
            continue
        weight, rest = _weight(answer)
        value, _fb = _feedback(rest)
        value = _clean(value)
        range_match, tolerance_match = _RANGE.match(value), _TOLERANCE.match(value)
        if range_match:
            low, high = float(range_match.group(1)), float(range_match.group(2))
            candidate = ((low + high) / 2, (high - low) / 2)
        elif tolerance_match:
            candidate = (float(tolerance_match.group(1)), float(tolerance_match.group(2) or 0))
        else:
            raise ValueError(f"not a numeric answer: {value!r} (use 3.14:0.01 or 1..5)")
        if weight is None or weight == 100:
            best = best or candidate
        else:
            report.notes.append((line_no, f"numeric answer {value!r} with weight {weight:g}% dropped: only the full-credit answer is kept"))
    if best is None:
        raise ValueError("a numeric question needs an answer worth 100%")
    answer, tolerance = best
    return {"type": "numeric", "answer": int(answer) if float(answer).is_integer() else answer,
            "tolerance": int(tolerance) if float(tolerance).is_integer() else tolerance}


# Export --------------------------------------------------------------------------------------

def export(questions: list[dict], category: str | None = None) -> tuple[str, list[str]]:
    """GIFT text for these questions, and the ids of those GIFT cannot express."""
    out, skipped = [], []
    if category:
        out += [f"$CATEGORY: {category}", ""]
    for q in questions:
        block = _export_question(q)
        if block is None:
            skipped.append(q["id"])
            continue
        out += block + [""]
    return "\n".join(out), skipped


def _comments(q: dict) -> list[str]:
    lines = [f"{ID_COMMENT}{q['id']}"]
    if q.get("tags"):
        lines.append(f"{TAGS_COMMENT}{', '.join(q['tags'])}")
    for source in q.get("sources", []):
        lines.append(f"{SOURCE_COMMENT}{source['ref']} | {source['quote']}")
    return lines


def _export_question(q: dict) -> list[str] | None:
    t = q["type"]
    title = f"::{escape(q['id'])}::"
    text = escape(q["text"].strip())
    general = f"####{escape(q['explanation'].strip())}" if q.get("explanation") else ""
    if t in ("single_choice", "multiple_choice"):
        if t == "single_choice":
            answers = [("=" if c.get("correct") else "~") + escape(c["text"]) + (f"#{escape(c['feedback'])}" if c.get("feedback") else "")
                       for c in q["choices"]]
        else:
            right = [c for c in q["choices"] if c.get("correct")]
            wrong = [c for c in q["choices"] if not c.get("correct")]
            answers = [f"~%{_pct(100 / len(right))}%{escape(c['text'])}" + (f"#{escape(c['feedback'])}" if c.get("feedback") else "") for c in right]
            answers += [f"~%-{_pct(100 / len(wrong))}%{escape(c['text'])}" + (f"#{escape(c['feedback'])}" if c.get("feedback") else "") for c in wrong]
        body = "{\n" + "\n".join(f"\t{a}" for a in answers) + (f"\n\t{general}" if general else "") + "\n}"
    elif t == "true_false":
        body = "{" + ("TRUE" if q["answer"] else "FALSE") + general + "}"
    elif t == "short_text":
        body = "{" + " ".join(f"={escape(a)}" for a in q["answers"]) + general + "}"
    elif t == "numeric":
        body = "{#" + f"{q['answer']}:{q.get('tolerance', 0) or 0}" + general + "}"
    elif t == "matching":
        pairs = [f"={escape(p['left'])} -> {escape(p['right'])}" for p in q["pairs"]]
        pairs += [f"= -> {escape(d)}" for d in q.get("distractors") or []]
        body = "{\n" + "\n".join(f"\t{p}" for p in pairs) + (f"\n\t{general}" if general else "") + "\n}"
    elif t == "essay":
        body = "{" + general + "}"
    else:
        return None  # ordering, calculated, scenario, escalation drills: GIFT has no form for them
    return _comments(q) + [f"{title}[markdown]{text} {body}"]


def _pct(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".")
