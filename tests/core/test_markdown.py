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
