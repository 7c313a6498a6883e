import pytest

from lms.core.markdown import render_markdown

XSS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[clic](javascript:alert(1))",
    "[clic](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<svg onload="alert(1)"><circle/></svg>',
    '<a href="#" onclick="alert(1)">x</a>',
    "<iframe src='https://evil.example'></iframe>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    "<scr<script>ipt>alert(1)</script>",
]


@pytest.mark.parametrize("source", XSS)
def test_dangerous_markup_is_removed(source):
    html = str(render_markdown(source)).lower()
    for needle in ("<script", "onerror", "onload", "onclick", "javascript:", "data:text", "<iframe", "<svg", "style="):
        assert needle not in html


def test_markdown_features_survive_sanitizing():
    html = str(render_markdown("## Título {#mi-ancla}\n\n- **uno**\n- [enlace](https://example.com)\n\n| a | b |\n|---|---|\n| 1 | 2 |"))
    assert '<h2 id="mi-ancla">Título</h2>' in html
    assert "<strong>uno</strong>" in html
    assert 'href="https://example.com"' in html and 'rel="noopener noreferrer"' in html
    assert "<table>" in html


def test_empty_text_renders_nothing():
    assert str(render_markdown(None)) == ""
    assert str(render_markdown("")) == ""


def _lesson(words: int, marker: str) -> str:
    return f"## {marker}\n\n" + "\n\n".join(f"Párrafo {i} con **énfasis** y texto de relleno." for i in range(words))


def test_a_lesson_is_rendered_once_per_text_and_a_changed_text_renders_anew(monkeypatch):
    from lms.core import markdown as md

    md._LONG_TEXTS.clear()
    calls = []
    real = md._render
    monkeypatch.setattr(md, "_render", lambda text: calls.append(len(text)) or real(text))
    lesson = _lesson(80, "Lección uno")
    assert md._CACHED_TEXT_LIMIT < len(lesson) <= md._CACHED_LONG_TEXT_LIMIT
    first = render_markdown(lesson)
    assert "<h2" in first and "Lección uno" in first and "<strong>énfasis</strong>" in first
    assert str(render_markdown(lesson)) == str(first) and len(calls) == 1  # the second page reuses it
    edited = lesson.replace("Lección uno", "Lección editada")
    html = str(render_markdown(edited))
    assert "Lección editada" in html and "Lección uno" not in html and len(calls) == 2
    huge = _lesson(900, "Manual")  # past the limit: rendered every time, never kept
    assert len(huge) > md._CACHED_LONG_TEXT_LIMIT
    render_markdown(huge)
    render_markdown(huge)
    assert len(calls) == 4 and len(md._LONG_TEXTS) == 2


def test_a_cached_lesson_stays_sanitized():
    from lms.core import markdown as md

    md._LONG_TEXTS.clear()
    lesson = _lesson(80, "Lección") + "\n\n<script>alert(1)</script>[x](javascript:alert(1))"
    for _ in range(2):
        html = str(render_markdown(lesson)).lower()
        assert "<script" not in html and "javascript:" not in html


def test_the_extensions_render_every_content_file_as_python_markdowns_named_extra_does(monkeypatch):
    """The extensions are given as instances (no entry-point scan); the HTML of every Markdown file of the content
    is the same as with the names "extra", "sane_lists" and "toc" Python-Markdown documents."""
    from pathlib import Path

    import markdown
    from markdown import util

    from lms.core import markdown as ours

    root = Path(__file__).resolve().parents[2]
    files = sorted(p for folder in ("courses", "quizzes", "roleplays") for p in (root / folder).rglob("*.md"))
    assert len(files) > 50
    texts = [p.read_text(encoding="utf-8") for p in files]
    texts.append("Texto[^1] con *HTML* y ABBR.\n\n*[ABBR]: Abreviatura\n\n[^1]: Nota.\n\n```python\nx = 1\n```\n\n"
                 "Término\n:   Definición\n\n<div markdown=\"1\">**dentro**</div>\n\n1. uno\n* dos\n\n# Título {: #t }")
    by_name = [markdown.Markdown(extensions=["extra", "sane_lists", "toc"],
                                 extension_configs={"toc": {"permalink": False}}).convert(t) for t in texts]
    scans = []
    monkeypatch.setattr(util, "get_installed_extensions", lambda: scans.append(1) or [])
    for text, expected in zip(texts, by_name, strict=True):
        assert markdown.Markdown(extensions=ours._extensions()).convert(text) == expected
    assert scans == []
    footnote = "Uno[^a].\n\n[^a]: Primera nota."
    first, second = ours._render(footnote), ours._render(footnote)
    assert first == second and first.count('id="fn:a"') == 1  # a new footnotes extension for each conversion
