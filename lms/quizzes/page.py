"""The attempt page as an agent reads it, again and again: after every auto-save, on every reload.

One statement reads the attempt, its quiz's title and its slots as plain rows (no ORM objects); each question's
content comes from the per-process version cache (:mod:`lms.quizzes.versions`) and its whole HTML from the
fragment cache (``versions.FRAGMENTS``), keyed by what the HTML depends on (:func:`page_views`). When every
question is cached, :func:`cached_questions_html` gives the list's HTML without a template.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import Text, bindparam, cast, select
from sqlalchemy.orm import Session

from lms.core.errors import NotFound
from lms.quizzes import versions
from lms.quizzes.models import AttemptSlot, QuestionVersion, Quiz, QuizAttempt

#: the attempt, its quiz's title and its slots (an outer join: an attempt without slots still has its row), the
#: layout and answer as their stored JSON text, decoded only for a question rendered
_PAGE = (select(QuizAttempt.id.label("attempt_id"), QuizAttempt.user_id, QuizAttempt.state, QuizAttempt.deadline_at,
                QuizAttempt.number.label("attempt_number"), Quiz.title.label("quiz_title"),
                AttemptSlot.position, AttemptSlot.points, cast(AttemptSlot.layout, Text).label("layout_json"),
                cast(AttemptSlot.answer, Text).label("answer_json"), *versions.KEY_COLUMNS)
         .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
         .outerjoin(AttemptSlot, AttemptSlot.attempt_id == QuizAttempt.id)
         .outerjoin(QuestionVersion, QuestionVersion.id == AttemptSlot.question_version_id)
         .where(QuizAttempt.id == bindparam("b_attempt_id")).order_by(AttemptSlot.position))


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
class PageView:
    """One question of the attempt page: its slot, its version (data and text) and the key of its rendered HTML."""

    slot: PageSlot
    version: versions.CachedVersion
    fragment_key: tuple
    number: int

    @property
    def data(self) -> dict:
        return self.version.data

    @property
    def text(self) -> str:
        return self.version.text(self.slot.layout)


@dataclass
class QuizTitle:
    title: str


@dataclass
class AttemptPage:
    """What the page shows of an attempt (and what its checks read: owner, state, deadline), with its questions."""

    id: int
    user_id: int
    state: str
    deadline_at: datetime | None
    number: int
    quiz: QuizTitle
    views: list[PageView]

    @property
    def answered(self) -> int:
        return sum(1 for v in self.views if v.slot.answer_json and v.slot.answer)


def attempt_page(session: Session, attempt_id: int, *, locale: str) -> AttemptPage:
    """The attempt and its questions as its page shows them, in one statement (two when a question's content is not
    in the version cache yet). Raises NotFound for an attempt that does not exist."""
    # Core, not the ORM's execution: plain rows need none of its per-row machinery
    rows = session.connection().execute(_PAGE, {"b_attempt_id": attempt_id}).all()
    if not rows:
        raise NotFound(_("Ese intento no existe."))
    attempt_id, user_id, state, deadline_at, number, quiz_title = rows[0][:6]
    slots = [row[6:] for row in rows if row[6] is not None]  # position, points, layout, answer, version id, hash, created
    cached = versions.resolve(session, (row[4:] for row in slots))
    views = []
    for n, (position, points, layout_json, answer_json, version_id, _hash, _created) in enumerate(slots, start=1):
        entry = cached[version_id]
        key = (entry.key, layout_json, answer_json, position, str(points), n, locale)
        views.append(PageView(PageSlot(position, points, layout_json, answer_json), entry, key, n))
    return AttemptPage(attempt_id, user_id, state, deadline_at, number, QuizTitle(quiz_title), views)


def cached_questions_html(views: list[PageView]) -> Markup | None:
    """The questions' HTML when every one is in the fragment cache (the page's template renders the others)."""
    parts = []
    for view in views:
        html = versions.FRAGMENTS.get(view.fragment_key)
        if html is None:
            return None
        parts.append(html)
    return escape("").join(parts)  # the fragments are Markup already (rendered by the template): joined as they are
