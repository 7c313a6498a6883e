"""The one Markdown renderer: Python-Markdown, then sanitized by nh3 (ammonia)."""
from __future__ import annotations

import functools

import markdown as _markdown
import nh3
from markupsafe import Markup

_EXTENSIONS = ["extra", "sane_lists", "toc"]
_EXTENSION_CONFIGS = {"toc": {"permalink": False}}

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
    return Markup(_render(text))  # nosec B704  # sanitised by nh3 in _render


#: texts up to this size (a quiz's description, a question and its options, a feedback) are rendered once per
#: worker; the output depends on the text alone, so the cache needs no invalidation. Bounded: at most 2,048 texts of
#: at most 2 KB (a question bank's stems and options are a few hundred bytes each; lessons are longer and rarer)
_CACHED_TEXT_LIMIT = 2048


def _render(text: str) -> str:
    md = _markdown.Markdown(extensions=_EXTENSIONS, extension_configs=_EXTENSION_CONFIGS)
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
