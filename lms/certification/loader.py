"""Loads ``courses/certifications/*.yaml`` (spec: courses/certifications/README.md)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.certification.models import CertificationDefinition
from lms.content import Problems, SyncReport
from lms.content.files import plain as _plain
from lms.content.walk import yaml_files
from lms.content.impact import StoredCitation, citations_of
from lms.content.schema import Field, check_id, item_line, non_empty_text, positive_int, validate_mapping
from lms.reference.services import check_citations

AREAS = ("producto", "proceso", "tecnica", "soft-skills", "liderazgo")
CHANNELS = ("chat", "email", "phone", "social")
CUSTOMER_TYPES = ("satisfecho", "frustrado", "confundido", "exigente")
#: days before expiry when the recertification path opens, unless the file says otherwise
DEFAULT_WINDOW_DAYS = 60

FIELDS = [
    Field("id", str, check=check_id), Field("title", str, check=non_empty_text),
    Field("area", str, check=lambda v: None if v in AREAS else f"must be one of {', '.join(AREAS)}"),
    Field("description", str, required=False), Field("track", str, required=False, check=check_id),
    Field("validity_months", int, check=positive_int), Field("requirements", list), Field("sources", list),
    Field("recertification", dict, required=False),
]
RECERTIFICATION_FIELDS = [Field("window_days", int, required=False, check=positive_int), Field("requirements", list)]
#: what a recertification may ask for: fresh evidence only (a lesson is completed once and for all)
RECERTIFICATION_KINDS = ("quiz_passed", "roleplay_grade", "coverage")
PERCENT = Field("min_score", (int, float), required=False, check=lambda v: None if 0 < v <= 100 else "must be a percentage")

#: requirement kinds: type → its fields (evaluation joins them in the certification engine)
REQUIREMENT_FIELDS = {
    "lessons_completed": [Field("type", str), Field("modules", list)],
    "quiz_passed": [Field("type", str), Field("quiz", str, check=check_id), PERCENT],
    "roleplay_grade": [Field("type", str), Field("scenarios", list), PERCENT],
    "coverage": [Field("type", str), Field("channels", list, required=False), Field("customer_types", list, required=False), PERCENT],
}



@dataclass
class CCertification:
    slug: str
    path: str
    title: str
    area: str
    description: str
    track: str | None
    validity_months: int
    requirements: list[dict]
    sources: list[dict]
    recertification: dict | None = None

    def digest(self) -> str:
        return hashlib.sha256(json.dumps([self.title, self.area, self.description, self.track, self.validity_months,
                                          self.requirements, self.sources, self.recertification],
                                         sort_keys=True, ensure_ascii=False).encode()).hexdigest()

def _requirements(items, base_line, display, what, kinds, tracks, quiz_ids, scenario_ids, problems: Problems) -> list[dict]:
    requirements = []
    for index, req in enumerate(items):
        line = item_line(items, index, base_line)
        kind = req.get("type") if isinstance(req, dict) else None
        if kind not in kinds:
            problems.add(display, line, f"{what}[{index + 1}]: unknown type {kind!r} (known: {', '.join(kinds)})")
            continue
        errs = validate_mapping(req, kinds[kind], display, line, what=f"{what}[{index + 1}]")
        if errs:
            problems.extend(errs)
            continue
        for module in req.get("modules", []):
            if module not in tracks.modules:
                problems.add(display, line, f"{what}[{index + 1}]: unknown module {module!r}")
        if kind == "quiz_passed" and req["quiz"] not in quiz_ids:
            problems.add(display, line, f"{what}[{index + 1}]: unknown quiz {req['quiz']!r}")
        for scenario in req.get("scenarios", []):
            if scenario not in scenario_ids:
                problems.add(display, line, f"{what}[{index + 1}]: unknown scenario {scenario!r}")
        for channel in req.get("channels", []):
            if channel not in CHANNELS:
                problems.add(display, line, f"{what}[{index + 1}]: unknown channel {channel!r}")
        for customer_type in req.get("customer_types", []):
            if customer_type not in CUSTOMER_TYPES:
                problems.add(display, line, f"{what}[{index + 1}]: unknown customer type {customer_type!r}")
        requirements.append(_plain(req))
    return requirements


def _recertification(block, line, display, tracks, quiz_ids, scenario_ids, problems: Problems) -> dict | None:
    """``recertification: {window_days, requirements}``: the path assigned as a certificate nears expiry."""
    errs = validate_mapping(block, RECERTIFICATION_FIELDS, display, line, what="recertification")
    if errs:
        problems.extend(errs)
        return None
    kinds = {kind: REQUIREMENT_FIELDS[kind] for kind in RECERTIFICATION_KINDS}
    requirements = _requirements(block["requirements"], block.line_of("requirements") if hasattr(block, "line_of") else line,
                                 display, "recertification.requirements", kinds, tracks, quiz_ids, scenario_ids, problems)
    if not requirements:
        problems.add(display, line, "recertification needs at least one requirement")
        return None
    return {"window_days": block.get("window_days") or DEFAULT_WINDOW_DAYS, "requirements": requirements}


class CertificationsLoader:
    name = "certification"
    depends_on = ("reference", "tracks", "quizzes", "roleplays")

    def collect(self, root: Path, collected, problems: Problems) -> dict[str, CCertification]:
        reference = collected["reference"]
        tracks = collected["tracks"]
        quiz_ids = set(collected["quizzes"].quizzes)
        scenario_ids = set(collected["roleplays"].scenarios)
        result: dict[str, CCertification] = {}
        for _path, display, data in yaml_files(root, "courses/certifications/*.yaml", FIELDS, problems):
            if data.get("track") and data["track"] not in tracks.tracks:
                problems.add(display, data.line_of("track"), f"unknown track {data['track']!r}")
            requirements = _requirements(data["requirements"], data.line_of("requirements"), display, "requirements",
                                         REQUIREMENT_FIELDS, tracks, quiz_ids, scenario_ids, problems)
            if not requirements:
                problems.add(display, data.line_of("requirements"), "a certification needs at least one requirement")
            recertification = None
            if data.get("recertification") is not None:
                recertification = _recertification(data["recertification"], data.line_of("recertification"), display,
                                                   tracks, quiz_ids, scenario_ids, problems)
            sources = check_citations(problems, display, data["sources"], data.line_of("sources"), reference)
            if data["id"] in result:
                problems.add(display, data.line_of("id"), f"duplicate certification id {data['id']!r} (also in {result[data['id']].path})")
                continue
            result[data["id"]] = CCertification(data["id"], display, data["title"], data["area"], data.get("description") or "",
                                                data.get("track"), data["validity_months"], requirements, sources, recertification)
        return result

    # -- revision impact -----------------------------------------------------
    def stored_citations(self, session: Session) -> list[StoredCitation]:
        rows = session.execute(select(CertificationDefinition.slug, CertificationDefinition.sources)
                               .where(CertificationDefinition.is_archived.is_(False)))
        return [c for slug, sources in rows for c in citations_of("certification", slug, sources)]

    def dependents(self, collected, affected: set[tuple[str, str]]) -> list[tuple[str, str]]:
        """Certifications whose evidence rests on any affected lesson, module, question, rubric or scenario."""
        out = []
        for slug, cert in (collected.get(self.name) or {}).items():
            if affected & self.evidence_items(collected, cert):
                out.append(("certification", slug))
        return out

    @staticmethod
    def evidence_items(collected, cert: CCertification) -> set[tuple[str, str]]:
        tracks, quizzes, roleplays = collected["tracks"], collected["quizzes"], collected["roleplays"]
        items: set[tuple[str, str]] = {("certification", cert.slug)}
        for req in cert.requirements:
            kind = req["type"]
            if kind == "lessons_completed":
                for module in req["modules"]:
                    items.add(("module", module))
                    items |= {("lesson", lesson) for lesson in tracks.modules[module].lessons}
            elif kind == "quiz_passed":
                quiz = quizzes.quizzes[req["quiz"]]
                for rule in quiz.settings["draw"]:
                    if "questions" in rule:
                        items |= {("question", q) for q in rule["questions"]}
                    else:
                        items |= {("question", q) for q in quizzes.banks[rule["bank"]].questions
                                  if set(rule["tags"]) <= set(quizzes.questions[q].tags)}
            elif kind in ("roleplay_grade", "coverage"):
                scenarios = req.get("scenarios") or [
                    s.slug for s in roleplays.scenarios.values()
                    if (not req.get("channels") or s.channel in req["channels"])
                ]
                for scenario in scenarios:
                    items.add(("scenario", scenario))
                    items.add(("rubric", roleplays.scenarios[scenario].rubric))
        return items

    def sync(self, session: Session, items: dict[str, CCertification], collected, report: SyncReport) -> None:
        rows = {c.slug: c for c in session.scalars(select(CertificationDefinition))}
        for slug, item in items.items():
            digest = item.digest()
            row = rows.get(slug)
            if row is None:
                row = CertificationDefinition(slug=slug, version=1)
                session.add(row)
                report.count("created", "certifications")
            elif row.content_hash == digest and not row.is_archived and row.source_path == item.path:
                continue
            else:
                if row.content_hash != digest:
                    row.version += 1
                report.count("restored" if row.is_archived else "updated", "certifications")
            row.title, row.area, row.description, row.track_slug = item.title, item.area, item.description, item.track
            row.validity_months, row.requirements, row.sources = item.validity_months, item.requirements, item.sources
            row.recertification = item.recertification
            row.content_hash, row.source_path, row.is_archived = digest, item.path, False
        for slug, row in rows.items():
            if slug not in items and not row.is_archived:
                row.is_archived = True
                report.count("archived", "certifications")
