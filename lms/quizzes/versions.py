"""A bounded per-process cache of question versions, shared by the attempt page, answer saving and submission.

A question version is immutable: the content sync never updates one in place (a changed question gets a new
version row, see :mod:`lms.quizzes.loader`), so what is derived from it — its validated data, its question type
(parser and grader), its text per drawn numbers — can be kept for the life of the process. The key is the version's
id with its content hash and creation time, read with the attempt's slots in the same statement: an id alone could
be reused by another database (a test database rolled back and filled again, a restored backup), never with the
same three values and different content. The cache is bounded (least recently used out) and thread-safe.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Iterable

from markupsafe import Markup
from sqlalchemy import select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from lms.core.caches import BoundedCache
from lms.core.db import UTCDateTime
from lms.core.markdown import render_markdown, seed, stored_field
from lms.quizzes.models import AttemptSlot, QuestionVersion
from lms.quizzes.question_types import REGISTRY, QuestionType, number_text, placeholder, render_text

#: at most this many versions per process (a large organisation's banks hold a few thousand questions)
MAX_VERSIONS = 4096

Key = tuple[int, str, datetime | None]


@dataclass
class CachedVersion:
    """What every request needs of one question version; ``data`` must not be changed by its readers."""

    id: int
    data: dict
    kind: QuestionType
    #: (id, content hash, created_at): what identifies the content
    key: tuple = ()
    #: question text with the drawn numbers filled in, by the numbers (calculated questions), else under None
    texts: dict = field(default_factory=dict)
    #: the HTML of its Markdown, stored with the version (lms.core.markdown.keep_rendered), or None
    html: dict | None = None

    def markup(self, name: str, layout: dict | None = None) -> Markup:
        """A field's HTML (``text``, ``situation``, ``explanation``): the stored one, except for a text with drawn
        numbers (rendered with them) and HTML of another renderer."""
        values = (layout or {}).get("values") if name == "text" else None
        stored = stored_field(self.html, name)
        if stored is not None:
            for variable, value in (values or {}).items():  # numbers: nothing to escape
                stored = stored.replace(placeholder(variable), number_text(value))
            return Markup(stored)  # nosec B704  # sanitised by nh3 when the version was stored
        return render_markdown(self.text(layout) if values else self.data.get(name))

    def text(self, layout: dict | None) -> str:
        values = (layout or {}).get("values")
        key = None if not values else tuple(sorted(values.items()))
        text = self.texts.get(key)
        if text is None:
            text = render_text(self.data, layout or {})
            if len(self.texts) < 64:  # calculated questions draw new numbers per attempt: keep a few
                self.texts[key] = text
        return text


class Shown:
    """What the templates read of a question shown with its slot (``slot`` and ``version`` are the subclass's)."""

    slot: Any
    version: CachedVersion

    @property
    def data(self) -> dict:
        return self.version.data

    @property
    def text(self) -> str:
        return self.version.text(self.slot.layout)

    def html(self, name: str) -> Markup:
        """A field's HTML: ``text`` (with the drawn numbers), ``situation``, ``explanation``."""
        return self.version.markup(name, self.slot.layout)


class VersionCache(BoundedCache):
    """The versions by key (bounded, least recently used out); ``put`` takes a version's data and keeps its entry."""

    def __init__(self, maxsize: int = MAX_VERSIONS):
        super().__init__(maxsize)

    def put(self, key: Key, data: dict, html: dict | None = None) -> CachedVersion:  # type: ignore[override]
        seed(data.get("situation"), stored_field(html, "situation"))  # the answer inputs' template shows it with |markdown
        return super().put(key, CachedVersion(key[0], data, REGISTRY[data["type"]], key, html=html))


CACHE = VersionCache()

#: the columns that identify a version's content (read with the slots; the data only when not cached)
KEY_COLUMNS = (QuestionVersion.id, QuestionVersion.content_hash, QuestionVersion.created_at)


def as_stored(column):
    """A moment column read as the driver gives it (SQLite: text), converted by :func:`moment` only where used."""
    return type_coerce(column, NullType()).label(column.key)


@lru_cache(maxsize=8)
def _moment_processor(dialect):
    """What SQLAlchemy does to a stored moment of this database as it reads it (UTCDateTime's result processing)."""
    return UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)


def converted(dialect, stored):
    """A stored moment as a UTC datetime, as the column would have been read."""
    return _moment_processor(dialect)(stored)


@lru_cache(maxsize=4096)
def moment(dialect, stored):
    """:func:`converted`, kept: the versions' creation times recur on every read of an attempt's slots (20 conversions
    a read), and so do the moments of an attempt's answers saved together."""
    return None if stored is None else converted(dialect, stored)


def _key(row) -> Key:
    return (row.id, row.content_hash, row.created_at)


def resolve(session: Session, keys: Iterable[Key]) -> dict[int, CachedVersion]:
    """The cached versions for these keys by id, reading the data of those not cached yet in one statement."""
    found: dict[int, CachedVersion] = {}
    missing: dict[int, Key] = {}
    for key in keys:
        if key[0] in found or key[0] in missing:
            continue
        entry = CACHE.get(key)
        if entry is None:
            missing[key[0]] = key
        else:
            found[key[0]] = entry
    if missing:
        query = select(*KEY_COLUMNS, QuestionVersion.data, QuestionVersion.html).where(QuestionVersion.id.in_(list(missing)))
        for row in session.execute(query):
            found[row.id] = CACHE.put(_key(row), row.data, row.html)
    return found


def of_version(version: QuestionVersion) -> CachedVersion:
    """The cached entry of a loaded version row (its data is already in memory)."""
    key = (version.id, version.content_hash, version.created_at)
    return CACHE.get(key) or CACHE.put(key, version.data, version.html)


def version_of(slot: AttemptSlot) -> CachedVersion:
    """The version of a slot: the one attached when the attempt was read (:func:`attach`), or from its loaded row."""
    entry = slot.__dict__.get("_cached_version")
    if entry is None:
        entry = of_version(slot.question_version)
        slot.__dict__["_cached_version"] = entry
    return entry


def attach(slot: AttemptSlot, entry: CachedVersion) -> None:
    slot.__dict__["_cached_version"] = entry


#: whitespace with a line break between two tags: the templates' indentation and blank lines
_BETWEEN_TAGS = re.compile(r">\s*\n\s*<")


class FragmentCache(BoundedCache):
    """Questions' HTML, kept without the templates' indentation and blank lines between tags (about a seventh of a
    question's HTML): a line break stays, so the page renders the same. Text between tags is escaped (``&lt;``,
    ``&gt;``), so no ``<pre>`` or ``<textarea>`` content can match."""

    def put(self, key, value):  # type: ignore[override]
        return super().put(key, Markup(_BETWEEN_TAGS.sub(">\n<", str(value))))  # nosec B704  # only whitespace removed


#: a question's rendered HTML on the attempt page (its heading, text and answer inputs), by (version, layout, saved
#: answer, points, number, language): a pure function of those, so a page shown again (reloaded, re-opened after an
#: auto-save) renders no template for the questions whose answer did not change. 1,024 questions (about 1.2 MiB): the
#: pages of the last 50 attempts of 20 questions a worker showed
FRAGMENTS: FragmentCache = FragmentCache(1024)
