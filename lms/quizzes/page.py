"""The attempt page as an agent reads it, again and again: after every auto-save, on every reload.

One statement reads the attempt, its quiz's title and its slots as plain rows (no ORM objects); each question's
content comes from the per-process version cache (:mod:`lms.quizzes.versions`) and its whole HTML from the
fragment cache (``versions.FRAGMENTS``), keyed by what the HTML depends on (:func:`page_views`). When every
question is cached, :func:`cached_questions_html` gives the list's HTML without a template.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache

from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import Text, bindparam, cast, select
from sqlalchemy.orm import Session

from lms.core.db import Direct
from lms.core.errors import NotFound
from lms.quizzes import versions
from lms.quizzes.models import AttemptSlot, QuestionVersion, Quiz, QuizAttempt


_as_stored = versions.as_stored


#: the attempt, its quiz's title and its slots (an outer join: an attempt without slots still has its row), the
#: layout and answer as their stored JSON text, decoded only for a question rendered; the two moments as stored (the
#: attempt's deadline is repeated on every row, and each version's creation time is one of a few recurring values)
_PAGE = (select(QuizAttempt.id.label("attempt_id"), QuizAttempt.user_id, QuizAttempt.state,
                _as_stored(QuizAttempt.deadline_at), QuizAttempt.number.label("attempt_number"),
                Quiz.title.label("quiz_title"), AttemptSlot.position, AttemptSlot.points,
                cast(AttemptSlot.layout, Text).label("layout_json"), cast(AttemptSlot.answer, Text).label("answer_json"),
                *versions.KEY_COLUMNS[:-1], _as_stored(versions.KEY_COLUMNS[-1]))
         .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
         .outerjoin(AttemptSlot, AttemptSlot.attempt_id == QuizAttempt.id)
         .outerjoin(QuestionVersion, QuestionVersion.id == AttemptSlot.question_version_id)
         .where(QuizAttempt.id == bindparam("b_attempt_id")).order_by(AttemptSlot.position))


_PAGE_DIRECT = Direct(_PAGE)


class PageSlot:
    """A slot as the attempt page reads it: plain values, its layout and answer as their stored JSON text, decoded
    only when a question is rendered (not when its HTML comes from the cache). What the page's templates read of
    an :class:`AttemptSlot` (position, points, layout, answer) it has too."""

    __slots__ = ("position", "points", "layout_json", "answer_json", "__dict__")

    def __init__(self, position: int, points: float, layout_json: str | None, answer_json: str | None):
        self.position, self.points, self.layout_json, self.answer_json = position, points, layout_json, answer_json

    @cached_property
    def layout(self) -> dict:
        return json.loads(self.layout_json) if self.layout_json else {}

    @cached_property
    def answer(self) -> dict | None:
        return json.loads(self.answer_json) if self.answer_json else None


@dataclass
class PageView(versions.Shown):
    """One question of the attempt page: its slot, its version (data and text) and the key of its rendered HTML."""

    slot: PageSlot
    version: versions.CachedVersion
    fragment_key: tuple
    number: int


@dataclass
class QuizTitle:
    title: str


@dataclass
class AttemptPage:
    """What the page shows of an attempt (and what its checks read: owner, state, deadline), with its questions: the
    keys of their rendered HTML (:data:`versions.FRAGMENTS`), and their views, made only when one must be rendered."""

    id: int
    user_id: int
    state: str
    deadline_at: datetime | None
    number: int
    quiz: QuizTitle
    #: the fragment key of each question, in order
    keys: list[tuple]
    #: how many questions have an answer saved
    answered: int
    _rows: list = field(default_factory=list, repr=False)
    _cached: dict = field(default_factory=dict, repr=False)

    def views(self) -> list[PageView]:
        return [PageView(PageSlot(row[_POSITION], row[_POINTS], row[_LAYOUT], row[_ANSWER]), self._cached[row[_VERSION]], key, n)
                for n, (row, key) in enumerate(zip(self._rows, self.keys), start=1)]


#: the columns of a row of _PAGE
_POSITION, _POINTS, _LAYOUT, _ANSWER, _VERSION, _HASH, _CREATED = range(6, 13)


_converted, _moment = versions.converted, versions.moment


@lru_cache(maxsize=4096)
def _has_answer(answer_json: str) -> bool:
    """Whether a saved answer (its JSON text) counts as answered; the same texts recur across agents (a choice, a
    number), so each is decoded once."""
    return bool(json.loads(answer_json))


def attempt_page(session: Session, attempt_id: int, *, locale: str) -> AttemptPage:
    """The attempt and its questions as its page shows them, in one statement (two when a question's content is not
    in the version cache yet). Raises NotFound for an attempt that does not exist."""
    # on the driver's cursor, not the ORM's or Core's execution: plain rows need none of their per-row machinery
    connection = session.connection()
    rows = _PAGE_DIRECT.all(connection, {"b_attempt_id": attempt_id})
    if not rows:
        raise NotFound(_("Ese intento no existe."))
    first = rows[0]
    if first[_POSITION] is None:  # no slots (outer join)
        rows = []
    dialect = connection.dialect
    cached = versions.resolve(session, ((row[_VERSION], row[_HASH], _moment(dialect, row[_CREATED])) for row in rows))
    keys = [(cached[row[_VERSION]].key, row[_LAYOUT], row[_ANSWER], row[_POSITION], str(row[_POINTS]), n, locale)
            for n, row in enumerate(rows, start=1)]
    answered = sum(1 for row in rows if row[_ANSWER] and _has_answer(row[_ANSWER]))
    deadline = None if first[3] is None else _converted(dialect, first[3])
    return AttemptPage(first[0], first[1], first[2], deadline, first[4], QuizTitle(first[5]), keys, answered, rows, cached)


def cached_questions_html(keys: list[tuple]) -> Markup | None:
    """The questions' HTML when every one is in the fragment cache (the page's template renders the others)."""
    parts = versions.FRAGMENTS.get_all(keys)
    # the fragments are Markup already (rendered by the template): joined as they are
    return None if parts is None else escape("").join(parts)
