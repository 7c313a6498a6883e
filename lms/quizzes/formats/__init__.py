"""Moodle's text formats for question banks: GIFT and Aiken (import and export).

Both convert to and from the bank dictionaries of ``quizzes/banks/*.yaml``.
Citations and explanations travel in GIFT as comments and general feedback, so
a bank exported and imported again is the same bank.
"""
from dataclasses import dataclass, field


@dataclass
class ImportReport:
    questions: list[dict] = field(default_factory=list)
    #: (line, message) for every question that could not be read
    errors: list[tuple[int, str]] = field(default_factory=list)
    #: (line, message) for what was read but changed in the conversion
    notes: list[tuple[int, str]] = field(default_factory=list)
    category: str | None = None

    @property
    def category_slug(self) -> str | None:
        from lms.quizzes.formats.gift import slugify

        return slugify(self.category.split("/")[-1], "") or None if self.category else None


def detect_format(filename: str, text: str) -> str:
    """GIFT or Aiken, from the extension, or from an 'ANSWER:' line with no braces."""
    if filename.lower().endswith(".gift"):
        return "gift"
    import re

    if re.search(r"^ANSWER:\s*[A-Z]\s*$", text, re.MULTILINE) and "{" not in text:
        return "aiken"
    return "gift"


def read_questions(text: str, fmt: str) -> ImportReport:
    from lms.quizzes.formats import aiken, gift

    return (gift if fmt == "gift" else aiken).parse(text)


def bank_yaml(bank_id: str, report: ImportReport, title: str | None = None) -> str:
    """The imported questions as a bank file (quizzes/banks/<id>.yaml)."""
    import yaml

    header = (
        "# Imported from a Moodle file. Before 'flask --app lms content sync', give every question\n"
        "# its 'sources' (citations of the handbook) and check its 'explanation'.\n"
    )
    data = {"id": bank_id, "title": title or report.category or bank_id, "questions": report.questions}
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
