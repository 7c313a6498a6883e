"""GIFT, Aiken and Moodle XML files uploaded into a bank become a draft bank (to review and publish)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.authoring import services, tree
from lms.authoring.models import Draft
from lms.content.export import dump_yaml
from lms.content.files import ContentFileError, parse_yaml, plain
from lms.core.errors import DomainError
from lms.quizzes.formats import ImportReport, detect_format, read_questions
from lms.quizzes.formats.gift import slugify
from lms.quizzes.models import Question, QuestionBank

FORMATS = ("auto", "gift", "aiken", "moodle_xml")
#: the largest question file accepted (Moodle exports of a whole course stay well under this)
MAX_BYTES = 2 * 1024 * 1024


def decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_upload(filename: str, text: str, fmt: str) -> tuple[str, ImportReport]:
    if fmt == "auto":
        fmt = "moodle_xml" if filename.lower().endswith(".xml") or text.lstrip().startswith("<?xml") or "<quiz>" in text[:2000] \
            else detect_format(filename, text)
    if fmt == "moodle_xml":
        from lms.authoring import moodle_xml

        return fmt, moodle_xml.parse(text)
    return fmt, read_questions(text, fmt)


def bank_path(slug: str) -> str:
    return f"quizzes/banks/{slug}.yaml"


def start_import(session: Session, *, report: ImportReport, fmt: str, filename: str, bank: str, title: str,
                 skip_invalid: bool, author, now, published: dict[str, str]) -> Draft:
    """A draft bank: the imported questions added to the bank ``bank`` (a new one if it does not exist)."""
    if not report.questions:
        raise DomainError(_l("El archivo no tiene ninguna pregunta que se pueda importar."))
    if report.errors and not skip_invalid:
        raise DomainError(_l("Hay preguntas que no se pueden leer: corrige el archivo o marca «omitir las preguntas no válidas»."))
    slug = slugify(bank or report.category_slug or filename.rsplit(".", 1)[0], "importado")
    row = session.scalar(select(QuestionBank).where(QuestionBank.slug == slug, QuestionBank.is_archived.is_(False)))
    path = row.source_path if row else bank_path(slug)
    if services.open_draft(session, "bank", slug):
        raise DomainError(_l("Ya hay un borrador abierto de este banco: termínalo o retíralo antes de importar otra vez."))
    base_text = published.get(path) if row else None
    data = plain(parse_yaml(base_text, path)) if base_text else {"id": slug, "title": title or report.category or slug, "questions": []}
    taken = set(session.scalars(select(Question.slug))) | {q.get("id") for q in data["questions"]}
    for question in report.questions:
        qid, n = question["id"], 2
        while qid in taken:
            qid, n = f"{question['id']}-{n}", n + 1
        taken.add(qid)
        data["questions"].append(question | {"id": qid})
    options = {"skip_invalid": skip_invalid, "import": {
        "format": fmt, "filename": filename[:200], "count": len(report.questions),
        # importer messages are translated when shown (lazy): stored as the uploader read them
        "errors": [[line, str(message)] for line, message in report.errors],
        "notes": [[line, str(message)] for line, message in report.notes][:200]}}
    return services.start_draft(session, kind="bank", slug=slug, path=path, title=data["title"], text=dump_yaml(data),
                                base_text=base_text, author=author, now=now, options=options)


def question_spans(text: str, path: str) -> list[tuple[str, int, int]]:
    """(question id, first line, last line) of each question of a bank file's text."""
    try:
        data = parse_yaml(text, path)
    except ContentFileError:
        return []
    questions = data.get("questions") if isinstance(data, dict) else None
    starts = list(getattr(questions, "item_lines", []) or [])
    total = text.count("\n") + 1
    return [(str(q.get("id")) if isinstance(q, dict) else "?", start, (starts[i + 1] - 1) if i + 1 < len(starts) else total)
            for i, (q, start) in enumerate(zip(questions or [], starts))]


def invalid_questions(errors, text: str, path: str) -> dict[str, list[str]]:
    """Question id → the problems ``content check`` found inside it."""
    spans = question_spans(text, path)
    bad: dict[str, list[str]] = {}
    for error in errors:
        if error.path != path:
            continue
        for qid, first, last in spans:
            if first <= error.line <= last:
                bad.setdefault(qid, []).append(error.message)
    return bad


def drop_questions(text: str, path: str, ids) -> str:
    data = plain(parse_yaml(text, path))
    data["questions"] = [q for q in data.get("questions") or [] if str(q.get("id")) not in set(ids)]
    return dump_yaml(data)


def without_invalid(session: Session, draft: Draft, published: dict[str, str] | None = None) -> tuple[str, list[dict], list]:
    """The bank text with every question that ``content check`` refuses left out, what was left out, and the
    problems outside the questions (one check: leaving a question out cannot make another one invalid)."""
    errors = tree.check_files(session, {draft.path: draft.text}, published)
    bad = invalid_questions(errors, draft.text, draft.path)
    spans = {qid: (first, last) for qid, first, last in question_spans(draft.text, draft.path)}
    rest = [e for e in errors if not (e.path == draft.path and any(first <= e.line <= last for qid, (first, last) in spans.items() if qid in bad))]
    text = drop_questions(draft.text, draft.path, bad) if bad else draft.text
    return text, [{"id": qid, "messages": messages} for qid, messages in bad.items()], rest


def cite_all(text: str, path: str, ref: str, quote: str) -> tuple[str, int]:
    """Give ``{ref, quote}`` to every question of the bank text that has no citation yet."""
    data = plain(parse_yaml(text, path))
    n = 0
    for question in data.get("questions") or []:
        if isinstance(question, dict) and not question.get("sources"):
            question["sources"] = [{"ref": ref, "quote": quote}]
            n += 1
    return dump_yaml(data), n
