"""xAPI 1.0.3 statements as plain JSON-ready dicts (no database, no Flask).

Identity of the site: every IRI (activities, the actor's account, extensions) lives under ``PUBLIC_URL``,
and statement ids are UUID version 5 over the site, this installation (a random id of its own, so a second
install or a restored copy at the same address cannot reuse an id for another event) and the event, so one event
always has one id: a retry, a re-queue or a backfill sends the same statement again, and the LRS keeps it once.
Statements say their ``version`` (1.0.3); the site's extension IRIs resolve to a short JSON-LD description
(:data:`EXTENSIONS`).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

PLATFORM = "Academia de Atención"
LANGUAGE = "es"
#: the xAPI version the statements follow (sent as each statement's ``version``)
VERSION = "1.0.3"

#: the site's own context extensions: name → (Spanish, English) name and description, published at their IRI
EXTENSIONS = {
    "expires-at": (("caduca el", "expires at"),
                   ("Fecha y hora (ISO 8601, UTC) en que caduca el certificado obtenido.",
                    "Date and time (ISO 8601, UTC) at which the earned certificate expires.")),
    "verification-url": (("dirección de verificación", "verification URL"),
                         ("Página pública donde cualquiera puede comprobar el certificado.",
                          "Public page where anyone can check the certificate.")),
    "renewal": (("renovación", "renewal"),
                ("true si el certificado renueva uno anterior (recertificación), false si es el primero.",
                 "true when the certificate renews an earlier one (recertification), false for a first one.")),
}

#: verb id → display names
VERBS = {
    "completed": ("http://adlnet.gov/expapi/verbs/completed", "completó", "completed"),
    "passed": ("http://adlnet.gov/expapi/verbs/passed", "aprobó", "passed"),
    "failed": ("http://adlnet.gov/expapi/verbs/failed", "suspendió", "failed"),
    "scored": ("http://adlnet.gov/expapi/verbs/scored", "obtuvo una puntuación en", "scored"),
    "submitted": ("http://activitystrea.ms/schema/1.0/submit", "entregó", "submitted"),
    "earned": ("http://id.tincanapi.com/verb/earned", "obtuvo", "earned"),
    "voided": ("http://adlnet.gov/expapi/verbs/voided", "anuló", "voided"),
}

#: what we teach → xAPI activity type
ACTIVITY_TYPES = {
    "lesson": "http://adlnet.gov/expapi/activities/lesson",
    "module": "http://adlnet.gov/expapi/activities/module",
    "track": "http://adlnet.gov/expapi/activities/course",
    "quiz": "http://adlnet.gov/expapi/activities/assessment",
    "roleplay": "http://adlnet.gov/expapi/activities/simulation",
    "certification": "http://id.tincanapi.com/activitytype/certificate",
}

#: activity kind → path of its IRI under PUBLIC_URL (the site's own pages where there is one)
PATHS = {"lesson": "lessons", "module": "modules", "track": "tracks", "quiz": "quizzes", "roleplay": "roleplays",
         "certification": "certifications"}

ATTEMPT_EXTENSION = "http://id.tincanapi.com/extension/attempt-id"


@dataclass(frozen=True)
class Site:
    """What the statements need to know about the site (from the configuration)."""

    base_url: str
    actor: str = "account"  # or "mbox"
    #: this installation's own id (XAPI_INSTALLATION_ID, or kept in the instance folder): part of every statement id
    installation: str = ""

    @property
    def namespace(self) -> uuid.UUID:
        return uuid.uuid5(uuid.NAMESPACE_URL, self.base_url + ("#" + self.installation if self.installation else ""))

    def iri(self, *parts: str) -> str:
        return "/".join([self.base_url.rstrip("/"), *(str(p).strip("/") for p in parts)])

    def extension(self, name: str) -> str:
        return self.iri("xapi", "extensions", name)


@dataclass(frozen=True)
class Activity:
    kind: str  # a key of ACTIVITY_TYPES
    slug: str
    title: str

    def as_json(self, site: Site) -> dict:
        return {"objectType": "Activity", "id": site.iri(PATHS[self.kind], self.slug),
                "definition": {"name": {LANGUAGE: self.title}, "type": ACTIVITY_TYPES[self.kind]}}


def statement_id(site: Site, event_key: str) -> str:
    """The one id of an event's statement on this site (``event_key`` names the event, e.g. ``lesson-completed:3:7``)."""
    return str(uuid.uuid5(site.namespace, event_key))


def timestamp(at: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, e.g. 2026-01-09T09:00:00.000Z."""
    if at.tzinfo is None:
        raise ValueError("naive datetime given to a statement")
    return at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def duration(delta: timedelta) -> str | None:
    """ISO 8601 duration (PT1H2M3.5S) of a non-negative interval, to the hundredth of a second."""
    total = round(delta.total_seconds(), 2)
    if total < 0:
        return None
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    out = "PT" + (f"{int(hours)}H" if hours else "") + (f"{int(minutes)}M" if minutes else "")
    return out + (f"{seconds:.2f}".rstrip("0").rstrip(".") + "S" if seconds or out == "PT" else "")


def agent(site: Site, *, user_id: int, name: str, email: str) -> dict:
    """The Agent object of a user (see ``Site.actor``)."""
    agent = {"objectType": "Agent", "name": name}
    if site.actor == "mbox":
        agent["mbox"] = f"mailto:{email}"
    else:
        agent["account"] = {"homePage": site.base_url, "name": str(user_id)}
    return agent


def verb_json(name: str) -> dict:
    iri, spanish, english = VERBS[name]
    return {"id": iri, "display": {"es": spanish, "en-US": english}}


def score(raw: float, maximum: float, minimum: float = 0.0) -> dict | None:
    """A result score; None when there is no scale to score on."""
    if maximum <= minimum:
        return None
    raw = min(max(raw, minimum), maximum)
    return {"scaled": round((raw - minimum) / (maximum - minimum), 4), "raw": raw, "min": minimum, "max": maximum}


def statement(site: Site, *, event_key: str, actor: dict, verb: str, activity: Activity, at: datetime,
              result: dict | None = None, parents: list[Activity] = (), grouping: list[Activity] = (),
              instructor: dict | None = None, statement_ref: str | None = None, extensions: dict | None = None) -> dict:
    """One statement about an activity. Empty parts are left out (xAPI forbids empty values)."""
    context: dict = {"platform": PLATFORM, "language": LANGUAGE}
    activities = {name: [a.as_json(site) for a in group] for name, group in (("parent", parents), ("grouping", grouping)) if group}
    if activities:
        context["contextActivities"] = activities
    if instructor:
        context["instructor"] = instructor
    if statement_ref:
        context["statement"] = {"objectType": "StatementRef", "id": statement_ref}
    if extensions:
        context["extensions"] = extensions
    out = {"id": statement_id(site, event_key), "actor": actor, "verb": verb_json(verb),
           "object": activity.as_json(site), "context": context, "timestamp": timestamp(at), "version": VERSION}
    result = {k: v for k, v in (result or {}).items() if v is not None}
    if result:
        out["result"] = result
    return out


def voiding(site: Site, *, voided: dict, at: datetime) -> dict:
    """The statement that voids ``voided`` (a grade that changed): same actor, verb voided, a StatementRef."""
    return {"id": statement_id(site, f"void:{voided['id']}"), "actor": voided["actor"], "verb": verb_json("voided"),
            "object": {"objectType": "StatementRef", "id": voided["id"]}, "timestamp": timestamp(at), "version": VERSION}


def extension_document(site: Site, name: str) -> dict | None:
    """The JSON-LD description an extension IRI of the site resolves to (None: not one of ours)."""
    if name not in EXTENSIONS:
        return None
    (es_name, en_name), (es_text, en_text) = EXTENSIONS[name]
    return {"@context": {"name": "http://schema.org/name", "description": "http://schema.org/description"},
            "@id": site.extension(name), "@type": "http://adlnet.gov/expapi/activities/extension",
            "name": {"es": es_name, "en": en_name}, "description": {"es": es_text, "en": en_text}}
