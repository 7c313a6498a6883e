"""The one Markdown renderer: Python-Markdown, then sanitized by nh3 (ammonia)."""
from __future__ import annotations

import functools
import hashlib

import markdown as _markdown
import nh3
from markdown.extensions.abbr import AbbrExtension
from markdown.extensions.attr_list import AttrListExtension
from markdown.extensions.def_list import DefListExtension
from markdown.extensions.fenced_code import FencedCodeExtension
from markdown.extensions.footnotes import FootnoteExtension
from markdown.extensions.md_in_html import MarkdownInHtmlExtension
from markdown.extensions.sane_lists import SaneListExtension
from markdown.extensions.tables import TableExtension
from markdown.extensions.toc import TocExtension
from markupsafe import Markup

from lms.core.caches import BoundedCache


def _extensions() -> list:
    """Python-Markdown's "extra" (its seven extensions, in its order), sane lists and a table of contents without
    permalinks. Given as instances, not names: a name makes Markdown read every installed package's entry points
    first, and keep them for the life of the worker (about 1 MiB of metadata). New instances for each conversion:
    footnotes keep the document's state on the extension."""
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
    if len(text) <= _CACHED_TEXT_LIMIT:
        return Markup(_render_cached(text))  # nosec B704  # sanitised by nh3 in _render
    if len(text) <= _CACHED_LONG_TEXT_LIMIT:
        key = hashlib.blake2b(text.encode(), digest_size=16).digest()
        html = _LONG_TEXTS.get(key)
        if html is None:
            html = _LONG_TEXTS.put(key, _render(text))
        return Markup(html)  # nosec B704  # sanitised by nh3 in _render
    return Markup(_render(text))  # nosec B704  # sanitised by nh3 in _render


#: texts up to this size (a quiz's description, a question and its options, a feedback) are rendered once per
#: worker; the output depends on the text alone, so the cache needs no invalidation. Bounded: at most 2,048 texts of
#: at most 2 KB (a question bank's stems and options are a few hundred bytes each)
_CACHED_TEXT_LIMIT = 2048

#: lessons (2-16 KB; a lesson page spent about 40% of its time in Markdown) are rendered once per worker too, keyed by
#: their text's digest (the text itself is not kept): at most 128 of them, about 2.5 MiB at worst
_CACHED_LONG_TEXT_LIMIT = 16 * 1024
_LONG_TEXTS: BoundedCache[str] = BoundedCache(128)


def _render(text: str) -> str:
    md = _markdown.Markdown(extensions=_extensions())
    html = md.convert(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


_render_cached = functools.lru_cache(maxsize=2048)(_render)


def init_app(app) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
