"""The escalation rules, each with the handbook passage it applies (verbatim).

Readings where the handbook is silent or ambiguous are marked ``house=True``: their ``text`` is THE statement of
the house rule, cited to both passages. The lessons quote these texts verbatim in their ``house_rules`` (a test
holds them to it), and the advisor, the drills and the role-plays read the same way: one place, one reading.
"""
from __future__ import annotations

from dataclasses import dataclass, field

CHANNELS = ("chat", "email", "phone", "social", "ticket")
IMPACTS = ("critico", "alto", "medio", "bajo", "cosmetico")
COMPLEXITIES = ("ninguna", "tecnico", "negocio", "legal", "financiero", "estrategico")
LEVELS = (1, 2, 3, 4)

ESC = "manual/escalamiento-y-resolucion"


@dataclass(frozen=True)
class Citation:
    ref: str
    quote: str


@dataclass(frozen=True)
class Rule:
    key: str
    #: what the rule says, in Spanish, for the agent
    text: str
    citations: tuple[Citation, ...]
    #: a reading of ours where the handbook is silent or ambiguous
    house: bool = False


def _c(ref: str, quote: str) -> Citation:
    return Citation(ref, quote)


#: the house rules of escalation, stated once (lessons quote them verbatim; see the module docstring)
HOUSE_CLOCK = ("El manual no dice desde cuándo cuentan las horas «sin resolución». Regla de la casa: el reloj de cada "
               "nivel empieza cuando el caso llega a ese nivel (en el nivel 1, al crearse el ticket), y el de Management "
               "(«> 2 semanas sin resolución») cuenta desde la creación del ticket.")
HOUSE_LEVEL_3_TO_MANAGEMENT = ("El manual da dos plazos para llegar a Management: «Nivel 3: > 1 semana sin resolución» y "
                               "«Management: > 2 semanas sin resolución». Regla de la casa: se aplican los dos y manda el "
                               "que se cumple antes: un caso llega a Management cuando lleva más de 1 semana sin "
                               "resolución en el nivel 3, o más de 2 semanas desde la creación del ticket en cualquier nivel.")
HOUSE_BUSINESS = ("El manual no dice a qué nivel va un caso que «Impacta operaciones del cliente»: el nivel 1 escala los "
                  "«Casos complejos o especializados» y el nivel 4 tiene como escalamiento «Problemas de negocio». Regla "
                  "de la casa: el impacto en el negocio del cliente, por sí solo, lleva el caso al especialista (nivel 2) "
                  "con la prioridad de su impacto; llega a Management (nivel 4) si además es crítico, pide una decisión "
                  "de compensación o cumple un criterio de tiempo.")
HOUSE_LARGE_REFUND = ("El manual no asigna nivel a la complejidad financiera («Involucra reembolsos grandes»). Regla de la "
                      "casa: un reembolso grande es una decisión de compensación, que es autoridad de Management, así que "
                      "el caso va al nivel 4.")

RULES: dict[str, Rule] = {r.key: r for r in [
    Rule("time-1", "Un caso en nivel 1 con más de 24 horas sin resolución se escala al nivel 2.",
         (_c(f"{ESC}#por-tiempo", "Nivel 1: > 24 horas sin resolución"),)),
    Rule("time-2", "Un caso en nivel 2 con más de 72 horas sin resolución se escala al nivel 3.",
         (_c(f"{ESC}#por-tiempo", "Nivel 2: > 72 horas sin resolución"),)),
    Rule("time-3", HOUSE_LEVEL_3_TO_MANAGEMENT,
         (_c(f"{ESC}#por-tiempo", "Nivel 3: > 1 semana sin resolución"),
          _c(f"{ESC}#por-tiempo", "Management: > 2 semanas sin resolución")), house=True),
    Rule("time-management", HOUSE_LEVEL_3_TO_MANAGEMENT,
         (_c(f"{ESC}#por-tiempo", "Nivel 3: > 1 semana sin resolución"),
          _c(f"{ESC}#por-tiempo", "Management: > 2 semanas sin resolución")), house=True),
    Rule("clock", HOUSE_CLOCK,
         (_c(f"{ESC}#por-tiempo", "Nivel 2: > 72 horas sin resolución"),
          _c(f"{ESC}#por-tiempo", "Management: > 2 semanas sin resolución"),
          _c("manual/herramientas-y-sistemas#funcionalidades", "Creación Automática: Desde múltiples canales")), house=True),
    Rule("development", "Un caso en que se confirma que hace falta un cambio de código (un bug) pasa al nivel 3 "
         "(Ingeniería/Desarrollo) en cuanto se confirma, sin esperar a ningún criterio de tiempo.",
         (_c(f"{ESC}#nivel-2-especialista", "Escalamiento: Casos que requieren desarrollo"),
          _c(f"{ESC}#nivel-3-ingeniero-desarrollador", "Responsabilidades: Bugs, problemas de desarrollo"))),
    Rule("complexity-tecnico", "Un caso que requiere conocimiento especializado pasa al especialista (nivel 2), "
         "que atiende los casos técnicos complejos.",
         (_c(f"{ESC}#por-complejidad", "Técnico: Requiere conocimiento especializado"),
          _c(f"{ESC}#nivel-2-especialista", "Responsabilidades: Casos técnicos complejos"),
          _c(f"{ESC}#nivel-1-agente-general", "Escalamiento: Casos complejos o especializados"))),
    Rule("complexity-negocio", HOUSE_BUSINESS,
         (_c(f"{ESC}#por-complejidad", "Negocio: Impacta operaciones del cliente"),
          _c(f"{ESC}#nivel-1-agente-general", "Escalamiento: Casos complejos o especializados"),
          _c(f"{ESC}#nivel-4-management", "Escalamiento: Problemas de negocio")), house=True),
    Rule("complexity-financiero", HOUSE_LARGE_REFUND,
         (_c(f"{ESC}#por-complejidad", "Financiero: Involucra reembolsos grandes"),
          _c(f"{ESC}#nivel-4-management", "Autoridad: Decisiones de compensación")), house=True),
    Rule("complexity-legal", "Un caso con aspectos legales va al equipo Legal; el manual no dice en qué nivel: "
         "criterio de la casa, nivel 4 con Legal como destino.",
         (_c(f"{ESC}#por-complejidad", "Legal: Implica aspectos legales"),
          _c("manual/contactos#equipos-de-escalamiento", "Legal"),), house=True),
    Rule("complexity-estrategico", "Un caso que afecta una relación estratégica va a Management; el manual no dice en qué nivel: "
         "criterio de la casa, nivel 4.",
         (_c(f"{ESC}#por-complejidad", "Estratégico: Afecta relación estratégica"),
          _c("manual/contactos#equipos-de-escalamiento", "Management")), house=True),
    Rule("impact-critico", "Un sistema completamente inoperativo es un caso crítico: lo atiende Management y debe quedar "
         "resuelto en 4 horas.",
         (_c(f"{ESC}#por-impacto", "Crítico: Sistema completamente inoperativo"),
          _c(f"{ESC}#nivel-4-management", "Responsabilidades: Casos críticos, quejas"),
          _c("manual/estandares-de-servicio#resolucion", "Crítico: 100% resuelto en 4 horas"))),
    Rule("target-1", "El nivel 1 resuelve el 80% en 24 horas.", (_c(f"{ESC}#nivel-1-agente-general", "Tiempo: 80% resolución en 24 horas"),)),
    Rule("target-2", "El nivel 2 resuelve el 80% en 72 horas.", (_c(f"{ESC}#nivel-2-especialista", "Tiempo: 80% resolución en 72 horas"),)),
    Rule("target-3", "El nivel 3 resuelve el 80% en 1 semana.", (_c(f"{ESC}#nivel-3-ingeniero-desarrollador", "Tiempo: 80% resolución en 1 semana"),)),
    Rule("target-4", "Management busca resolución inmediata.", (_c(f"{ESC}#nivel-4-management", "Tiempo: Resolución inmediata"),)),
    Rule("priority", "La prioridad del ticket sigue al impacto por su nombre: Crítico → Crítica, Alto → Alta, Medio → Media, "
         "Bajo y Cosmético → Baja (criterio de la casa).",
         (_c("manual/herramientas-y-sistemas#campos-del-ticket", "Prioridad: Crítica, Alta, Media, Baja"),
          _c(f"{ESC}#por-impacto", "Cosmético: Problema de apariencia")), house=True),
    Rule("transfer", "Al escalar: contexto completo, prioridad, expectativas, cronograma, y el cliente informado.",
         (_c(f"{ESC}#transferencia", "Información: Proporcionar contexto completo"),
          _c(f"{ESC}#transferencia", "Comunicación: Mantener cliente informado"))),
    Rule("social-private", "En redes sociales, los datos del caso se tratan por un canal privado.",
         (_c("manual/procesos-de-atencion#social-media", "Escalamiento: A canales privados si es necesario"),), house=True),
    Rule("boundary", "El manual dice «más de» (>): con exactamente el límite de horas el criterio por tiempo aún no se cumple.",
         (_c(f"{ESC}#por-tiempo", "Nivel 1: > 24 horas sin resolución"),)),
    Rule("commitment", "Si el caso sigue en su nivel, el resultado es un compromiso con seguimiento.",
         (_c("contact-center/mejores-practicas-y-metricas#compromiso", "Seguimiento vía call back, mail, etc."),)),
    Rule("escalation-outcome", "Escalar es el resultado cuando la demanda excede las habilidades o la autorización del agente.",
         (_c("contact-center/mejores-practicas-y-metricas#escalamiento", "El agente no está autorizado a realizar ese tipo de tareas"),)),
]}

#: hours without resolution after which each level escalates by time (strictly more than)
TIME_LIMIT_HOURS = {1: 24, 2: 72, 3: 168}
MANAGEMENT_AFTER_HOURS = 336
#: resolution target of each level, in hours (level 4: immediate)
TARGET_HOURS = {1: 24, 2: 72, 3: 168, 4: 0}
CRITICAL_TARGET_HOURS = 4

DESTINATIONS = {1: "Nivel 1 · Agente general", 2: "Nivel 2 · Especialista", 3: "Nivel 3 · Ingeniería/Desarrollo", 4: "Nivel 4 · Management"}
COMPLEXITY_LEVEL = {"tecnico": 2, "negocio": 2, "legal": 4, "financiero": 4, "estrategico": 4}
#: a case confirmed to need a code change goes to level 3 (Ingeniería/Desarrollo)
DEVELOPMENT_LEVEL = 3
PRIORITY = {"critico": "Crítica", "alto": "Alta", "medio": "Media", "bajo": "Baja", "cosmetico": "Baja"}
OUTCOMES = ("escalamiento", "compromiso")


@dataclass(frozen=True)
class Ticket:
    id: str
    channel: str
    current_level: int
    hours_since_opening: float
    hours_at_current_level: float
    impact: str
    complexity: str
    #: confirmed to need a code change (a bug): level 3 without waiting for a time criterion
    needs_development: bool = False


@dataclass
class Advice:
    level: int
    destination: str
    deadline_hours: float
    priority: str
    outcome: str
    rules: list[Rule] = field(default_factory=list)
    #: where the handbook is ambiguous for this ticket and which house reading was applied
    ambiguities: list[str] = field(default_factory=list)

    def quoted_rules(self) -> list[str]:
        """Each applied rule as «quote» (page#anchor) — the format of the CLI."""
        out = []
        for rule in self.rules:
            for citation in rule.citations:
                line = f"«{citation.quote}» ({citation.ref})"
                if line not in out:
                    out.append(line)
        return out


def advise(ticket: Ticket) -> Advice:
    """Apply the handbook's escalation criteria (time, complexity, impact) to a ticket."""
    applied: list[Rule] = []
    ambiguities: list[str] = []
    level = ticket.current_level

    # by time: each level's limit, counted from the case's arrival at that level; Management after 2 weeks since
    # the ticket was created (house rules «clock» and «time-3»: whichever comes first)
    limit = TIME_LIMIT_HOURS.get(ticket.current_level)
    if limit is not None:
        if ticket.hours_at_current_level > limit:
            applied.append(RULES[f"time-{ticket.current_level}"])
            level = max(level, ticket.current_level + 1)
        elif ticket.hours_at_current_level == limit:
            applied.append(RULES["boundary"])
            ambiguities.append(
                f"Exactamente {limit:g} horas en el nivel {ticket.current_level}: el manual dice «más de {limit:g}», "
                "así que todavía no se escala por tiempo (lectura literal del manual).")
    if ticket.hours_since_opening > MANAGEMENT_AFTER_HOURS:
        applied.append(RULES["time-management"])
        level = 4
    elif ticket.hours_since_opening == MANAGEMENT_AFTER_HOURS:
        applied.append(RULES["boundary"])
        ambiguities.append("Exactamente 2 semanas abierto: el manual dice «más de 2 semanas»; todavía no llega a Management por tiempo.")
    if limit is not None or ticket.current_level == 4:
        applied.append(RULES["clock"])
        ambiguities.append(HOUSE_CLOCK)
    if ticket.current_level == 3 or ticket.hours_since_opening > MANAGEMENT_AFTER_HOURS:
        ambiguities.append(HOUSE_LEVEL_3_TO_MANAGEMENT)

    # a confirmed bug: development is level 3's responsibility, whatever the clock says
    if ticket.needs_development:
        applied.append(RULES["development"])
        level = max(level, DEVELOPMENT_LEVEL)

    # by complexity
    if ticket.complexity != "ninguna":
        rule = RULES[f"complexity-{ticket.complexity}"]
        applied.append(rule)
        wanted = COMPLEXITY_LEVEL[ticket.complexity]
        level = max(level, wanted)
        if rule.house:
            ambiguities.append(rule.text)

    # by impact
    if ticket.impact == "critico":
        applied.append(RULES["impact-critico"])
        level = 4

    destination = DESTINATIONS[level]
    if level == 4 and ticket.complexity == "legal" and ticket.impact != "critico":
        destination = "Legal"

    # deadline: a critical case must be solved within 4 hours of opening; otherwise the target of the level it is at
    if ticket.impact == "critico":
        deadline = max(0.0, CRITICAL_TARGET_HOURS - ticket.hours_since_opening)
    elif level > ticket.current_level:
        deadline = float(TARGET_HOURS[level])
        applied.append(RULES[f"target-{level}"])
    else:
        deadline = max(0.0, TARGET_HOURS[level] - ticket.hours_at_current_level)
        applied.append(RULES[f"target-{level}"])

    outcome = "escalamiento" if level > ticket.current_level else "compromiso"
    applied.append(RULES["escalation-outcome" if outcome == "escalamiento" else "commitment"])
    if outcome == "escalamiento":
        applied.append(RULES["transfer"])
    applied.append(RULES["priority"])
    if ticket.channel == "social":
        applied.append(RULES["social-private"])

    unique: list[Rule] = []
    for rule in applied:
        if rule not in unique:
            unique.append(rule)
    return Advice(level=level, destination=destination, deadline_hours=round(deadline, 2), priority=PRIORITY[ticket.impact],
                  outcome=outcome, rules=unique, ambiguities=ambiguities)


class TicketError(ValueError):
    pass


def ticket_from_dict(data: dict) -> Ticket:
    """Validate the facts of one ticket (the CLI's and the advisor's input format)."""
    if not isinstance(data, dict):
        raise TicketError("each ticket must be a mapping of fields")
    expected = {"id", "channel", "current_level", "hours_since_opening", "hours_at_current_level", "impact", "complexity"}
    optional = {"needs_development"}
    missing = expected - set(data)
    unknown = set(data) - expected - optional
    if missing:
        raise TicketError(f"missing field(s): {', '.join(sorted(missing))}")
    if unknown:
        raise TicketError(f"unknown field(s): {', '.join(sorted(unknown))}")
    if str(data["channel"]) not in CHANNELS:
        raise TicketError(f"channel must be one of {', '.join(CHANNELS)}")
    level = data["current_level"]
    if isinstance(level, bool) or not isinstance(level, int) or level not in LEVELS:
        raise TicketError("current_level must be 1, 2, 3 or 4")
    hours = {}
    for name in ("hours_since_opening", "hours_at_current_level"):
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value > 100_000:
            raise TicketError(f"{name} must be a number of hours >= 0")
        hours[name] = float(value)
    if hours["hours_at_current_level"] > hours["hours_since_opening"]:
        raise TicketError("hours_at_current_level cannot exceed hours_since_opening")
    if data["impact"] not in IMPACTS:
        raise TicketError(f"impact must be one of {', '.join(IMPACTS)}")
    if data["complexity"] not in COMPLEXITIES:
        raise TicketError(f"complexity must be one of {', '.join(COMPLEXITIES)}")
    needs_development = data.get("needs_development", False)
    if not isinstance(needs_development, bool):
        raise TicketError("needs_development must be true or false")
    return Ticket(id=str(data["id"]), channel=data["channel"], current_level=level, impact=data["impact"],
                  complexity=data["complexity"], needs_development=needs_development, **hours)
