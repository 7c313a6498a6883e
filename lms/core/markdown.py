"""The one Markdown renderer: Python-Markdown, then sanitized by nh3 (ammonia).

Content is rendered when it is written, not when it is read: a model that shows Markdown keeps its fields' HTML in
an ``html`` column (:func:`keep_rendered`), which pages show with the ``rendered`` filter (:func:`rendered`); the
question versions' cache puts theirs in this module's cache (:func:`seed`), where the ``markdown`` filter finds
it. A worker that shows only stored content never imports Python-Markdown and nh3 (about 4 MiB per worker); it
renders (and imports them) only for what has no stored HTML: a calculated question's text with its drawn numbers,
a preview, what a person wrote (feedback, a role-play), or HTML stored by another version of the renderer.
"""
from __future__ import annotations

import hashlib
from typing import Any, Callable

from markupsafe import Markup

from lms.core.caches import BoundedCache

#: the version of what :func:`_render` produces (its extensions and sanitizer policy). Stored HTML carries it; HTML of
#: another version is ignored (and the text rendered again), so a change of policy takes effect at once. Raise it
#: with any change to ``_render``, ``ALLOWED_TAGS`` or ``ALLOWED_ATTRIBUTES``.
RENDERER = 1


def _extensions() -> list:
    """Python-Markdown's "extra" (its seven extensions, in its order), sane lists and a table of contents without
    permalinks. Given as instances, not names: a name makes Markdown read every installed package's entry points
    first, and keep them for the life of the worker (about 1 MiB of metadata). New instances for each conversion:
    footnotes keep the document's state on the extension."""
    from markdown.extensions.abbr import AbbrExtension
    from markdown.extensions.attr_list import AttrListExtension
    from markdown.extensions.def_list import DefListExtension
    from markdown.extensions.fenced_code import FencedCodeExtension
    from markdown.extensions.footnotes import FootnoteExtension
    from markdown.extensions.md_in_html import MarkdownInHtmlExtension
    from markdown.extensions.sane_lists import SaneListExtension
    from markdown.extensions.tables import TableExtension
    from markdown.extensions.toc import TocExtension

    return [FencedCodeExtension(), FootnoteExtension(), AttrListExtension(), DefListExtension(), TableExtension(),
            AbbrExtension(), MarkdownInHtmlExtension(), SaneListExtension(), TocExtension(permalink=False)]


ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "span",
    "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "th": {"align"},
    "td": {"align"},
    "*": {"id"},
}


def render_markdown(text: str | None) -> Markup:
    """Markdown to HTML that is safe to put in a page, whoever wrote the text."""
    if not text:
        return Markup("")
    cache, key = _slot(text)
    if cache is None:
        return Markup(_render(text))  # nosec B704  # sanitised by nh3 in _render
    html = cache.get(key)
    if html is None:
        html = cache.put(key, _render(text))
    return Markup(html)  # nosec B704  # sanitised by nh3 in _render (here or when the text was stored)


#: texts up to this size (a quiz's description, a question and its options, a feedback) are kept by their text: at
#: most 2,048 of them (a question bank's stems are a few hundred bytes each)
_CACHED_TEXT_LIMIT = 2048
_TEXTS: BoundedCache[str] = BoundedCache(2048)

#: lessons (2-16 KB; a lesson page spent about 40% of its time in Markdown) are kept by their text's digest (the text
#: itself is not kept): at most 128 of them, about 2.5 MiB at worst. Longer texts are rendered on every use
_CACHED_LONG_TEXT_LIMIT = 16 * 1024
_LONG_TEXTS: BoundedCache[str] = BoundedCache(128)


def _slot(text: str) -> tuple[BoundedCache[str] | None, Any]:
    """The cache that keeps a text's HTML, and its key there (None, None: not kept)."""
    if len(text) <= _CACHED_TEXT_LIMIT:
        return _TEXTS, text
    if len(text) <= _CACHED_LONG_TEXT_LIMIT:
        return _LONG_TEXTS, hashlib.blake2b(text.encode(), digest_size=16).digest()
    return None, None


def _render(text: str) -> str:
    import markdown as _markdown  # imported on the first text without stored HTML (see the module's docstring)
    import nh3

    md = _markdown.Markdown(extensions=_extensions())
    html = md.convert(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


# --- HTML stored with the content ---------------------------------------------------------------------------------

#: a field's source: an attribute's name, or (name, a function of the attribute's value giving a text or a list of texts)
Source = str | tuple[str, Callable[[Any], Any]]


def _texts(value) -> list[str | None]:
    """A field's texts, each at its position (what is not a text is None: stored as "", it keeps the positions)."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else [t if isinstance(t, str) else None for t in value]


def _source(obj, source: Source) -> Any:
    if isinstance(source, str):
        return getattr(obj, source)
    name, extract = source
    return extract(getattr(obj, name))


def stored_html(sources: dict[str, Any]) -> dict:
    """The HTML to store for these fields' texts (a text, or a list of texts each rendered on its own)."""
    html: dict[str, Any] = {"_v": RENDERER}
    for name, value in sources.items():
        if isinstance(value, str) or value is None:
            html[name] = str(render_markdown(value))
        else:
            html[name] = [str(render_markdown(t)) for t in _texts(value)]
    return html


def stored_field(html: dict | None, name: str, index: int | None = None) -> str | None:
    """A field's HTML as :func:`keep_rendered` stored it (``index``: the text at that position of a list field), or
    None when there is none or it was stored by another version of the renderer."""
    if not html or html.get("_v") != RENDERER:
        return None
    stored = html.get(name)
    if index is not None:
        stored = stored[index] if isinstance(stored, list) and index < len(stored) else None
    return stored if isinstance(stored, str) else None


def seed(text: str | None, html: str | None) -> None:
    """Put a text's stored HTML (:func:`stored_field`) in the cache, where the ``markdown`` filter finds it."""
    cache, key = _slot(text) if text and html is not None else (None, None)
    if cache is not None and key not in cache:
        cache.put(key, html)


def rendered(text: str | None, obj, name: str, index: int | None = None) -> Markup:
    """A row's Markdown field as HTML (the ``rendered`` filter: ``{{ lesson.body|rendered(lesson, "body") }}``): the
    HTML stored with the row (:func:`keep_rendered`), else the text rendered now. ``index``: the text at that
    position of a list field (a lesson's house rules)."""
    stored = stored_field(getattr(obj, "html", None), name, index)
    if stored is not None:
        return Markup(stored)  # nosec B704  # sanitised by nh3 when the row was written
    return render_markdown(text)


def keep_rendered(model, **fields: Source) -> None:
    """Keep ``model.html`` (a JSON column) the HTML of these fields: rendered when a row is inserted, or updated
    with one of the fields changed (or its HTML of another renderer)."""
    from sqlalchemy import event, inspect

    names = {field: (source if isinstance(source, str) else source[0]) for field, source in fields.items()}

    def sources(obj) -> dict[str, Any]:
        return {field: _source(obj, source) for field, source in fields.items()}

    @event.listens_for(model, "before_insert", propagate=True)
    def _on_insert(mapper, connection, obj) -> None:
        obj.html = stored_html(sources(obj))

    @event.listens_for(model, "before_update", propagate=True)
    def _on_update(mapper, connection, obj) -> None:
        state = inspect(obj)
        stale = not obj.html or obj.html.get("_v") != RENDERER
        if stale or any(state.attrs[name].history.has_changes() for name in set(names.values())):
            obj.html = stored_html(sources(obj))


def init_app(app) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["rendered"] = rendered
