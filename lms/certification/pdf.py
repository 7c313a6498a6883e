"""The printable certificate: a one-page PDF in Spanish with the verification URL and its QR code.

Text is set in Source Sans Pro, a Unicode font shipped as a Python package (``font-source-sans-pro``, SIL Open Font
License) and embedded (subset) in the PDF: names in Latin with any diacritics, Greek and Cyrillic print as written.
A character the font lacks prints as "?" (never a crash). A long name is set smaller, then on two lines, so it
always stays inside the frame."""
from __future__ import annotations

import io
import unicodedata
from functools import lru_cache
from pathlib import Path

import font_source_sans_pro

FONT_DIR = Path(font_source_sans_pro.__file__).resolve().parent / "files"
#: style → TrueType file
FONT_FILES = {"": str(FONT_DIR / "SourceSansPro-Regular.ttf"), "B": str(FONT_DIR / "SourceSansPro-Bold.ttf")}
FAMILY = "Sans"

#: the frame's inner width for centred lines (mm) and the name's sizes (points): largest first
TEXT_WIDTH = 257
NAME_SIZES = (28, 24, 20, 17, 15)
NAME_MIN_SIZE = 13


@lru_cache(maxsize=1)
def _glyphs() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    covered = None
    for path in FONT_FILES.values():
        cmap = set(TTFont(path, lazy=True).getBestCmap())
        covered = cmap if covered is None else covered & cmap
    return frozenset(covered or ())


def printable(text: str) -> str:
    """``text`` as the embedded font can print it: control and invisible formatting characters (bidi overrides,
    zero-width spaces) dropped, line breaks and tabs as spaces, characters the font lacks as "?"."""
    glyphs = _glyphs()
    out = []
    for ch in unicodedata.normalize("NFC", text or ""):
        if ch in "\t\n\r\v\f":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        else:
            out.append(ch if ord(ch) in glyphs else "?")
    return "".join(out)


def _name(pdf, name: str, top: float) -> float:
    """The name centred at ``top``: the largest size at which it fits on one line, else two lines at the smallest
    size that fits (cut with "…" beyond that). Returns where the next block starts."""
    for size in NAME_SIZES:
        pdf.set_font(FAMILY, "B", size)
        if pdf.get_string_width(name) <= TEXT_WIDTH:
            pdf.set_xy(20, top)
            pdf.cell(TEXT_WIDTH, 14, name, align="C")
            return top + 22
    size = NAME_SIZES[-1]
    pdf.set_font(FAMILY, "B", size)
    lines = pdf.multi_cell(TEXT_WIDTH, 8, name, align="C", dry_run=True, output="LINES")
    while len(lines) > 2 and size > NAME_MIN_SIZE:
        size -= 1
        pdf.set_font(FAMILY, "B", size)
        lines = pdf.multi_cell(TEXT_WIDTH, 8, name, align="C", dry_run=True, output="LINES")
    if len(lines) > 2:
        second = lines[1]
        while second and pdf.get_string_width(second + "…") > TEXT_WIDTH:
            second = second[:-1]
        lines = [lines[0], second.rstrip() + "…"]
    pdf.set_xy(20, top - 4)
    pdf.multi_cell(TEXT_WIDTH, size * 0.42, "\n".join(lines), align="C")
    return top + 22


def certificate_pdf(*, agent_name: str, title: str, area: str, issued: str, expires: str, code: str, url: str, status: str) -> bytes:
    # fpdf (with fontTools, PIL, lxml) costs a worker ~35 MiB: loaded by the first certificate, not at start
    import segno
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    for style, path in FONT_FILES.items():
        pdf.add_font(FAMILY, style, path)
    pdf.add_page()
    pdf.set_title(printable(f"Certificado - {title}"))
    pdf.set_author("Academia de Atención")
    pdf.set_draw_color(11, 92, 173)
    pdf.set_line_width(1.5)
    pdf.rect(10, 10, 277, 190)
    pdf.set_font(FAMILY, "B", 14)
    pdf.set_text_color(11, 92, 173)
    pdf.set_xy(20, 25)
    pdf.cell(TEXT_WIDTH, 10, "ACADEMIA DE ATENCIÓN", align="C")
    pdf.set_text_color(29, 36, 48)
    pdf.set_font(FAMILY, "", 16)
    pdf.set_xy(20, 45)
    pdf.cell(TEXT_WIDTH, 10, "Certifica que", align="C")
    _name(pdf, printable(agent_name).strip() or "?", 60)
    pdf.set_font(FAMILY, "", 16)
    pdf.set_xy(20, 82)
    pdf.cell(TEXT_WIDTH, 10, "ha obtenido la", align="C")
    pdf.set_font(FAMILY, "B", 20)
    pdf.set_xy(30, 95)
    title_lines = pdf.multi_cell(237, 10, printable(title), align="C", dry_run=True, output="LINES")
    pdf.set_xy(30, 95)
    pdf.multi_cell(237, 10, "\n".join(title_lines[:2]) + ("…" if len(title_lines) > 2 else ""), align="C")
    pdf.set_font(FAMILY, "", 12)
    pdf.set_xy(20, 125)
    pdf.multi_cell(TEXT_WIDTH, 6, printable(f"Área: {area} · Emitido el {issued} · Válido hasta el {expires}"), align="C",
                   max_line_height=6)
    if status != "active":
        pdf.set_text_color(179, 38, 30)
        pdf.set_font(FAMILY, "B", 14)
        pdf.set_xy(20, 138)
        pdf.cell(TEXT_WIDTH, 8, {"revoked": "REVOCADO", "expired": "CADUCADO", "superseded": "SUSTITUIDO"}.get(status, printable(status.upper())),
                 align="C")
        pdf.set_text_color(29, 36, 48)
    qr = segno.make(url, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=6, border=2)
    buffer.seek(0)
    pdf.image(buffer, x=30, y=148, w=40, h=40)
    pdf.set_font(FAMILY, "", 10)
    pdf.set_xy(75, 158)
    pdf.multi_cell(190, 6, printable(f"Compruebe la validez de este certificado en:") + "\n" + printable(url) + "\n"
                   + printable(f"Código de verificación: {code}"))
    return bytes(pdf.output())
