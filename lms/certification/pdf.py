"""The printable certificate: a one-page PDF in Spanish with the verification URL and its QR code."""
from __future__ import annotations

import io

REPLACEMENTS = {"“": '"', "”": '"', "‘": "'", "’": "'", "—": "-", "–": "-", "…": "...", "→": "->", "•": "-"}


def _latin1(text: str) -> str:
    """The PDF core fonts speak Latin-1 (all of Spanish); other characters get a plain equivalent."""
    for a, b in REPLACEMENTS.items():
        text = text.replace(a, b)
    return text.encode("latin-1", "replace").decode("latin-1")


def certificate_pdf(*, agent_name: str, title: str, area: str, issued: str, expires: str, code: str, url: str, status: str) -> bytes:
    # fpdf (with fontTools, PIL, lxml) costs a worker ~35 MiB: loaded by the first certificate, not at start
    import segno
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_title(_latin1(f"Certificado - {title}"))
    pdf.set_author("Academia de Atención")
    pdf.set_draw_color(11, 92, 173)
    pdf.set_line_width(1.5)
    pdf.rect(10, 10, 277, 190)
    pdf.set_font("Helvetica", "B", 14)
    pdf.set_text_color(11, 92, 173)
    pdf.set_xy(20, 25)
    pdf.cell(257, 10, _latin1("ACADEMIA DE ATENCIÓN"), align="C")
    pdf.set_text_color(29, 36, 48)
    pdf.set_font("Helvetica", "", 16)
    pdf.set_xy(20, 45)
    pdf.cell(257, 10, _latin1("Certifica que"), align="C")
    pdf.set_font("Helvetica", "B", 28)
    pdf.set_xy(20, 60)
    pdf.cell(257, 14, _latin1(agent_name), align="C")
    pdf.set_font("Helvetica", "", 16)
    pdf.set_xy(20, 82)
    pdf.cell(257, 10, _latin1("ha obtenido la"), align="C")
    pdf.set_font("Helvetica", "B", 20)
    pdf.set_xy(30, 95)
    pdf.multi_cell(237, 10, _latin1(title), align="C")
    pdf.set_font("Helvetica", "", 12)
    pdf.set_xy(20, 125)
    pdf.cell(257, 8, _latin1(f"Área: {area} · Emitido el {issued} · Válido hasta el {expires}"), align="C")
    if status != "active":
        pdf.set_text_color(179, 38, 30)
        pdf.set_font("Helvetica", "B", 14)
        pdf.set_xy(20, 136)
        pdf.cell(257, 8, _latin1({"revoked": "REVOCADO", "expired": "CADUCADO", "superseded": "SUSTITUIDO"}.get(status, status.upper())), align="C")
        pdf.set_text_color(29, 36, 48)
    qr = segno.make(url, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=6, border=2)
    buffer.seek(0)
    pdf.image(buffer, x=30, y=148, w=40, h=40)
    pdf.set_font("Helvetica", "", 10)
    pdf.set_xy(75, 158)
    pdf.multi_cell(190, 6, _latin1(f"Compruebe la validez de este certificado en:\n{url}\nCódigo de verificación: {code}"))
    return bytes(pdf.output())
