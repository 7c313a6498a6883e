"""The CSV exports in two formats: for Spanish-locale Excel (semicolons, decimal commas, labels in the reader's language,
the reader's time zone) and the standard one (commas, codes, ISO 8601 UTC; the documented machine-readable format)."""
import csv
import io
from datetime import date, datetime, timezone
from types import SimpleNamespace

from lms.accounts import zones
from lms.reporting import exports, services
from lms.reporting.services import DashboardRow
from lms.tracks import services as tracks

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)
CODES_HEADER = "agente,email,itinerario,fecha_inicio,progreso_pct,estado,vencidas,ultima_actividad,media_evaluaciones,media_role_plays,certificaciones_vigentes"


def _row(**changes):
    values = dict(agent=SimpleNamespace(name="Bea", email="bea@example.com"), track="Itinerario corto", start_date=date(2026, 1, 5),
                  percent=40, state="behind", overdue=2, last_activity=datetime(2026, 7, 1, 16, 5, 7, 123456, tzinfo=timezone.utc),
                  quiz_average=87.5, roleplay_average=71.25, certifications=1)
    values.update(changes)
    return DashboardRow(**values)


def _parse(text: str, delimiter: str) -> list[list[str]]:
    assert text.startswith("\ufeff")  # Excel reads the file as UTF-8 only with the BOM
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter))


def test_the_standard_format_keeps_codes_dots_and_iso_utc_without_microseconds():
    text = "".join(services.csv_lines([_row()]))
    header, row = _parse(text, ",")
    assert ",".join(header) == CODES_HEADER
    assert row == ["Bea", "bea@example.com", "Itinerario corto", "2026-01-05", "40", "behind", "2", "2026-07-01T16:05:07+00:00",
                   "87.5", "71.25", "1"]


def test_the_excel_format_has_semicolons_commas_labels_and_local_times():
    from pytz import timezone as zone

    style = exports.excel_style(titles=["Agente", "Correo", "Itinerario", "Inicio", "Progreso (%)", "Estado", "Vencidas", "Última actividad",
                                        "Evaluaciones", "Role-plays", "Certificaciones"],
                                labels={"behind": "Con retraso"}, zone=zone("Europe/Madrid"))
    text = "".join(services.csv_lines([_row(), _row(quiz_average=83.33333, state="overdue", last_activity=None)], style))
    header, first, second = _parse(text, ";")
    assert header[0] == "Agente" and header[7] == "Última actividad"
    assert first == ["Bea", "bea@example.com", "Itinerario corto", "2026-01-05", "40", "Con retraso", "2", "2026-07-01 18:05",
                     "87,5", "71,25", "1"]
    assert second[4:10] == ["40", "overdue", "2", "", "83,33", "71,25"]  # at most two decimals; an unknown state as it is


def _enrolled_team(session, manager, team, make_user):
    agent = make_user("agent", name="Carla Vencida", teams=[team])
    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 1, 5), now=T0)
    session.commit()
    return agent


def test_the_dashboard_offers_both_and_each_opens_as_promised(client, auth, session, content, team, manager, make_user):
    _enrolled_team(session, manager, team, make_user)  # started in January: long overdue today
    zones.set_user_zone(session, manager, "America/Bogota")
    session.commit()
    auth.login_as(manager)
    page = client.get(f"/manage/dashboard/?team={team.id}").get_data(as_text=True)
    assert "Exportar CSV para Excel (España/Colombia)" in page and "Exportar CSV estándar" in page

    excel = client.get(f"/manage/dashboard/export.csv?team={team.id}&format=excel")
    assert excel.mimetype == "text/csv" and "progreso-excel-equipo" in excel.headers["Content-Disposition"]
    header, row = _parse(excel.get_data(as_text=True), ";")
    assert header[:3] == ["Agente", "Correo electrónico", "Itinerario"] and row[5] == "Vencida"

    standard = client.get(f"/manage/dashboard/export.csv?team={team.id}")
    header, row = _parse(standard.get_data(as_text=True), ",")
    assert ",".join(header) == CODES_HEADER and row[5] == "overdue"


def test_the_excel_format_speaks_the_reader_s_language(client, auth, session, content, team, manager, make_user):
    _enrolled_team(session, manager, team, make_user)
    manager.locale = "en"
    session.commit()
    auth.login_as(manager)
    english = client.get(f"/manage/dashboard/export.csv?team={team.id}&format=excel")
    header, row = _parse(english.get_data(as_text=True), ";")
    assert header[:3] == ["Agent", "Email", "Track"] and row[5] == "Overdue"


def test_the_certification_export_in_both_formats(client, auth, session, content, team, manager, admin, make_user):
    from lms.certification import services as certs

    agent = _enrolled_team(session, manager, team, make_user)
    late_evening = datetime(2026, 2, 3, 2, 30, tzinfo=timezone.utc)  # the 2nd in Bogotá, the 3rd in Madrid and UTC
    certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Prueba", now=late_evening)
    zones.set_user_zone(session, manager, "America/Bogota")
    session.commit()
    auth.login_as(manager)
    header, row = _parse(client.get("/manage/dashboard/certifications.csv?format=excel").get_data(as_text=True), ";")
    assert header[4:7] == ["Estado", "Emitida", "Caduca"] and row[4] == "Vigente" and row[5] == "2026-02-02"
    header, row = _parse(client.get("/manage/dashboard/certifications.csv").get_data(as_text=True), ",")
    assert header[4] == "estado" and row[4] == "active" and row[5] == "2026-02-03"


def test_the_workbook_has_labels_and_local_moments(session, content):
    from openpyxl import load_workbook
    from pytz import timezone as zone

    body = services.xlsx_bytes([_row()], {"behind": "Con retraso"}, zone("Europe/Madrid"))
    sheet = load_workbook(io.BytesIO(body)).active
    (_header, row) = list(sheet.iter_rows(values_only=True))
    assert row[5] == "Con retraso" and row[7] == datetime(2026, 7, 1, 18, 5, 7) and row[8] == 87.5
