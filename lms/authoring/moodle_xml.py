"""Moodle XML question files (Moodle's own export format) read into the bank dictionaries of
``quizzes/banks/*.yaml``, with the same report as the GIFT and Aiken readers (errors by line, notes)."""
from __future__ import annotations

import re

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from lms.quizzes.formats import ImportReport
from lms.quizzes.formats.gift import slugify

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"[ \t]+")


def _plain(html: str | None) -> str:
    """Moodle stores HTML; the bank holds Markdown-ish plain text."""
    text = (html or "").replace("<br>", "\n").replace("<br/>", "\n").replace("<br />", "\n").replace("</p>", "\n")
    text = _TAG.sub("", text)
    for entity, char in (("&nbsp;", " "), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#39;", "'"), ("&amp;", "&")):
        text = text.replace(entity, char)
    return "\n".join(_SPACE.sub(" ", line).strip() for line in text.splitlines()).strip()


def _text(node, path: str) -> str:
    found = node.find(path)
    return _plain(found.text if found is not None else "")


def _fraction(answer) -> float:
    try:
        return float(answer.get("fraction", "0"))
    except ValueError:
        return 0.0


def parse(text: str) -> ImportReport:
    report = ImportReport()
    try:
        root = ElementTree.fromstring(text.encode("utf-8"))
    except DefusedXmlException:
        report.errors.append((1, "the file declares entities or a DTD, which are not accepted"))
        return report
    except ElementTree.ParseError as exc:
        line = getattr(exc, "position", (1, 0))[0]
        report.errors.append((line, f"not well-formed XML: {exc}"))
        return report
    if root.tag != "quiz":
        report.errors.append((1, "not a Moodle XML question file: the root element must be <quiz>"))
        return report
    lines = _question_lines(text)
    used: set[str] = set()
    for index, node in enumerate(root.findall("question")):
        line = lines[index] if index < len(lines) else 1
        kind = node.get("type", "")
        if kind == "category":
            category = _text(node, "category/text")
            report.category = report.category or category.removeprefix("$course$/").removeprefix("$system$/") or None
            continue
        if kind == "description":
            report.notes.append((line, "a description (text with no answers) is not a question: skipped"))
            continue
        try:
            question = _question(node, kind, line, report)
        except ValueError as exc:
            report.errors.append((line, str(exc)))
            continue
        name = _text(node, "name/text")
        qid = base = slugify(name or question["text"][:50], f"pregunta-{line}")
        n = 2
        while qid in used:
            qid, n = f"{base}-{n}", n + 1
        used.add(qid)
        general = _text(node, "generalfeedback/text")
        question = {"id": qid, **question, "explanation": general or "Sin explicación en el archivo importado."}
        if not general:
            report.notes.append((line, "no general feedback: add an explanation"))
        tags = [slugify(t.text or "", "") for t in node.findall("tags/tag/text")]
        if report.category:
            tags.append(slugify(report.category.split("/")[-1], ""))
        question["tags"] = [t for t in dict.fromkeys(tags) if t]
        question["sources"] = []
        report.notes.append((line, f"question {qid!r} has no citation: add its 'sources' before publishing"))
        report.questions.append(question)
    return report


def _question_lines(text: str) -> list[int]:
    return [text.count("\n", 0, m.start()) + 1 for m in re.finditer(r"<question\b", text)]


def _question(node, kind: str, line: int, report: ImportReport) -> dict:
    text = _text(node, "questiontext/text")
    if not text:
        raise ValueError("the question has no text")
    answers = node.findall("answer")
    if kind == "multichoice":
        choices = []
        for answer in answers:
            choice = {"text": _text(answer, "text")}
            if _fraction(answer) > 0:
                choice["correct"] = True
            feedback = _text(answer, "feedback/text")
            if feedback:
                choice["feedback"] = feedback
            choices.append(choice)
        if not any(c.get("correct") for c in choices):
            raise ValueError("no correct answer (no answer has a positive fraction)")
        single = (node.findtext("single") or "true").strip().lower() in ("true", "1")
        if any(0 < _fraction(a) < 100 or _fraction(a) < 0 for a in answers) and single:
            report.notes.append((line, "partial credit dropped: only the answers worth a positive fraction count as right"))
        return {"type": "single_choice" if single and sum(bool(c.get("correct")) for c in choices) == 1 else "multiple_choice",
                "text": text, "choices": choices}
    if kind == "truefalse":
        right = next((_text(a, "text").lower() for a in answers if _fraction(a) == 100), None)
        if right not in ("true", "false", "verdadero", "falso"):
            raise ValueError("a true/false question needs the answer 'true' or 'false' worth 100%")
        return {"type": "true_false", "text": text, "answer": right in ("true", "verdadero")}
    if kind == "shortanswer":
        accepted = [_text(a, "text") for a in answers if _fraction(a) == 100]
        if not accepted:
            raise ValueError("a short-answer question needs at least one answer worth 100%")
        return {"type": "short_text", "text": text, "answers": accepted}
    if kind == "numerical":
        best = next((a for a in answers if _fraction(a) == 100), None)
        if best is None:
            raise ValueError("a numeric question needs an answer worth 100%")
        try:
            value = float(_text(best, "text"))
            tolerance = float(best.findtext("tolerance") or 0)
        except ValueError:
            raise ValueError(f"not a number: {_text(best, 'text')!r}") from None
        return {"type": "numeric", "text": text, "answer": int(value) if value.is_integer() else value,
                "tolerance": int(tolerance) if tolerance.is_integer() else tolerance}
    if kind == "matching":
        pairs, distractors = [], []
        for sub in node.findall("subquestion"):
            left, right = _text(sub, "text"), _text(sub, "answer/text")
            if left:
                pairs.append({"left": left, "right": right})
            elif right:
                distractors.append(right)
        if len(pairs) < 2:
            raise ValueError("a matching question needs at least 2 pairs")
        return {"type": "matching", "text": text, "pairs": pairs, **({"distractors": distractors} if distractors else {})}
    if kind == "essay":
        return {"type": "essay", "text": text, "guidance": _text(node, "graderinfo/text") or "Corregir según la rúbrica del formador."}
    raise ValueError(f"question type {kind!r} is not supported (multichoice, truefalse, shortanswer, numerical, matching, essay)")
