"""The certificate PDF embeds a Unicode font (from the font-source-sans-pro package): names in Latin with
diacritics, Greek and Cyrillic print as written (checked in the text pypdf extracts), and a long name is shrunk
or wrapped so that it stays inside the page's frame."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from lms.certification.pdf import certificate_pdf

NAMES = ["Łukasz Żółć Ğüşçiöğ Ångström", "Αλέξανδρος Παπαδόπουλος", "Екатерина Дмитриевна Смирнова",
         "François-Xavier Nguyễn Đức", "Ñandú Peña Muñoz"]


def _pdf(name: str, title: str = "Certificación de proceso") -> bytes:
    return certificate_pdf(agent_name=name, title=title, area="Proceso", issued="01/02/2026", expires="01/02/2027",
                           code="c0de", url="https://example.com/verify/c0de", status="active")


def _runs(data: bytes) -> list[tuple[str, float, float]]:
    """(text, x, font size) of every text run on the page, in PDF points."""
    runs: list[tuple[str, float, float]] = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            runs.append((text, tm[4] * cm[0] + cm[4], font_size * tm[0] * cm[0]))

    PdfReader(io.BytesIO(data)).pages[0].extract_text(visitor_text=visit)
    return runs


@pytest.mark.parametrize("name", NAMES)
def test_names_in_several_scripts_print_as_written(name):
    data = _pdf(name)
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert name in text and "?" not in text.replace("?", "", 0).split("Compruebe")[0]
    assert b"/FontFile2" in data  # the TrueType font is embedded (a subset), not a core font


@pytest.mark.parametrize("length", [55, 80, 140])
def test_a_long_name_is_shrunk_or_wrapped_inside_the_frame(length):
    name = " ".join(["Maximiliano", "Fernández-Villaverde", "Εὐάγγελος", "Кондратьев"] * 12)[:length].strip()
    data = _pdf(name)
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert " ".join(name.split()) in " ".join(text.split())  # every character printed
    page_width = float(PdfReader(io.BytesIO(data)).pages[0].mediabox.width)
    frame_left, frame_right = 10 / 25.4 * 72, page_width - 10 / 25.4 * 72
    from fpdf import FPDF

    measure = FPDF(unit="pt")
    from lms.certification.pdf import FONT_FILES

    measure.add_font("Sans", "B", FONT_FILES["B"])
    for run, x, size in _runs(data):
        measure.set_font("Sans", "B", size)
        assert frame_left <= x and x + measure.get_string_width(run) <= frame_right, (run, x, size)


def test_characters_the_font_lacks_become_a_visible_mark_not_a_crash():
    data = _pdf("李小龙 Ana")
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "Ana" in text and data.startswith(b"%PDF-")
