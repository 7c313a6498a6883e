"""Loads ``roleplays/rubrics/*.yaml`` and ``roleplays/*.md`` (spec: roleplays/README.md)."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.content import Problems, SyncReport
from lms.content.files import plain as _plain
from lms.content.walk import markdown_files, yaml_files
from lms.content.impact import StoredCitation, citations_of

from lms.content.schema import Field, check_id, item_line, non_empty_text, positive_int, validate_mapping
from lms.reference.services import check_citations, check_house_rules
from lms.roleplays.models import Rubric, RubricVersion, Scenario

MODES = ("chat", "email", "phone", "social", "surge", "ticket")  # ticket: a queue of incoming tickets (docs/practice-workspace.md)
CHANNELS = ("chat", "email", "phone", "social", "ticket")
CUSTOMER_TYPES = ("satisfecho", "frustrado", "confundido", "exigente")

RUBRIC_FIELDS = [Field("id", str, check=check_id), Field("title", str, check=non_empty_text),
                 Field("description", str, required=False), Field("criteria", list)]
CRITERION_FIELDS = [
    Field("id", str, check=check_id), Field("title", str, check=non_empty_text),
    Field("weight", (int, float), required=False, check=lambda v: None if v > 0 else "must be > 0"),
    Field("critical", bool, required=False),
    Field("pass_level", int, required=False, check=lambda v: None if 0 <= v <= 4 else "must be a level from 0 to 4"),
    Field("levels", dict), Field("sources", list),
]
SCENARIO_FIELDS = [
    Field("id", str, check=check_id), Field("title", str, check=non_empty_text),
    Field("mode", str, check=lambda v: None if v in MODES else f"must be one of {', '.join(MODES)}"),
    Field("channel", str, check=lambda v: None if v in CHANNELS else f"must be one of {', '.join(CHANNELS)}"),
    Field("response_standard", dict), Field("case", list), Field("customers", list), Field("objectives", list),
    Field("escalation", dict, required=False), Field("rubric", str, check=check_id), Field("sources", list),
    Field("house_rules", list, required=False),
    Field("ticket", dict, required=False),  # the practice workspace's correct ticket (docs/practice-workspace.md)
]
STANDARD_FIELDS = [Field("seconds", int, check=positive_int), Field("source", dict)]
CUSTOMER_FIELDS = [
    Field("id", str, check=check_id), Field("name", str, check=non_empty_text),
    Field("type", str, check=lambda v: None if v in CUSTOMER_TYPES else f"must be one of {', '.join(CUSTOMER_TYPES)}"),
    Field("profile", str, check=non_empty_text), Field("record", dict, required=False), Field("messages", list, required=False),
    # the customer model (roleplays/README.md, «El cliente que escucha»)
    Field("opening", str, required=False, check=non_empty_text), Field("mood", int, required=False),
    Field("max_turns", int, required=False), Field("needs", list, required=False), Field("holds", list, required=False),
    Field("moves", dict, required=False), Field("reactions", dict, required=False), Field("endings", dict, required=False),
    Field("escalates", bool, required=False),
]
ESCALATION_FIELDS = [
    Field("required", bool), Field("level", int, required=False, check=lambda v: None if 1 <= v <= 4 else "must be a level from 1 to 4"),
    Field("destination", str, required=False), Field("reason", str, check=non_empty_text), Field("sources", list),
]
SECTION = re.compile(r"^##\s+(.+?)\s*$", re.MULTILINE)


def _hash(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")).hexdigest()



@dataclass
class CRubric:
    slug: str
    path: str
    data: dict


@dataclass
class CScenario:
    slug: str
    path: str
    title: str
    mode: str
    channel: str
    rubric: str
    data: dict
    situation: str
    exemplar: str

    def digest(self) -> str:
        return _hash([self.title, self.mode, self.channel, self.rubric, self.data, self.situation, self.exemplar])


@dataclass
class Collected:
    rubrics: dict[str, CRubric]
    scenarios: dict[str, CScenario]


class RoleplaysLoader:
    name = "roleplays"
    depends_on = ("reference",)

    def collect(self, root: Path, collected, problems: Problems) -> Collected:
        reference = collected["reference"]
        rubrics = self._collect_rubrics(root, problems, reference)
        scenarios = self._collect_scenarios(root, problems, reference, rubrics)
        return Collected(rubrics, scenarios)

    def _collect_rubrics(self, root, problems, reference) -> dict[str, CRubric]:
        rubrics: dict[str, CRubric] = {}
        for _path, display, data in yaml_files(root, "roleplays/rubrics/*.yaml", RUBRIC_FIELDS, problems):
            criteria, ids = [], set()
            for index, criterion in enumerate(data["criteria"]):
                line = item_line(data["criteria"], index, data.line_of("criteria"))
                errors = validate_mapping(criterion, CRITERION_FIELDS, display, line, what=f"criteria[{index + 1}]")
                if errors:
                    problems.extend(errors)
                    continue
                if criterion["id"] in ids:
                    problems.add(display, line, f"criterion id {criterion['id']!r} repeats")
                ids.add(criterion["id"])
                levels = criterion["levels"]
                if sorted(levels) != [0, 1, 2, 3, 4] or any(not isinstance(v, str) or not v.strip() for v in levels.values()):
                    problems.add(display, criterion.line_of("levels"), f"criterion {criterion['id']!r}: 'levels' needs a descriptor for each level 0, 1, 2, 3 and 4")
                    continue
                if criterion.get("critical") and "pass_level" not in criterion:
                    problems.add(display, line, f"criterion {criterion['id']!r} is critical: say its 'pass_level'")
                sources = check_citations(problems, display, criterion["sources"], criterion.line_of("sources"), reference)
                criteria.append({
                    "id": criterion["id"], "title": criterion["title"], "weight": criterion.get("weight", 1),
                    "critical": criterion.get("critical", False), "pass_level": criterion.get("pass_level"),
                    "levels": {str(k): v.strip() for k, v in sorted(levels.items())}, "sources": sources,
                })
            if not criteria:
                problems.add(display, data.line_of("criteria"), "a rubric needs at least one criterion")
            if data["id"] in rubrics:
                problems.add(display, data.line_of("id"), f"duplicate rubric id {data['id']!r} (also in {rubrics[data['id']].path})")
                continue
            rubrics[data["id"]] = CRubric(data["id"], display, {
                "title": data["title"], "description": data.get("description") or "", "criteria": criteria,
            })
        return rubrics

    def _collect_scenarios(self, root, problems, reference, rubrics) -> dict[str, CScenario]:
        # the customer engine and the ticket blocks: loaded by a content sync, not by a web worker's start
        from lms.roleplays.engine import model as engine_model
        from lms.roleplays.workspace import load_ticket_block

        scenarios: dict[str, CScenario] = {}
        library = engine_model.load_library(root, problems, reference)
        for _path, display, meta, body, body_line in markdown_files(root, "roleplays/*.md", SCENARIO_FIELDS, problems):
            before = len(problems)
            standard = meta["response_standard"]
            problems.extend(validate_mapping(standard, STANDARD_FIELDS, display, meta.line_of("response_standard"), what="response_standard"))
            standard_source = []
            if isinstance(standard.get("source"), dict):
                standard_source = check_citations(problems, display, [standard["source"]], standard.line_of("source"), reference,
                                                  what="response_standard.source")
            case = check_citations(problems, display, meta["case"], meta.line_of("case"), reference, what="case")
            sources = check_citations(problems, display, meta["sources"], meta.line_of("sources"), reference)
            customers = self._customers(meta, display, problems)
            if meta["mode"] == "surge" and not 2 <= len(customers) <= 3:
                problems.add(display, meta.line_of("customers"), "surge mode needs 2 or 3 customers")
            if meta["mode"] == "ticket" and not 2 <= len(customers) <= 5:
                problems.add(display, meta.line_of("customers"), "ticket mode is a queue of 2 to 5 tickets (one customer each)")
            if meta["mode"] not in ("surge", "ticket") and len(customers) != 1:
                problems.add(display, meta.line_of("customers"), f"{meta['mode']} mode needs exactly one customer")
            if meta["mode"] == "email" and customers and "needs" not in customers[0] and len(customers[0]["messages"]) != 1:
                problems.add(display, meta.line_of("customers"), "email mode needs exactly one customer message (the e-mail)")
            if meta["mode"] in CHANNELS and meta["mode"] != meta["channel"]:
                problems.add(display, meta.line_of("channel"), f"a {meta['mode']} role-play is timed against the {meta['mode']} standard, not {meta['channel']}")
            if meta["mode"] == "surge" and meta["channel"] != "chat":
                problems.add(display, meta.line_of("channel"), "surge mode plays simultaneous chats: channel must be chat")
            objectives = [str(o).strip() for o in meta["objectives"]]
            if not objectives or not all(objectives):
                problems.add(display, meta.line_of("objectives"), "'objectives' must list what the agent must achieve")
            escalation = None
            if meta.get("escalation") is not None:
                esc = meta["escalation"]
                errs = validate_mapping(esc, ESCALATION_FIELDS, display, meta.line_of("escalation"), what="escalation")
                if errs:
                    problems.extend(errs)
                else:
                    if esc["required"] and ("level" not in esc or not esc.get("destination")):
                        problems.add(display, esc.line, "a required escalation needs its 'level' and 'destination'")
                    escalation = _plain(esc) | {"sources": check_citations(problems, display, esc["sources"], esc.line_of("sources"), reference, what="escalation.sources")}
            house_rules = check_house_rules(problems, display, meta, reference)
            ticket = load_ticket_block(problems, display, meta, reference)
            if meta["rubric"] not in rubrics:
                problems.add(display, meta.line_of("rubric"), f"unknown rubric {meta['rubric']!r}")
            sections = self._sections(body)
            for required in ("Situación", "Respuesta modelo"):
                if not sections.get(required, "").strip():
                    problems.add(display, body_line, f"the body needs a non-empty '## {required}' section")
            if meta["id"] in scenarios:
                problems.add(display, meta.line_of("id"), f"duplicate scenario id {meta['id']!r} (also in {scenarios[meta['id']].path})")
                continue
            if len(problems) > before:
                continue
            data = {
                "response_standard": {"seconds": standard["seconds"], "source": standard_source[0] if standard_source else None},
                "case": case, "customers": customers, "objectives": objectives, "escalation": escalation,
                "sources": sources, "house_rules": house_rules,
            }
            if any(engine_model.has_model(c) for c in meta["customers"] if isinstance(c, dict)):
                if not self._customer_models(meta, data, display, problems, reference, library):
                    continue
            if ticket is not None:
                data["ticket"] = ticket
            # the front matter as written: the loader enriches ``data`` (the customer model compiled, citations with their
            # text hashes, the move library's teams and mood), so ``content export`` writes the file back from this
            data["front_matter"] = {k: v for k, v in _plain(meta).items() if k not in ("id", "title", "mode", "channel", "rubric")}
            scenarios[meta["id"]] = CScenario(meta["id"], display, meta["title"], meta["mode"], meta["channel"], meta["rubric"],
                                              data, sections["Situación"].strip(), sections["Respuesta modelo"].strip())
        return scenarios

    def _customers(self, meta, path, problems) -> list[dict]:
        from lms.roleplays.engine import model as engine_model

        customers, ids = [], set()
        for index, customer in enumerate(meta["customers"]):
            line = item_line(meta["customers"], index, meta.line_of("customers"))
            errors = validate_mapping(customer, CUSTOMER_FIELDS, path, line, what=f"customers[{index + 1}]")
            if errors:
                problems.extend(errors)
                continue
            if customer["id"] in ids:
                problems.add(path, line, f"customer id {customer['id']!r} repeats")
            ids.add(customer["id"])
            if engine_model.has_model(customer):
                customers.append(_plain(customer))
                continue
            messages = [str(m).strip() for m in customer.get("messages") or []]
            if not messages or not all(messages):
                problems.add(path, customer.line_of("messages"), f"customer {customer['id']!r}: 'messages' must list what the customer says "
                             "(or give the customer a model: 'opening' and 'needs')")
            customers.append(_plain(customer) | {"messages": messages})
        return customers

    def _customer_models(self, meta, data, display, problems, reference, library) -> bool:
        """Build and check every customer's model (needs, moves, reactions, endings); False when it has problems."""
        from lms.roleplays.engine import model as engine_model

        if library is None:
            problems.add(display, meta.line_of("customers"), f"the customer model needs a valid {engine_model.LIBRARY_FILE}")
            return False
        before = len(problems)
        sink = engine_model.Sink(problems, display)
        escalation = data["escalation"]
        data["teams"] = library["teams"]
        data["move_library_text"] = library["text"]
        data["mood"] = {"labels": library["mood"]["labels"], "source": library["mood"]["source"]}
        if escalation is not None:
            escalation["teams"] = engine_model.expected_teams(library, escalation.get("destination") or "")
            if escalation.get("required") and not escalation["teams"]:
                problems.add(display, meta.line_of("escalation"), f"escalation destination {escalation.get('destination')!r} names no team of "
                             f"{engine_model.LIBRARY_FILE} (teams: {', '.join(t['id'] for t in library['teams'])})")
        for raw, customer in zip(meta["customers"], data["customers"]):
            if not engine_model.has_model(raw):
                problems.add(display, getattr(raw, "line", 1), f"customer {raw.get('id')!r}: every customer of a scenario with a model needs 'needs'")
                continue
            if not raw.get("opening"):
                problems.add(display, getattr(raw, "line", 1), f"customer {raw.get('id')!r}: 'opening' (the first message) is missing")
                continue
            built = engine_model.build_customer(sink, raw, library, reference, escalation=escalation, mode=meta["mode"])
            if built is None:
                continue
            for key in engine_model.CUSTOMER_MODEL_KEYS - {"opening"}:
                customer.pop(key, None)
            customer["opening"] = raw["opening"].strip()
            customer["messages"] = [customer["opening"]]
            customer["model"] = built
        if len(problems) > before or not engine_model.checking_examples():
            return len(problems) == before
        from lms.roleplays.engine.conversation import check_reachable

        for customer in data["customers"]:
            for message in check_reachable(data, meta["mode"], customer):
                problems.add(display, meta.line_of("customers"), f"customer {customer['id']!r}: {message}")
        return len(problems) == before

    @staticmethod
    def _sections(body: str) -> dict[str, str]:
        parts = SECTION.split(body)
        return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}

    # -- revision impact -----------------------------------------------------
    def stored_citations(self, session: Session) -> list[StoredCitation]:
        out = []
        rubrics = session.execute(
            select(Rubric.slug, RubricVersion.data)
            .join(RubricVersion, (RubricVersion.rubric_id == Rubric.id) & (RubricVersion.version == Rubric.current_version))
            .where(Rubric.is_archived.is_(False))
        )
        for slug, data in rubrics:
            out += citations_of("rubric", slug, *[c.get("sources") for c in data.get("criteria", [])])
        for slug, data in session.execute(select(Scenario.slug, Scenario.data).where(Scenario.is_archived.is_(False))):
            standard = (data.get("response_standard") or {}).get("source")
            escalation = data.get("escalation") or {}
            out += citations_of("scenario", slug, [standard], data.get("case"), data.get("sources"), escalation.get("sources"),
                                *[rule.get("sources") for rule in data.get("house_rules") or []], (data.get("ticket") or {}).get("sources"))
        return out

    # -- writing -----------------------------------------------------------------
    def sync(self, session: Session, items: Collected, collected, report: SyncReport) -> None:
        rubrics = {r.slug: r for r in session.scalars(select(Rubric))}
        hashes = {
            rubric_id: content_hash for rubric_id, content_hash in session.execute(
                select(RubricVersion.rubric_id, RubricVersion.content_hash)
                .join(Rubric, Rubric.id == RubricVersion.rubric_id)
                .where(RubricVersion.version == Rubric.current_version))
        }
        for slug, item in items.rubrics.items():
            digest = _hash(item.data)
            row = rubrics.get(slug)
            if row is None:
                row = rubrics[slug] = Rubric(slug=slug, title=item.data["title"], current_version=1, is_archived=False)
                row.versions.append(RubricVersion(version=1, data=item.data, content_hash=digest))
                session.add(row)
                report.count("created", "rubrics")
                continue
            if hashes.get(row.id) != digest or row.is_archived:
                if hashes.get(row.id) != digest:
                    row.current_version += 1
                    session.add(RubricVersion(rubric_id=row.id, version=row.current_version, data=item.data, content_hash=digest))
                report.count("restored" if row.is_archived else "updated", "rubrics")
                row.title, row.is_archived = item.data["title"], False
        for slug, row in rubrics.items():
            if slug not in items.rubrics and not row.is_archived:
                row.is_archived = True
                report.count("archived", "rubrics")
        session.flush()

        scenarios = {s.slug: s for s in session.scalars(select(Scenario))}
        for slug, item in items.scenarios.items():
            digest = item.digest()
            row = scenarios.get(slug)
            if row is None:
                row = Scenario(slug=slug)
                session.add(row)
                report.count("created", "scenarios")
            elif row.content_hash == digest and not row.is_archived and row.source_path == item.path:
                continue
            else:
                report.count("restored" if row.is_archived else "updated", "scenarios")
            row.title, row.mode, row.channel, row.rubric_id = item.title, item.mode, item.channel, rubrics[item.rubric].id
            row.data, row.situation, row.exemplar = item.data, item.situation, item.exemplar
            row.source_path, row.content_hash, row.is_archived = item.path, digest, False
        for slug, row in scenarios.items():
            if slug not in items.scenarios and not row.is_archived:
                row.is_archived = True
                report.count("archived", "scenarios")
