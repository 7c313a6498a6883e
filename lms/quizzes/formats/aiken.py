"""Aiken: single-choice questions as plain text, as Moodle reads them.

    Question text (one or more lines)
    A. option
    B) option
    ANSWER: B
"""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from lms.quizzes.formats import ImportReport
from lms.quizzes.formats.gift import slugify

_OPTION = re.compile(r"^([A-Z])[.)]\s+(.*\S)\s*$")
_ANSWER = re.compile(r"^ANSWER:\s*([A-Z])\s*$")


def parse(text: str) -> ImportReport:
    report = ImportReport()
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    question_lines: list[str] = []
    options: list[tuple[str, str]] = []
    start = 1
    used: set[str] = set()

    def reset():
        question_lines.clear()
        options.clear()

    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            if question_lines and not options:
                continue  # blank lines inside the question text
            continue
        answer = _ANSWER.match(line)
        option = _OPTION.match(line)
        if answer:
            letter = answer.group(1)
            if not question_lines:
                report.errors.append((number, _l("línea ANSWER sin pregunta")))
            elif len(options) < 2:
                report.errors.append((start, _l("una pregunta necesita al menos dos opciones (A., B., …)")))
            elif letter not in [o[0] for o in options]:
                report.errors.append((number, _l("ANSWER %(letter)s no es una de las opciones", letter=letter)))
            elif [o[0] for o in options] != [chr(ord("A") + i) for i in range(len(options))]:
                report.errors.append((start, _l("las opciones deben ir con las letras A, B, C… en orden")))
            else:
                text = " ".join(question_lines)
                qid = slugify(text[:50], f"pregunta-{start}")
                base, n = qid, 2
                while qid in used:
                    qid, n = f"{base}-{n}", n + 1
                used.add(qid)
                choices = [{"text": t, **({"correct": True} if key == letter else {})} for key, t in options]
                report.questions.append({"id": qid, "type": "single_choice", "text": text, "choices": choices,
                                         "explanation": "Sin explicación en el archivo importado.", "sources": []})
                report.notes.append((start, _l("la pregunta «%(id)s» no tiene cita: añade sus «sources» y su «explanation» antes de sincronizar", id=qid)))
            reset()
            continue
        if option and question_lines:
            options.append((option.group(1), option.group(2)))
            continue
        if options:
            report.errors.append((start, _l("la pregunta no tiene una línea «ANSWER: X» tras sus opciones")))
            reset()
        if not question_lines:
            start = number
        question_lines.append(line)
    if question_lines:
        report.errors.append((start, _l("la última pregunta no tiene una línea «ANSWER: X»")))
    return report


def export(questions: list[dict]) -> tuple[str, list[str]]:
    """Aiken text for the single-choice questions (the only kind Aiken can express), and the ids skipped."""
    out, skipped = [], []
    for q in questions:
        if q["type"] != "single_choice" or len(q["choices"]) > 26 or "\n" in q["text"].strip():
            if q["type"] == "single_choice" and "\n" in q["text"].strip():
                out.append(" ".join(q["text"].split()))
            else:
                skipped.append(q["id"])
                continue
        else:
            out.append(q["text"].strip())
        letters = [chr(ord("A") + i) for i in range(len(q["choices"]))]
        out += [f"{letter}. {' '.join(str(c['text']).split())}" for letter, c in zip(letters, q["choices"])]
        out.append(f"ANSWER: {next(letter for letter, c in zip(letters, q['choices']) if c.get('correct'))}")
        out.append("")
    return "\n".join(out), skipped
