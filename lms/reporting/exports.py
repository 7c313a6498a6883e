"""How the CSV exports are written: the standard format (the documented, machine-readable one: commas, codes,
ISO 8601) or the one Spanish-locale Excel opens as a table (semicolons, decimal commas, labels in the reader's
language, moments in the reader's time zone). Both start with a UTF-8 BOM and neither writes microseconds.

The style is built in the request (where the reader's language and zone are known) and handed to the streamed
export, which runs outside it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone, tzinfo

from babel.numbers import format_decimal

#: ``?format=`` of the export URLs
STANDARD_FORMAT, EXCEL_FORMAT = "standard", "excel"


@dataclass(frozen=True)
class CsvStyle:
    """The standard format when built without arguments."""

    delimiter: str = ","
    #: column titles in the reader's language, in the order of the codes' header (None: the codes' header)
    titles: tuple[str, ...] | None = None
    #: state code → label (codes missing here are written as they are)
    labels: dict[str, str] = field(default_factory=dict)
    #: decimal numbers in this locale's notation ("es": 87,5); None: as Python writes them (87.5)
    number_locale: str | None = None
    #: moments as "AAAA-MM-DD HH:MM" in this zone; None: ISO 8601 in UTC to the second (2026-01-09T09:00:00+00:00)
    zone: tzinfo | None = None

    def header(self, codes: list[str]) -> list[str]:
        return list(self.titles) if self.titles else list(codes)

    def label(self, code: str) -> str:
        return self.labels.get(code, code)

    def number(self, value) -> str:
        if value is None:
            return ""
        if self.number_locale is None or isinstance(value, int):
            return str(value)
        return format_decimal(round(value, 2), format="0.##", locale=self.number_locale)

    def moment(self, value: datetime | None) -> str:
        if value is None:
            return ""
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        if self.zone is None:
            return value.astimezone(timezone.utc).isoformat(timespec="seconds")
        return value.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    @staticmethod
    def day(value: date | None) -> str:
        return value.isoformat() if value else ""


STANDARD = CsvStyle()


def excel_style(*, titles, labels, zone: tzinfo) -> CsvStyle:
    """What Excel set to Spanish (Spain, Colombia) opens as columns: semicolons and decimal commas."""
    return CsvStyle(delimiter=";", titles=tuple(titles), labels=dict(labels), number_locale="es", zone=zone)


def state_labels() -> dict[str, str]:
    """The states of the exports in the reader's language (as the dashboard's badges say them)."""
    from flask_babel import gettext as _

    return {"not_enrolled": _("Sin inscribir"), "not_started": _("Por empezar"), "on_track": _("Al día"),
            "behind": _("Con retraso"), "overdue": _("Vencida"), "completed": _("Completado"),
            "active": _("Vigente"), "expired": _("Caducado"), "revoked": _("Revocado"), "superseded": _("Sustituido")}


def titles(kind: str) -> list[str]:
    """The column titles of the ``kind`` export ("progress" or "certifications") in the reader's language."""
    from flask_babel import gettext as _

    if kind == "certifications":
        return [_("Agente"), _("Correo electrónico"), _("Certificación"), _("Versión"), _("Estado"), _("Emitida"), _("Caduca"),
                _("Código de verificación")]
    return [_("Agente"), _("Correo electrónico"), _("Itinerario"), _("Fecha de inicio"), _("Porcentaje de progreso"), _("Estado"),
            _("Pasos vencidos"), _("Última actividad"), _("Media de evaluaciones"), _("Media de role-plays"),
            _("Certificaciones vigentes")]


def style_for(kind: str, fmt: str | None, zone: tzinfo) -> CsvStyle:
    """``format=excel``: for Spanish-locale Excel, in the current language and ``zone``; otherwise the standard format.
    Built in the request for a streamed export, in the worker (in the requester's language) for a background one."""
    if fmt != EXCEL_FORMAT:
        return STANDARD
    return excel_style(titles=titles(kind), labels=state_labels(), zone=zone)
