"""Building form values for attempts, as a browser would send them."""
from __future__ import annotations

from lms.quizzes.simulate import answer_attempt, correct_values  # noqa: F401


def answer_all_correctly(attempt) -> dict[str, list[str]]:
    return answer_attempt(attempt, 1.0)


def drill_values(layout: dict, prefix: str) -> dict[str, list[str]]:
    return correct_values({"type": "escalation_drill"}, layout, prefix)


def make_quiz(session, slug: str, questions: list[dict], *, bank: str | None = None, review_all: bool = True):
    """A quiz whose attempts hold exactly ``questions`` (validated question dicts), in this order, stored as the
    content sync would store them (a bank, one version per question). Standalone: the caller starts attempts with
    ``may_take=True``."""
    from lms.quizzes.models import Question, QuestionBank, QuestionVersion, Quiz

    bank_row = QuestionBank(slug=bank or f"{slug}-banco", title=slug, source_path=f"tests/{slug}.yaml")
    session.add(bank_row)
    session.flush()
    for position, data in enumerate(questions):
        row = Question(slug=data["id"], bank_id=bank_row.id, position=position, type=data["type"], tags=[], current_version=1)
        row.versions.append(QuestionVersion(version=1, data=data, content_hash=f"{slug}-{position}"))
        session.add(row)
    return add_quiz(session, slug, [q["id"] for q in questions], review_all=review_all)


def add_quiz(session, slug: str, question_ids: list[str], *, review_all: bool = True):
    """A standalone quiz drawing these existing questions, in this order."""
    from lms.quizzes.models import Quiz

    when = "immediately" if review_all else "after_close"
    quiz = Quiz(slug=slug, title=f"Prueba {slug}", description="", module_slug=None, day=None, source_path=f"tests/{slug}.yaml",
                content_hash=slug, settings={
                    "draw": [{"questions": list(question_ids)}], "shuffle_questions": False, "shuffle_choices": True,
                    "time_limit_minutes": None, "attempts_allowed": None, "delay_between_attempts_minutes": None,
                    "pass_mark": 50, "grade_method": "highest",
                    "review": {"score": "immediately", "correct_answers": when, "explanations": "immediately"}})
    session.add(quiz)
    session.flush()
    return quiz
