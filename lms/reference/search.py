"""Spanish-aware full-text search over the reference, the lessons and the scenarios.

A small inverted index kept in two tables (the same on SQLite and PostgreSQL):
words are lower-cased, stemmed with the Snowball Spanish stemmer and stripped of
accents, so "quejas", "queja" and "Quejas" meet, and "facturacion" finds
"facturación".  Domains index their own documents through :func:`index_document`.
"""
from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lms.core.db import Base, UTCDateTime, utcnow


@functools.cache
def _stemmer():
    """The Spanish stemmer; snowballstemmer loads every language (~3 MiB), so only the first search or index does."""
    import snowballstemmer

    return snowballstemmer.stemmer("spanish")


_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    """a al algo como con contra cual cuando de del desde donde e el ella ellos en entre era es esa ese eso esta este
    esto fue ha hay la las le les lo los mas me mi muy no o os para pero por que se si sin sobre son su sus te tu un una
    uno unos y ya the of and to in""".split()
)


def _unaccent(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def terms(text: str) -> list[str]:
    """Index terms of a text: words → lower case → Spanish stem → no accents."""
    out = []
    stem = _stemmer().stemWord
    for word in _WORD.findall(text.lower()):
        if word in STOPWORDS or word.isdigit() and len(word) > 6:
            continue
        out.append(_unaccent(stem(word)))
    return out


_MARKDOWN_NOISE = re.compile(r"[*_`#>|]+|\{#[^}]*\}|\[([^\]]*)\]\([^)]*\)")


def plain_text(markdown: str) -> str:
    text = _MARKDOWN_NOISE.sub(lambda m: m.group(1) or " ", markdown or "")
    return re.sub(r"\s+", " ", text).strip()


class SearchDocument(Base):
    __tablename__ = "search_documents"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: reference | lesson | scenario
    kind: Mapped[str] = mapped_column(String(16))
    #: stable key within the kind (page#anchor, lesson slug, scenario slug)
    key: Mapped[str] = mapped_column(String(300))
    title: Mapped[str] = mapped_column(String(300))
    #: breadcrumb shown with the result (document, module…)
    context: Mapped[str] = mapped_column(String(300), default="")
    #: plain text the snippet is cut from
    text: Mapped[str] = mapped_column(Text)
    #: url_for(endpoint, **args) of the result, with an optional #anchor
    endpoint: Mapped[str] = mapped_column(String(100))
    args: Mapped[dict] = mapped_column(JSON)
    anchor: Mapped[str | None] = mapped_column(String(200))
    #: all | staff
    audience: Mapped[str] = mapped_column(String(8), default="all")
    length: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SearchTerm(Base):
    __tablename__ = "search_terms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("search_documents.id", ondelete="CASCADE"), index=True)
    term: Mapped[str] = mapped_column(String(100), index=True)
    #: occurrences in the document (title words count three times)
    frequency: Mapped[int] = mapped_column(Integer)


def index_document(session: Session, *, kind: str, key: str, title: str, context: str, body: str, endpoint: str,
                   args: dict, anchor: str | None = None, audience: str = "all") -> None:
    """Add or replace one document in the index."""
    remove_document(session, kind, key)
    text = plain_text(body)
    counts = Counter(terms(text))
    for term in terms(title):
        counts[term] += 3
    document = SearchDocument(kind=kind, key=key, title=title, context=context, text=text, endpoint=endpoint,
                              args=args, anchor=anchor, audience=audience, length=sum(counts.values()) or 1)
    session.add(document)
    session.flush()
    session.add_all(SearchTerm(document_id=document.id, term=term[:100], frequency=n) for term, n in counts.items())


def remove_document(session: Session, kind: str, key: str) -> None:
    doc_id = session.scalar(select(SearchDocument.id).where(SearchDocument.kind == kind, SearchDocument.key == key))
    if doc_id is not None:
        session.execute(delete(SearchTerm).where(SearchTerm.document_id == doc_id))
        session.execute(delete(SearchDocument).where(SearchDocument.id == doc_id))


def indexed_keys(session: Session, kind: str) -> set[str]:
    return set(session.scalars(select(SearchDocument.key).where(SearchDocument.kind == kind)))


@dataclass
class SearchResult:
    document: SearchDocument
    score: float
    snippet: str


def search(session: Session, query: str, *, audiences: tuple[str, ...] = ("all",), limit: int = 30) -> list[SearchResult]:
    """Documents containing every term of the query, best first (tf-idf)."""
    query_terms = list(dict.fromkeys(terms(query or "")))[:10]
    if not query_terms:
        return []
    total = session.scalar(select(func.count()).select_from(SearchDocument)) or 1
    rows = session.execute(
        select(SearchTerm.document_id, SearchTerm.term, SearchTerm.frequency)
        .join(SearchDocument, SearchDocument.id == SearchTerm.document_id)
        .where(SearchTerm.term.in_(query_terms), SearchDocument.audience.in_(audiences))
    ).all()
    by_doc: dict[int, dict[str, int]] = {}
    doc_freq: Counter = Counter()
    for document_id, term, frequency in rows:
        by_doc.setdefault(document_id, {})[term] = frequency
        doc_freq[term] += 1
    matching = {d: t for d, t in by_doc.items() if len(t) == len(query_terms)}
    if not matching:
        return []
    documents = {d.id: d for d in session.scalars(select(SearchDocument).where(SearchDocument.id.in_(matching)))}
    scored = []
    for document_id, found in matching.items():
        document = documents[document_id]
        score = sum((1 + math.log(n)) * math.log(1 + total / doc_freq[t]) for t, n in found.items()) / math.sqrt(document.length)
        scored.append(SearchResult(document, score, snippet(document.text, query_terms)))
    scored.sort(key=lambda r: (-r.score, r.document.title))
    return scored[:limit]


def snippet(text: str, query_terms: list[str], width: int = 220) -> str:
    """A piece of the text around the first word that matches the query."""
    for match in _WORD.finditer(text):
        if terms(match.group(0))[:1] and terms(match.group(0))[0] in query_terms:
            start = max(0, match.start() - width // 3)
            piece = text[start:start + width]
            return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")
    return text[:width] + ("…" if len(text) > width else "")
