"""The words the site shows for the escalation engine's keys (channels, impacts, complexities, outcomes,
destinations, priorities): drills, their review and the advisor use these, never the raw keys."""
from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

CHANNELS = {"chat": _l("Chat"), "email": _l("Email"), "phone": _l("Teléfono"), "social": _l("Redes sociales"),
            "ticket": _l("Ticket")}
IMPACTS = {"critico": _l("Crítico: sistema completamente inoperativo"), "alto": _l("Alto: funcionalidad principal afectada"),
           "medio": _l("Medio: funcionalidad secundaria afectada"), "bajo": _l("Bajo: funcionalidad menor afectada"),
           "cosmetico": _l("Cosmético: problema de apariencia")}
COMPLEXITIES = {"ninguna": _l("Ninguna especial"), "tecnico": _l("Técnica: requiere conocimiento especializado"),
                "negocio": _l("De negocio: impacta operaciones del cliente"), "legal": _l("Legal: implica aspectos legales"),
                "financiero": _l("Financiera: involucra reembolsos grandes"),
                "estrategico": _l("Estratégica: afecta relación estratégica")}
OUTCOMES = {"escalamiento": _l("Escalar"), "compromiso": _l("Compromiso con seguimiento")}
DESTINATIONS = {"Nivel 1 · Agente general": _l("Nivel 1 · Agente general"), "Nivel 2 · Especialista": _l("Nivel 2 · Especialista"),
                "Nivel 3 · Ingeniería/Desarrollo": _l("Nivel 3 · Ingeniería/Desarrollo"),
                "Nivel 4 · Management": _l("Nivel 4 · Management"), "Legal": _l("Legal")}
PRIORITIES = {"Crítica": _l("Crítica"), "Alta": _l("Alta"), "Media": _l("Media"), "Baja": _l("Baja")}


def label(table: dict, key) -> str:
    """The words for ``key`` (the key itself when the table does not know it)."""
    return str(table.get(key, key))


def hours(value: float) -> str:
    """A number of hours in words: «Inmediato» for 0, «24 horas» otherwise."""
    if value == 0:
        return gettext("Inmediato")
    return gettext("%(h)s horas", h=f"{value:g}")


def yes_no(value: bool) -> str:
    return gettext("Sí") if value else gettext("No")
