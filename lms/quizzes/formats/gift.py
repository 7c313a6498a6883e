"""GIFT (Moodle's "General Import Format Technology") import and export.

Covers every question form Moodle's GIFT reader accepts: categories, titles, text
formats ([html] [markdown] [plain] [moodle]), escapes, per-answer and general
feedback, weights (negative too), multiple choice with one or several answers,
missing word, true/false in every spelling, short answer (wildcards), matching,
numeric (value:tolerance, min..max ranges, several answers), essay, and
descriptions (which are not questions and are reported).
"""
from __future__ import annotations

import html
import re
import unicodedata

from flask_babel import lazy_gettext as _l

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
#: Moodle's answer weight: %50%, %-100%, %33.33333%
_WEIGHT = re.compile(r"^%(-*\d+(?:\.\d*)?)%")
#: what PHP's is_numeric accepts (the test Moodle applies to a numerical answer), without hex or spaces inside
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False, "V": True, "VERDADERO": True, "FALSO": False}


def slugify(text: str, fallback: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60].strip("-")
    return slug or fallback


def _blocks(text: str):
    """Question blocks with the line they start on: blank lines separate questions, as in Moodle (a question
    never holds a blank line, so an unclosed '{' spoils only its own question)."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    block, start = [], 1
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            if block:
                yield start, block
                block = []
            continue
        if not block:
            start = number
        block.append(line)
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
        except GiftError as exc:
            report.errors.append((line_no, exc.message))
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
            report.notes.append((line_no, _l("la pregunta «%(id)s» no tiene cita: añade sus «sources» antes de sincronizar", id=qid)))
        if category and "category" not in question:
            question.setdefault("tags", [])
            cat_tag = slugify(category.split("/")[-1], "")
            if cat_tag and cat_tag not in question["tags"]:
                question["tags"].append(cat_tag)
        report.questions.append(question)
    return report


class GiftError(ValueError):
    """A question Moodle would refuse too; ``message`` is translatable (shown in the trainer's language)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


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


def _pieces(inner: str, separator: str) -> list[str]:
    """Moodle's explode on a separator, dropping an empty first piece."""
    pieces = inner.split(separator)
    if pieces and not pieces[0].strip():
        pieces = pieces[1:]
    return [p.strip() for p in pieces]


def _weight(text: str) -> tuple[float | None, str]:
    match = _WEIGHT.match(text.strip())
    if not match:
        return None, text.strip()
    raw = match.group(1)
    value = float(raw.lstrip("-") or 0) * (-1 if raw.startswith("-") else 1)
    return value, text.strip()[match.end():]


def _formatted(text: str, default: str | None) -> tuple[str, str | None]:
    """Moodle's parse_text_with_format: a leading [html]/[markdown]/[plain]/[moodle] sets the format."""
    text = text.strip()
    fmt = default
    match = _FORMAT.match(text)
    if match:
        fmt, text = match.group(1).lower(), text[match.end():]
    text = _clean(text)
    if fmt == "html":
        text = html.unescape(_TAG.sub("", text)).strip()
    return text, fmt


def _comment(text: str, fmt: str | None) -> tuple[str, str | None]:
    """Moodle's commentparser: 'answer#feedback' split at the first '#' (feedback None when empty)."""
    answer, sep, feedback = text.partition("#")
    feedback_text = _formatted(feedback, fmt)[0] if sep else ""
    return _formatted(answer, fmt)[0], feedback_text or None


def _number(value: float):
    return int(value) if float(value).is_integer() else value


def _parse_question(body: str, line_no: int, report: ImportReport) -> dict | None:
    text = _protect(body)
    title = None
    if text.startswith("::"):
        end = text.find("::", 2)
        if end != -1:  # Moodle: an unclosed title is part of the text
            title, text = _clean(text[2:end]), text[end + 2:].strip()
    open_at, close_at = text.find("{"), text.find("}")
    if open_at == -1 and close_at == -1:
        report.notes.append((line_no, _l("una descripción (texto sin respuestas) no es una pregunta: se omite")))
        return None
    if open_at == -1 or close_at < open_at:
        raise GiftError(_l("el bloque de respuestas no se cierra con «}»"))
    before, inner, after = text[:open_at].strip(), text[open_at + 1:close_at], text[close_at + 1:].strip()
    if "{" in after or "}" in after:
        raise GiftError(_l("hay más de un bloque de respuestas «{…}» en una pregunta"))
    if after and not re.search(r"\w", _restore(after)) and not re.fullmatch(r"[.,;:!?)»]+", _restore(after)):
        report.notes.append((line_no, _l("se ignoran los caracteres sueltos «%(chars)s» tras el bloque de respuestas", chars=_restore(after))))
        after = ""
    general = None
    if "####" in inner:
        inner, _, general = inner.rpartition("####")
    question_text, fmt = _formatted(before, None)
    if after:  # missing word: the answers stand where the blank is
        rest = _formatted(after, fmt)[0]
        question_text = f"{question_text} _____{'' if re.match(r'[.,;:!?)»]', rest) else ' '}{rest}".strip()
    if fmt == "html":
        report.notes.append((line_no, _l("el texto [html] se ha convertido en texto sin formato")))
    if general is not None:
        general = _formatted(general, fmt)[0] or None
    if not question_text:
        raise GiftError(_l("la pregunta no tiene texto"))
    question = {"_title": title or "", "text": question_text}
    stripped = inner.strip()

    # The type, in the order Moodle decides it.
    if not stripped:
        question |= {"type": "essay", "guidance": "Corregir según la rúbrica del formador."}
    elif stripped.startswith("#"):
        question |= _numeric(stripped[1:], fmt, line_no, report)
    elif "~" in stripped:
        question |= _choices(stripped, fmt, line_no, report)
    elif "=" in stripped and "->" in stripped:
        question |= _matching(stripped, fmt)
    elif stripped.partition("#")[0].strip().upper() in _TRUE_FALSE:
        question |= _true_false(stripped, fmt)
    else:
        question |= _short_answer(stripped, fmt, line_no, report)
    question["explanation"] = general or "Sin explicación en el archivo importado."
    if not general:
        report.notes.append((line_no, _l("no hay comentario general (####…): añade una explicación")))
    return question


def _true_false(inner: str, fmt: str | None) -> dict:
    value, *feedbacks = inner.split("#", 2)
    out = {"type": "true_false", "answer": _TRUE_FALSE[value.strip().upper()]}
    wrong = _formatted(feedbacks[0], fmt)[0] if feedbacks else ""
    right = _formatted(feedbacks[1], fmt)[0] if len(feedbacks) > 1 else ""
    if right:
        out["feedback_right"] = right
    if wrong:
        out["feedback_wrong"] = wrong
    return out


def _matching(inner: str, fmt: str | None) -> dict:
    pairs, distractors = [], []
    for answer in _pieces(inner, "="):
        if "->" not in answer:
            raise GiftError(_l("en una pregunta de emparejar cada respuesta es «=elemento -> pareja»"))
        left, _, right = answer.partition("->")
        left_text, right_text = _formatted(left, fmt)[0], _clean(right)
        if left_text:
            pairs.append({"left": left_text, "right": right_text})
        else:
            distractors.append(right_text)
    if len(pairs) < 2:
        raise GiftError(_l("una pregunta de emparejar necesita al menos 2 parejas"))
    out = {"type": "matching", "pairs": pairs}
    if distractors:
        out["distractors"] = distractors
    return out


def _choices(inner: str, fmt: str | None, line_no: int, report: ImportReport) -> dict:
    single = "=" in inner  # Moodle: one answer allowed when some answer is marked '='
    answers = _pieces(inner.replace("=", "~="), "~")
    if len(answers) < 2:
        raise GiftError(_l("una pregunta de opciones necesita al menos 2 respuestas"))
    choices, weights = [], []
    for answer in answers:
        if answer.startswith("="):
            weight, rest = 100.0, answer[1:]
        else:
            weight, rest = _weight(answer)
            weight = weight or 0.0
        value, feedback = _comment(rest, fmt)
        choice = {"text": value}
        if feedback:
            choice["feedback"] = feedback
        choices.append(choice)
        weights.append(weight)
    if not any(w > 0 for w in weights):
        raise GiftError(_l("no hay respuesta correcta (marca una con «=» o con un peso positivo)"))
    if single:
        best = weights.index(max(weights))
        for index, (choice, weight) in enumerate(zip(choices, weights)):
            if index == best:
                choice["correct"] = True
                if weight != 100:
                    choice["credit"] = _number(weight)
            elif weight:
                choice["credit"] = _number(weight)
        return {"type": "single_choice", "choices": choices}
    right = [w for w in weights if w > 0]
    wrong = [w for w in weights if w <= 0]
    # The weights this site's own rule gives (each right choice 100/C, each wrong one -100/W) need no credits.
    plain_rule = (all(abs(w - 100 / len(right)) < 1e-3 for w in right)
                  and all(abs(w + 100 / len(wrong)) < 1e-3 for w in wrong))
    for choice, weight in zip(choices, weights):
        if weight > 0:
            choice["correct"] = True
        if not plain_rule and weight:
            choice["credit"] = _number(weight)
    return {"type": "multiple_choice", "choices": choices}


def _catch_all(value: str) -> bool:
    return value.strip() == "*"


def _short_answer(inner: str, fmt: str | None, line_no: int, report: ImportReport) -> dict:
    graded, wrong_feedback = [], None
    for answer in _pieces(inner, "="):
        weight, rest = _weight(answer)
        weight = 100.0 if weight is None else weight
        value, feedback = _comment(rest, fmt)
        if not value:
            continue
        if _catch_all(value) and weight <= 0:  # Moodle's =%0%*#…: the feedback for any other answer
            wrong_feedback = feedback or wrong_feedback
            continue
        if weight < 0:
            report.notes.append((line_no, _l("la respuesta corta «%(value)s» con peso %(weight)s%% cuenta como 0%%", value=value, weight=_pct(weight))))
            weight = 0.0
        graded.append({"text": value, "credit": _number(weight), **({"feedback": feedback} if feedback else {})})
    full = [g["text"] for g in graded if g["credit"] == 100]
    if not full:
        raise GiftError(_l("una pregunta de respuesta corta necesita al menos una respuesta que valga el 100 %"))
    out = {"type": "short_text", "answers": full}
    if any(g["credit"] != 100 or g.get("feedback") for g in graded):
        out["graded_answers"] = graded
    if wrong_feedback:
        out["wrong_feedback"] = wrong_feedback
    return out


def _numeric(inner: str, fmt: str | None, line_no: int, report: ImportReport) -> dict:
    wrong_feedback = None
    if "~" in inner:  # Moodle: what follows '~' is the feedback for any other number
        inner, _, wrong = inner.partition("~")
        wrong_feedback = _comment(wrong, fmt)[1]
    pieces = _pieces(inner, "=")
    if not pieces:
        raise GiftError(_l("una pregunta numérica necesita al menos una respuesta"))
    graded = []
    for answer in pieces:
        weight, rest = _weight(answer)
        weight = 100.0 if weight is None else weight
        value, feedback = _comment(rest, fmt)
        if _catch_all(value):
            wrong_feedback = feedback or wrong_feedback
            continue
        marker = value.find("..", 1)  # Moodle: min..max
        if marker > 0:
            low, high = value[:marker].strip(), value[marker + 2:].strip()
            if not (_NUMBER.match(low) and _NUMBER.match(high)):
                raise GiftError(_l("«%(value)s» no es una respuesta numérica (escribe 3.14:0.01 o 1..5)", value=value))
            low_f, high_f = float(low), float(high)
            center, tolerance = round((low_f + high_f) / 2, 10), round(abs(high_f - low_f) / 2, 10)
        else:
            number, _, tol = value.partition(":")
            if not _NUMBER.match(number.strip()) or (tol and not _NUMBER.match(tol.strip())):
                raise GiftError(_l("«%(value)s» no es una respuesta numérica (escribe 3.14:0.01 o 1..5)", value=value))
            center, tolerance = float(number), abs(float(tol or 0))
        if weight < 0:
            report.notes.append((line_no, _l("la respuesta numérica «%(value)s» con peso %(weight)s%% cuenta como 0%%", value=value, weight=_pct(weight))))
            weight = 0.0
        graded.append({"answer": _number(center), "tolerance": _number(tolerance), "credit": _number(weight),
                       **({"feedback": feedback} if feedback else {})})
    key = next((g for g in graded if g["credit"] == 100), None)
    if key is None:
        raise GiftError(_l("una pregunta numérica necesita una respuesta que valga el 100 %"))
    out = {"type": "numeric", "answer": key["answer"], "tolerance": key["tolerance"]}
    if len(graded) > 1 or key.get("feedback"):
        out["graded_answers"] = graded
    if wrong_feedback:
        out["wrong_feedback"] = wrong_feedback
    return out


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


def _fb(text) -> str:
    return f"#{escape(text)}" if text else ""


def _export_choice(c: dict, marker: str) -> str:
    return marker + escape(c["text"]) + _fb(c.get("feedback"))


def _export_question(q: dict) -> list[str] | None:
    t = q["type"]
    title = f"::{escape(q['id'])}::"
    text = escape(q["text"].strip())
    general = f"####{escape(q['explanation'].strip())}" if q.get("explanation") else ""
    if t in ("single_choice", "multiple_choice"):
        if t == "single_choice":
            answers = [_export_choice(c, "=" if c.get("correct") or c.get("credit") == 100
                                      else f"~%{_pct(c['credit'])}%" if c.get("credit") else "~") for c in q["choices"]]
        elif any("credit" in c for c in q["choices"]):
            answers = [_export_choice(c, f"~%{_pct(c.get('credit', 0))}%" if c.get("credit") else "~") for c in q["choices"]]
        else:
            right = [c for c in q["choices"] if c.get("correct")]
            wrong = [c for c in q["choices"] if not c.get("correct")]
            answers = [_export_choice(c, f"~%{_pct(100 / len(right))}%") for c in right]
            answers += [_export_choice(c, f"~%-{_pct(100 / len(wrong))}%") for c in wrong]
        body = "{\n" + "\n".join(f"\t{a}" for a in answers) + (f"\n\t{general}" if general else "") + "\n}"
    elif t == "true_false":
        feedback = ""
        if q.get("feedback_wrong") or q.get("feedback_right"):
            feedback = "#" + escape(q.get("feedback_wrong") or "") + _fb(q.get("feedback_right"))
        body = "{" + ("TRUE" if q["answer"] else "FALSE") + feedback + general + "}"
    elif t == "short_text":
        if q.get("graded_answers"):
            answers = [f"=%{_pct(g['credit'])}%{escape(g['text'])}{_fb(g.get('feedback'))}" for g in q["graded_answers"]]
        else:
            answers = [f"={escape(a)}" for a in q["answers"]]
        if q.get("wrong_feedback"):
            answers.append(f"=%0%*{_fb(q['wrong_feedback'])}")
        body = "{" + " ".join(answers) + general + "}"
    elif t == "numeric":
        if q.get("graded_answers"):
            answers = [f"=%{_pct(g['credit'])}%{g['answer']}:{g.get('tolerance', 0) or 0}{_fb(g.get('feedback'))}"
                       for g in q["graded_answers"]]
            body = "{#" + " ".join(answers)
        else:
            body = "{#" + f"{q['answer']}:{q.get('tolerance', 0) or 0}"
        if q.get("wrong_feedback"):
            body += f" ~{_fb(q['wrong_feedback'])}"
        body += general + "}"
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
