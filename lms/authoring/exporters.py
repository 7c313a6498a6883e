"""The published content as files: one exporter per kind of content file (registered with lms.content.export).

What ``content sync`` stores is written back in the same format, with citations as ``{ref, quote}``
(the section title and text hash are the loader's own additions). Paths: the stored ``source_path`` where the
database keeps one, else the file name the loaders expect (``courses/modules/<id>.yaml``, …).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lms.certification.models import CertificationDefinition
from lms.content.export import citations, dump_yaml, house_rules, markdown_file, register_exporter
from lms.quizzes.models import Question, QuestionBank, QuestionVersion, Quiz
from lms.reference.models import ReferencePage
from lms.roleplays.models import Rubric, RubricVersion, Scenario
from lms.tracks.models import Lesson, Module, Track


def _without_none(data: dict) -> dict:
    return {k: v for k, v in data.items() if v is not None}


# -- reference ----------------------------------------------------------------------------------------------
def reference_path(page: ReferencePage) -> str:
    chapter = page.slug.split("/", 1)[1]
    return f"courses/reference/{page.document}/{page.position:02d}-{chapter}.md"


def export_reference(session: Session) -> dict[str, str]:
    out = {}
    for page in session.scalars(select(ReferencePage).where(ReferencePage.is_archived.is_(False))):
        meta = {"id": page.slug, "title": page.title, "document": page.document_title, "source": page.source,
                "order": page.position}
        out[reference_path(page)] = markdown_file(meta, page.body)
    return out


# -- tracks, modules, lessons -------------------------------------------------------------------------------
def lesson_front_matter(lesson: Lesson, module_slug: str) -> dict:
    meta = {"id": lesson.slug, "title": lesson.title, "module": module_slug, "day": lesson.day, "minutes": lesson.minutes}
    if lesson.objectives:
        meta["objectives"] = list(lesson.objectives)
    meta["sources"] = citations(lesson.sources)
    if lesson.house_rules:
        meta["house_rules"] = house_rules(lesson.house_rules)
    return meta


def lesson_text(meta: dict, body: str) -> str:
    return markdown_file(meta, "\n" + body.strip() + "\n")


def export_tracks(session: Session) -> dict[str, str]:
    out = {}
    modules = {m.id: m for m in session.scalars(select(Module).where(Module.is_archived.is_(False)))}
    lessons_of: dict[int, list[Lesson]] = {}
    for lesson in session.scalars(select(Lesson).where(Lesson.is_archived.is_(False)).order_by(Lesson.position, Lesson.slug)):
        lessons_of.setdefault(lesson.module_id, []).append(lesson)
        module = modules.get(lesson.module_id)
        if module is not None:
            out[lesson.source_path] = lesson_text(lesson_front_matter(lesson, module.slug), lesson.body)
    for module in modules.values():
        data = {"id": module.slug, "title": module.title}
        if module.summary:
            data["summary"] = module.summary
        if module.sources:
            data["sources"] = citations(module.sources)
        data["lessons"] = [lesson.slug for lesson in lessons_of.get(module.id, [])]
        out[f"courses/modules/{module.slug}.yaml"] = dump_yaml(data)
    tracks = session.scalars(select(Track).where(Track.is_archived.is_(False)).options(selectinload(Track.track_modules)))
    for track in tracks:
        data = {"id": track.slug, "title": track.title}
        if track.description:
            data["description"] = track.description
        data["modules"] = [{"module": modules[tm.module_id].slug if tm.module_id in modules else tm.module.slug,
                            "start_day": tm.start_day, "due_day": tm.due_day} for tm in track.track_modules]
        out[f"courses/tracks/{track.slug}.yaml"] = dump_yaml(data)
    return out


# -- question banks and quizzes ------------------------------------------------------------------------------
def question_as_file(data: dict) -> dict:
    """A stored question version as the bank file states it (id and type first)."""
    out = {"id": data["id"], "type": data["type"]}
    for key, value in data.items():
        if key in out:
            continue
        out[key] = citations(value) if key == "sources" else value
    return out


def bank_data(session: Session, bank: QuestionBank) -> dict:
    rows = session.execute(
        select(QuestionVersion.data)
        .join(Question, (Question.id == QuestionVersion.question_id) & (QuestionVersion.version == Question.current_version))
        .where(Question.bank_id == bank.id, Question.is_archived.is_(False))
        .order_by(Question.position, Question.slug)
    )
    return {"id": bank.slug, "title": bank.title, "questions": [question_as_file(data) for (data,) in rows]}


def quiz_data(quiz: Quiz) -> dict:
    settings = quiz.settings or {}
    data = {"id": quiz.slug, "title": quiz.title}
    if quiz.description:
        data["description"] = quiz.description
    if quiz.module_slug is not None:
        data["module"] = quiz.module_slug
        data["day"] = quiz.day
    data["draw"] = settings.get("draw", [])
    for key in ("shuffle_questions", "shuffle_choices", "time_limit_minutes", "attempts_allowed",
                "delay_between_attempts_minutes", "pass_mark", "grade_method", "review"):
        if settings.get(key) is not None:
            data[key] = settings[key]
    return data


def export_quizzes(session: Session) -> dict[str, str]:
    out = {}
    for bank in session.scalars(select(QuestionBank).where(QuestionBank.is_archived.is_(False))):
        out[bank.source_path] = dump_yaml(bank_data(session, bank))
    for quiz in session.scalars(select(Quiz).where(Quiz.is_archived.is_(False))):
        out[quiz.source_path] = dump_yaml(quiz_data(quiz))
    return out


# -- rubrics and scenarios ----------------------------------------------------------------------------------
def rubric_data(slug: str, data: dict) -> dict:
    out = {"id": slug, "title": data["title"]}
    if data.get("description"):
        out["description"] = data["description"]
    criteria = []
    for criterion in data.get("criteria", []):
        item = {"id": criterion["id"], "title": criterion["title"], "weight": criterion.get("weight", 1),
                "critical": bool(criterion.get("critical"))}
        if criterion.get("pass_level") is not None:
            item["pass_level"] = criterion["pass_level"]
        item["levels"] = {int(k): v for k, v in sorted(criterion["levels"].items(), key=lambda kv: int(kv[0]))}
        item["sources"] = citations(criterion.get("sources"))
        criteria.append(item)
    out["criteria"] = criteria
    return out


#: stored scenario data → front matter: the keys the loader enriches and how to write them back
def scenario_front_matter(scenario: Scenario, rubric_slug: str) -> dict:
    data = dict(scenario.data or {})
    meta = {"id": scenario.slug, "title": scenario.title, "mode": scenario.mode, "channel": scenario.channel}
    written = data.pop("front_matter", None)
    if written is not None:
        # kept by the loader as the file said it: the stored data is enriched (compiled customer model, hashes)
        return meta | {k: v for k, v in written.items() if k != "rubric"} | {"rubric": rubric_slug}
    standard = data.pop("response_standard", None) or {}
    meta["response_standard"] = _without_none({"seconds": standard.get("seconds"),
                                               "source": (citations([standard["source"]]) or [None])[0] if standard.get("source") else None})
    meta["case"] = citations(data.pop("case", None))
    meta["customers"] = data.pop("customers", [])
    meta["objectives"] = data.pop("objectives", [])
    escalation = data.pop("escalation", None)
    if escalation:
        meta["escalation"] = _without_none(dict(escalation) | {"sources": citations(escalation.get("sources"))})
    meta["rubric"] = rubric_slug
    meta["sources"] = citations(data.pop("sources", None))
    rules = data.pop("house_rules", None)
    if rules:
        meta["house_rules"] = house_rules(rules)
    # fields this exporter does not know (a newer scenario format) are written as stored
    meta.update({k: v for k, v in data.items() if v is not None})
    return meta


def scenario_body(situation: str, exemplar: str) -> str:
    return f"\n## Situación\n\n{situation.strip()}\n\n## Respuesta modelo\n\n{exemplar.strip()}\n"


def export_roleplays(session: Session) -> dict[str, str]:
    out = {}
    rubric_slugs = {}
    rows = session.execute(
        select(Rubric.id, Rubric.slug, RubricVersion.data)
        .join(RubricVersion, (RubricVersion.rubric_id == Rubric.id) & (RubricVersion.version == Rubric.current_version))
        .where(Rubric.is_archived.is_(False))
    )
    for rubric_id, slug, data in rows:
        rubric_slugs[rubric_id] = slug
        out[f"roleplays/rubrics/{slug}.yaml"] = dump_yaml(rubric_data(slug, data))
    library = None
    for scenario in session.scalars(select(Scenario).where(Scenario.is_archived.is_(False)).order_by(Scenario.slug)):
        slug = rubric_slugs.get(scenario.rubric_id) or session.get(Rubric, scenario.rubric_id).slug
        out[scenario.source_path] = markdown_file(scenario_front_matter(scenario, slug),
                                                  scenario_body(scenario.situation, scenario.exemplar))
        library = library or (scenario.data or {}).get("move_library_text")
    if library:
        # the shared move library the customer models were built with, as the file said it
        out["roleplays/moves.yaml"] = library
    return out


# -- certifications -----------------------------------------------------------------------------------------
def certification_data(cert: CertificationDefinition) -> dict:
    data = {"id": cert.slug, "title": cert.title, "area": cert.area}
    if cert.description:
        data["description"] = cert.description
    if cert.track_slug:
        data["track"] = cert.track_slug
    data["validity_months"] = cert.validity_months
    data["requirements"] = cert.requirements
    data["sources"] = citations(cert.sources)
    if cert.recertification:
        data["recertification"] = cert.recertification
    return data


def export_certifications(session: Session) -> dict[str, str]:
    return {cert.source_path: dump_yaml(certification_data(cert))
            for cert in session.scalars(select(CertificationDefinition).where(CertificationDefinition.is_archived.is_(False)))}


def register() -> None:
    register_exporter("reference", export_reference)
    register_exporter("tracks", export_tracks)
    register_exporter("quizzes", export_quizzes)
    register_exporter("roleplays", export_roleplays)
    register_exporter("certification", export_certifications)
