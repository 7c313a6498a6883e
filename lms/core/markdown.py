"""The one Markdown renderer: Python-Markdown, then sanitized by nh3 (ammonia)."""
from __future__ import annotations

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
    md = _markdown.Markdown(extensions=_EXTENSIONS, extension_configs=_EXTENSION_CONFIGS)
    html = md.convert(text)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    return Markup(clean)  # nosec B704  # the HTML was sanitised by nh3 just above


def init_app(app) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
