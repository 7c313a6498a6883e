"""Loads ``quizzes/banks/*.yaml`` and ``quizzes/*.yaml`` (spec: quizzes/README.md)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.content import Problems, SyncReport
from lms.content.walk import yaml_files
from lms.content.impact import StoredCitation, citations_of
from lms.content.schema import Field, check_id, item_line, non_empty_text, non_negative_int, positive_int, validate_mapping
from lms.quizzes.models import Question, QuestionBank, QuestionVersion, Quiz
from lms.quizzes.question_types import COMMON_FIELDS, REGISTRY, plain
from lms.reference.parsing import numbers_in
from lms.reference.services import check_citations

BANK_FIELDS = [Field("id", str, check=check_id), Field("title", str, check=non_empty_text), Field("questions", list)]
REVIEW_WHEN = ("immediately", "after_close", "never")
QUIZ_FIELDS = [
    Field("id", str, check=check_id),
    Field("title", str, check=non_empty_text),
    Field("description", str, required=False),
    Field("module", str, required=False, check=check_id),
    Field("day", int, required=False, check=non_negative_int),
    Field("draw", list),
    Field("shuffle_questions", bool, required=False),
    Field("shuffle_choices", bool, required=False),
    Field("time_limit_minutes", int, required=False, check=positive_int),
    Field("attempts_allowed", int, required=False, check=positive_int),
    Field("delay_between_attempts_minutes", int, required=False, check=non_negative_int),
    Field("pass_mark", (int, float), check=lambda v: None if 0 < v <= 100 else "must be a percentage between 1 and 100"),
    Field("grade_method", str, required=False, check=lambda v: None if v in ("highest", "last", "average") else "must be highest, last or average"),
    Field("review", dict, required=False),
]
DRAW_FIELDS = [
    Field("questions", list, required=False),
    Field("bank", str, required=False, check=check_id),
    Field("count", int, required=False, check=positive_int),
    Field("tags", list, required=False),
]
REVIEW_FIELDS = [
    Field(name, str, required=False, check=lambda v: None if v in REVIEW_WHEN else f"must be one of {', '.join(REVIEW_WHEN)}")
    for name in ("score", "correct_answers", "explanations")
]


def _hash(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


@dataclass
class CQuestion:
    slug: str
    bank: str
    path: str
    line: int
    type: str
    tags: list[str]
    data: dict

    def digest(self) -> str:
        return _hash(self.data)


@dataclass
class CBank:
    slug: str
    path: str
    title: str
    questions: list[str] = field(default_factory=list)


@dataclass
class CQuiz:
    slug: str
    path: str
    line: int
    title: str
    description: str
    module: str | None
    day: int | None
    module_line: int
    settings: dict

    def digest(self) -> str:
        return _hash([self.title, self.description, self.module, self.day, self.settings])


@dataclass
class Collected:
    banks: dict[str, CBank]
    questions: dict[str, CQuestion]
    quizzes: dict[str, CQuiz]


def check_key_numbers(problems: Problems, path: str, line: int, qid: str, key_texts: list[str], sources: list[dict]) -> None:
    """Every number stated in the key must be in one of the question's cited quotes."""
    quoted = {_canonical(n) for s in sources for n in numbers_in(s["quote"])}
    for text in key_texts:
        for number in numbers_in(text):
            if _canonical(number) not in quoted:
                problems.add(path, line, f"question {qid!r}: the key states {number} but no cited quote says {number} "
                                         f"(key: {text!r}); cite the passage it comes from or correct the key")


def _canonical(number: str) -> str:
    value = number.replace(",", ".")
    try:
        as_float = float(value)
    except ValueError:
        return number
    return str(int(as_float)) if as_float.is_integer() else str(as_float)


class QuizzesLoader:
    name = "quizzes"
    depends_on = ("reference", "roleplays")

    def collect(self, root: Path, collected, problems: Problems) -> Collected:
        reference = collected["reference"]
        rubric_ids = set(getattr(collected.get("roleplays"), "rubrics", {}) or {})
        banks, questions = self._collect_banks(root, problems, reference, rubric_ids)
        quizzes = self._collect_quizzes(root, problems, banks, questions)
        return Collected(banks, questions, quizzes)

    def _collect_banks(self, root, problems, reference, rubric_ids):
        banks: dict[str, CBank] = {}
        questions: dict[str, CQuestion] = {}
        for _path, display, data in yaml_files(root, "quizzes/banks/*.yaml", BANK_FIELDS, problems):
            if data["id"] in banks:
                problems.add(display, data.line_of("id"), f"duplicate bank id {data['id']!r} (also in {banks[data['id']].path})")
                continue
            bank = banks[data["id"]] = CBank(data["id"], display, data["title"])
            for index, q in enumerate(data["questions"]):
                line = item_line(data["questions"], index, data.line_of("questions"))
                question = self._collect_question(q, display, line, problems, reference, rubric_ids)
                if question is None:
                    continue
                if question.slug in questions:
                    problems.add(display, line, f"duplicate question id {question.slug!r} (also in {questions[question.slug].path})")
                    continue
                question.bank = bank.slug
                questions[question.slug] = question
                bank.questions.append(question.slug)
        return banks, questions

    def _collect_question(self, q, path, line, problems, reference, rubric_ids) -> CQuestion | None:
        if not isinstance(q, dict):
            problems.add(path, line, "a question must be a mapping of fields")
            return None
        kind = REGISTRY.get(q.get("type"))
        if kind is None:
            problems.add(path, getattr(q, "line_of", lambda k: line)("type"),
                         f"question {q.get('id')!r}: unknown type {q.get('type')!r} (known: {', '.join(sorted(REGISTRY))})")
            return None
        errors = validate_mapping(q, COMMON_FIELDS + kind.fields, path, line, what=f"question {q.get('id')!r}")
        if errors:
            problems.extend(errors)
            return None
        id_problem = check_id(q["id"])
        if id_problem:
            problems.add(path, q.line_of("id"), f"question id {id_problem}")
            return None
        before = len(problems)
        kind.validate(q, path, problems)
        sources = check_citations(problems, path, q["sources"], q.line_of("sources"), reference)
        if len(problems) > before:
            return None
        if q.get("rubric") and q["rubric"] not in rubric_ids:
            problems.add(path, q.line_of("rubric"), f"question {q['id']!r}: unknown rubric {q['rubric']!r}")
        check_key_numbers(problems, path, q.line, q["id"], kind.key_texts(q), sources)
        tags = [str(t) for t in q.get("tags") or []]
        data = plain(q)
        data["sources"] = sources
        data["points"] = q.get("points", 1)
        data["tags"] = tags
        return CQuestion(q["id"], "", path, q.line, q["type"], tags, data)

    def _collect_quizzes(self, root, problems, banks, questions) -> dict[str, CQuiz]:
        quizzes: dict[str, CQuiz] = {}
        for _path, display, data in yaml_files(root, "quizzes/*.yaml", QUIZ_FIELDS, problems):
            if ("module" in data) != ("day" in data):
                problems.add(display, data.line, "'module' and 'day' go together: the quiz is due 'day' days after the module opens")
            review = data.get("review") or {}
            if review:
                problems.extend(validate_mapping(review, REVIEW_FIELDS, display, data.line_of("review"), what="review"))
            draw = self._check_draw(data, display, problems, banks, questions)
            if data["id"] in quizzes:
                problems.add(display, data.line_of("id"), f"duplicate quiz id {data['id']!r} (also in {quizzes[data['id']].path})")
                continue
            settings = {
                "draw": draw,
                "shuffle_questions": data.get("shuffle_questions", True),
                "shuffle_choices": data.get("shuffle_choices", True),
                "time_limit_minutes": data.get("time_limit_minutes"),
                "attempts_allowed": data.get("attempts_allowed"),
                "delay_between_attempts_minutes": data.get("delay_between_attempts_minutes"),
                "pass_mark": data["pass_mark"],
                "grade_method": data.get("grade_method", "highest"),
                "review": {"score": "immediately", "correct_answers": "after_close", "explanations": "immediately"} | plain(review),
            }
            quizzes[data["id"]] = CQuiz(data["id"], display, data.line, data["title"], data.get("description") or "",
                                        data.get("module"), data.get("day"), data.line_of("module"), settings)
        return quizzes

    def _check_draw(self, data, path, problems, banks, questions) -> list[dict]:
        rules = []
        used: set[str] = set()
        for index, rule in enumerate(data["draw"]):
            line = item_line(data["draw"], index, data.line_of("draw"))
            errors = validate_mapping(rule, DRAW_FIELDS, path, line, what=f"draw[{index + 1}]")
            if errors:
                problems.extend(errors)
                continue
            rule = {key: value for key, value in rule.items() if value is not None}  # "count:" with no value = no count
            if "questions" in rule:
                if "bank" in rule or "count" in rule or "tags" in rule:
                    problems.add(path, line, f"draw[{index + 1}]: use either 'questions' or 'bank' with 'count', not both")
                    continue
                for qid in rule["questions"]:
                    if qid not in questions:
                        problems.add(path, line, f"draw[{index + 1}]: unknown question {qid!r}")
                    elif qid in used:
                        problems.add(path, line, f"draw[{index + 1}]: question {qid!r} is drawn twice")
                    used.add(qid)
                rules.append({"questions": [str(q) for q in rule["questions"]]})
                continue
            if "bank" not in rule or "count" not in rule:
                problems.add(path, line, f"draw[{index + 1}]: needs 'questions', or 'bank' and 'count'")
                continue
            bank = banks.get(rule["bank"])
            if bank is None:
                problems.add(path, line, f"draw[{index + 1}]: unknown bank {rule['bank']!r}")
                continue
            tags = [str(t) for t in rule.get("tags") or []]
            pool = [qid for qid in bank.questions if set(tags) <= set(questions[qid].tags) and qid not in used]
            if len(pool) < rule["count"]:
                problems.add(path, line, f"draw[{index + 1}]: wants {rule['count']} questions but bank {bank.slug!r} has only {len(pool)}"
                             + (f" with tags {tags}" if tags else ""))
            rules.append({"bank": bank.slug, "count": rule["count"], "tags": tags})
        if not rules and not any(p.path == path for p in problems):
            problems.add(path, data.line_of("draw"), "'draw' must have at least one rule")
        return rules

    # -- revision impact -----------------------------------------------------
    def stored_citations(self, session: Session) -> list[StoredCitation]:
        rows = session.execute(
            select(Question.slug, QuestionVersion.data)
            .join(QuestionVersion, (QuestionVersion.question_id == Question.id) & (QuestionVersion.version == Question.current_version))
            .where(Question.is_archived.is_(False))
        )
        return [c for slug, data in rows for c in citations_of("question", slug, data.get("sources"))]

    # -- writing ---------------------------------------------------------------
    def sync(self, session: Session, items: Collected, collected, report: SyncReport) -> None:
        banks = {b.slug: b for b in session.scalars(select(QuestionBank))}
        for slug, item in items.banks.items():
            row = banks.get(slug)
            if row is None:
                row = banks[slug] = QuestionBank(slug=slug, title=item.title, source_path=item.path, is_archived=False)
                session.add(row)
                report.count("created", "question banks")
            elif (row.title, row.source_path, row.is_archived) != (item.title, item.path, False):
                row.title, row.source_path, row.is_archived = item.title, item.path, False
                report.count("updated", "question banks")
        for slug, row in banks.items():
            if slug not in items.banks and not row.is_archived:
                row.is_archived = True
                report.count("archived", "question banks")
        session.flush()

        existing = {q.slug: q for q in session.scalars(select(Question))}
        latest = {
            question_id: content_hash
            for question_id, content_hash in session.execute(
                select(QuestionVersion.question_id, QuestionVersion.content_hash)
                .join(Question, Question.id == QuestionVersion.question_id)
                .where(QuestionVersion.version == Question.current_version)
            )
        }
        for bank in items.banks.values():
            for position, slug in enumerate(bank.questions):
                item = items.questions[slug]
                digest = item.digest()
                row = existing.get(slug)
                if row is None:
                    row = Question(slug=slug, bank_id=banks[bank.slug].id, position=position, type=item.type, tags=item.tags,
                                   current_version=1, is_archived=False)
                    row.versions.append(QuestionVersion(version=1, data=item.data, content_hash=digest))
                    session.add(row)
                    report.count("created", "questions")
                    continue
                changed = False
                if latest.get(row.id) != digest:
                    row.current_version += 1
                    session.add(QuestionVersion(question_id=row.id, version=row.current_version, data=item.data, content_hash=digest))
                    report.count("updated", "questions")
                    changed = True
                placement = (banks[bank.slug].id, position, item.type, item.tags, False)
                if (row.bank_id, row.position, row.type, row.tags, row.is_archived) != placement:
                    if row.is_archived:
                        report.count("restored", "questions")
                    elif not changed:
                        report.count("updated", "questions")
                    row.bank_id, row.position, row.type, row.tags, row.is_archived = placement
        for slug, row in existing.items():
            if slug not in items.questions and not row.is_archived:
                row.is_archived = True
                report.count("archived", "questions")

        quizzes = {q.slug: q for q in session.scalars(select(Quiz))}
        for slug, item in items.quizzes.items():
            row = quizzes.get(slug)
            digest = item.digest()
            if row is None:
                row = Quiz(slug=slug)
                session.add(row)
                report.count("created", "quizzes")
            elif row.content_hash == digest and not row.is_archived and row.source_path == item.path:
                continue
            else:
                report.count("restored" if row.is_archived else "updated", "quizzes")
            row.title, row.description, row.module_slug, row.day = item.title, item.description, item.module, item.day
            row.settings, row.source_path, row.content_hash, row.is_archived = item.settings, item.path, digest, False
        for slug, row in quizzes.items():
            if slug not in items.quizzes and not row.is_archived:
                row.is_archived = True
                report.count("archived", "quizzes")
