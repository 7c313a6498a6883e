"""Loads ``courses/tracks``, ``courses/modules`` and ``courses/lessons`` (spec: courses/README.md)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.content import Problems, SyncReport
from lms.content.walk import markdown_files, yaml_files
from lms.content.impact import StoredCitation, citations_of
from lms.content.schema import (
    Field,
    check_id,
    item_line,
    non_empty_text,
    non_negative_int,
    positive_int,
    validate_mapping,
)
from lms.core.db import utcnow
from lms.reference import services as search_index
from lms.reference.services import check_citations, check_house_rules
from lms.tracks.models import Lesson, Module, Track, TrackModule

TRACK_FIELDS = [
    Field("id", str, check=check_id),
    Field("title", str, check=non_empty_text),
    Field("description", str, required=False),
    Field("modules", list),
]
TRACK_MODULE_FIELDS = [
    Field("module", str, check=check_id),
    Field("start_day", int, check=non_negative_int),
    Field("due_day", int, check=non_negative_int),
]
MODULE_FIELDS = [
    Field("id", str, check=check_id),
    Field("title", str, check=non_empty_text),
    Field("summary", str, required=False),
    Field("sources", list, required=False),
    Field("lessons", list),
]
LESSON_FIELDS = [
    Field("id", str, check=check_id),
    Field("title", str, check=non_empty_text),
    Field("module", str, check=check_id),
    Field("day", int, check=non_negative_int),
    Field("minutes", int, check=positive_int),
    Field("objectives", list, required=False),
    Field("sources", list),
    Field("house_rules", list, required=False),
]


def _hash(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


@dataclass
class CTrack:
    slug: str
    path: str
    line: int
    title: str
    description: str
    modules: list[dict]  # {module, start_day, due_day, line}

    def digest(self) -> str:
        return _hash([self.title, self.description, [[m["module"], m["start_day"], m["due_day"]] for m in self.modules]])


@dataclass
class CModule:
    slug: str
    path: str
    line: int
    title: str
    summary: str
    sources: list[dict]
    lessons: list[str]
    lesson_lines: list[int] = field(default_factory=list)

    def digest(self) -> str:
        return _hash([self.title, self.summary, self.sources])


@dataclass
class CLesson:
    slug: str
    path: str
    line: int
    module: str
    title: str
    day: int
    minutes: int
    objectives: list[str]
    sources: list[dict]
    house_rules: list[dict]
    body: str
    position: int = 0

    def digest(self) -> str:
        return _hash([self.module, self.position, self.title, self.day, self.minutes, self.objectives,
                      self.sources, self.house_rules, self.body, self.path])


@dataclass
class Collected:
    tracks: dict[str, CTrack]
    modules: dict[str, CModule]
    lessons: dict[str, CLesson]


class TracksLoader:
    name = "tracks"
    depends_on = ("reference", "quizzes")

    def collect(self, root: Path, collected, problems: Problems) -> Collected:
        reference = collected["reference"]
        tracks = self._collect_tracks(root, problems)
        modules = self._collect_modules(root, problems, reference)
        lessons = self._collect_lessons(root, problems, reference)
        self._cross_check(tracks, modules, lessons, problems)
        self._check_quizzes(collected.get("quizzes"), tracks, modules, problems)
        return Collected(tracks, modules, lessons)

    def _check_quizzes(self, quizzes, tracks, modules, problems: Problems) -> None:
        """A quiz that completes a module must name a real module and fall within it in every track."""
        for quiz in getattr(quizzes, "quizzes", {}).values():
            if quiz.module is None:
                continue
            if quiz.module not in modules:
                problems.add(quiz.path, quiz.module_line, f"unknown module {quiz.module!r}")
                continue
            for track in tracks.values():
                for entry in track.modules:
                    if entry["module"] == quiz.module and entry["start_day"] + (quiz.day or 0) > entry["due_day"]:
                        problems.add(quiz.path, quiz.module_line,
                                     f"day {quiz.day} falls after the module's due day in track {track.slug!r} "
                                     f"(start_day {entry['start_day']} + {quiz.day} > due_day {entry['due_day']})")

    # -- reading -----------------------------------------------------------
    def _collect_tracks(self, root: Path, problems: Problems) -> dict[str, CTrack]:
        tracks: dict[str, CTrack] = {}
        for _path, display, data in yaml_files(root, "courses/tracks/*.yaml", TRACK_FIELDS, problems):
            entries = []
            for index, entry in enumerate(data["modules"]):
                line = item_line(data["modules"], index, data.line_of("modules"))
                entry_errors = validate_mapping(entry, TRACK_MODULE_FIELDS, display, line, what=f"modules[{index + 1}]")
                if entry_errors:
                    problems.extend(entry_errors)
                    continue
                entries.append({"module": entry["module"], "start_day": entry["start_day"], "due_day": entry["due_day"], "line": line})
            if data["id"] in tracks:
                problems.add(display, data.line_of("id"), f"duplicate track id {data['id']!r} (also in {tracks[data['id']].path})")
                continue
            tracks[data["id"]] = CTrack(data["id"], display, data.line, data["title"], data.get("description") or "", entries)
        return tracks

    def _collect_modules(self, root: Path, problems: Problems, reference) -> dict[str, CModule]:
        modules: dict[str, CModule] = {}
        for _path, display, data in yaml_files(root, "courses/modules/*.yaml", MODULE_FIELDS, problems):
            sources = check_citations(problems, display, data.get("sources"), data.line_of("sources"), reference, required=False)
            lesson_ids, lines = [], []
            for index, lesson_id in enumerate(data["lessons"]):
                line = item_line(data["lessons"], index, data.line_of("lessons"))
                message = check_id(lesson_id)
                if message:
                    problems.add(display, line, f"lessons[{index + 1}] {message}")
                    continue
                if lesson_id in lesson_ids:
                    problems.add(display, line, f"lesson {lesson_id!r} is listed twice")
                    continue
                lesson_ids.append(lesson_id)
                lines.append(line)
            if data["id"] in modules:
                problems.add(display, data.line_of("id"), f"duplicate module id {data['id']!r} (also in {modules[data['id']].path})")
                continue
            modules[data["id"]] = CModule(data["id"], display, data.line, data["title"], data.get("summary") or "",
                                          sources, lesson_ids, lines)
        return modules

    def _collect_lessons(self, root: Path, problems: Problems, reference) -> dict[str, CLesson]:
        lessons: dict[str, CLesson] = {}
        for path, display, meta, body, body_line in markdown_files(root, "courses/lessons/*/*.md", LESSON_FIELDS, problems):
            objectives = meta.get("objectives") or []
            if any(not isinstance(o, str) or not o.strip() for o in objectives):
                problems.add(display, meta.line_of("objectives"), "'objectives' must be a list of non-empty lines of text")
            sources = check_citations(problems, display, meta["sources"], meta.line_of("sources"), reference)
            house_rules = check_house_rules(problems, display, meta, reference)
            if not body.strip():
                problems.add(display, body_line, "the lesson has no body text")
            if path.parent.name != meta["module"]:
                problems.add(display, meta.line_of("module"),
                             f"module {meta['module']!r} does not match the folder '{path.parent.name}' the lesson is in")
            if meta["id"] in lessons:
                problems.add(display, meta.line_of("id"), f"duplicate lesson id {meta['id']!r} (also in {lessons[meta['id']].path})")
                continue
            lessons[meta["id"]] = CLesson(
                slug=meta["id"], path=display, line=meta.line_of("id"), module=meta["module"], title=meta["title"],
                day=meta["day"], minutes=meta["minutes"], objectives=[o.strip() for o in objectives if isinstance(o, str)],
                sources=sources, house_rules=house_rules, body=body.strip() + "\n",
            )
        return lessons

    # -- references between files -------------------------------------------
    def _cross_check(self, tracks, modules, lessons, problems: Problems) -> None:
        listed_in: dict[str, str] = {}
        for module in modules.values():
            for position, (lesson_id, line) in enumerate(zip(module.lessons, module.lesson_lines)):
                lesson = lessons.get(lesson_id)
                if lesson is None:
                    problems.add(module.path, line, f"unknown lesson {lesson_id!r}")
                    continue
                if lesson_id in listed_in:
                    problems.add(module.path, line, f"lesson {lesson_id!r} is already listed in module {listed_in[lesson_id]!r}")
                    continue
                listed_in[lesson_id] = module.slug
                lesson.position = position
                if lesson.module != module.slug:
                    problems.add(lesson.path, lesson.line,
                                 f"lesson says module {lesson.module!r} but is listed in module {module.slug!r} ({module.path})")
        for lesson in lessons.values():
            if lesson.slug not in listed_in:
                if lesson.module in modules:
                    problems.add(lesson.path, lesson.line, f"lesson is not listed in its module's file ({modules[lesson.module].path})")
                else:
                    problems.add(lesson.path, lesson.line, f"unknown module {lesson.module!r}")
        for track in tracks.values():
            seen: set[str] = set()
            previous_start = 0
            for entry in track.modules:
                slug, line = entry["module"], entry["line"]
                if slug in seen:
                    problems.add(track.path, line, f"module {slug!r} appears twice in this track")
                    continue
                seen.add(slug)
                if entry["due_day"] < entry["start_day"]:
                    problems.add(track.path, line, f"due_day {entry['due_day']} is before start_day {entry['start_day']}")
                if entry["start_day"] < previous_start:
                    problems.add(track.path, line, f"start_day {entry['start_day']} is before the previous module's start_day {previous_start}")
                previous_start = max(previous_start, entry["start_day"])
                module = modules.get(slug)
                if module is None:
                    problems.add(track.path, line, f"unknown module {slug!r}")
                    continue
                for lesson_id in module.lessons:
                    lesson = lessons.get(lesson_id)
                    if lesson and entry["start_day"] + lesson.day > entry["due_day"]:
                        problems.add(lesson.path, lesson.line,
                                     f"day {lesson.day} falls after the module's due day in track {track.slug!r} "
                                     f"(start_day {entry['start_day']} + {lesson.day} > due_day {entry['due_day']})")

    # -- revision impact -----------------------------------------------------
    def stored_citations(self, session: Session) -> list[StoredCitation]:
        out = []
        for slug, sources, house_rules in session.execute(
            select(Lesson.slug, Lesson.sources, Lesson.house_rules).where(Lesson.is_archived.is_(False))
        ):
            out += citations_of("lesson", slug, sources, *[rule.get("sources") for rule in house_rules or []])
        for slug, sources in session.execute(select(Module.slug, Module.sources).where(Module.is_archived.is_(False))):
            out += citations_of("module", slug, sources)
        return out

    # -- writing -----------------------------------------------------------
    def sync(self, session: Session, items: Collected, collected, report: SyncReport) -> None:
        modules = self._sync_modules(session, items.modules, report)
        self._sync_lessons(session, items.lessons, modules, report)
        self._sync_tracks(session, items.tracks, modules, report)

    def _sync_modules(self, session: Session, modules: dict[str, CModule], report: SyncReport) -> dict[str, Module]:
        rows = {m.slug: m for m in session.scalars(select(Module))}
        for slug, item in modules.items():
            row = rows.get(slug)
            digest = item.digest()
            if row is None:
                row = rows[slug] = Module(slug=slug)
                session.add(row)
                report.count("created", "modules")
            elif row.content_hash == digest and not row.is_archived:
                continue
            else:
                report.count("restored" if row.is_archived else "updated", "modules")
            row.title, row.summary, row.sources = item.title, item.summary, item.sources
            row.content_hash, row.is_archived = digest, False
        for slug, row in rows.items():
            if slug not in modules and not row.is_archived:
                row.is_archived = True
                report.count("archived", "modules")
        session.flush()
        return rows

    def _sync_lessons(self, session: Session, lessons: dict[str, CLesson], modules: dict[str, Module], report: SyncReport) -> None:
        rows = {lesson.slug: lesson for lesson in session.scalars(select(Lesson))}
        indexed = search_index.indexed_keys(session, "lesson")
        for slug, item in lessons.items():
            row = rows.get(slug)
            digest = item.digest()
            if slug not in indexed or row is None or row.content_hash != digest:
                self._index(session, item, modules[item.module])
            if row is None:
                row = Lesson(slug=slug)
                session.add(row)
                report.count("created", "lessons")
            elif row.content_hash == digest and not row.is_archived:
                continue
            else:
                report.count("restored" if row.is_archived else "updated", "lessons")
            row.module_id = modules[item.module].id
            row.position, row.title, row.day, row.minutes = item.position, item.title, item.day, item.minutes
            row.objectives, row.sources, row.house_rules = item.objectives, item.sources, item.house_rules
            row.body, row.source_path = item.body, item.path
            row.content_hash, row.is_archived, row.updated_at = digest, False, utcnow()
        for slug, row in rows.items():
            if slug not in lessons and not row.is_archived:
                row.is_archived = True  # completions on it stay
                report.count("archived", "lessons")
        for slug in indexed - set(lessons):
            search_index.remove_document(session, "lesson", slug)

    @staticmethod
    def _index(session: Session, item: CLesson, module: Module) -> None:
        body = "\n".join(item.objectives) + "\n" + item.body
        search_index.index_document(session, kind="lesson", key=item.slug, title=item.title, context=module.title,
                                    body=body, endpoint="tracks.lesson", args={"slug": item.slug})

    def _sync_tracks(self, session: Session, tracks: dict[str, CTrack], modules: dict[str, Module], report: SyncReport) -> None:
        rows = {t.slug: t for t in session.scalars(select(Track))}
        for slug, item in tracks.items():
            row = rows.get(slug)
            digest = item.digest()
            if row is None:
                row = Track(slug=slug)
                session.add(row)
                report.count("created", "tracks")
            elif row.content_hash == digest and not row.is_archived:
                continue
            else:
                report.count("restored" if row.is_archived else "updated", "tracks")
            row.title, row.description = item.title, item.description
            row.content_hash, row.is_archived = digest, False
            row.track_modules.clear()
            session.flush()
            for position, entry in enumerate(item.modules):
                row.track_modules.append(TrackModule(
                    module_id=modules[entry["module"]].id, position=position,
                    start_day=entry["start_day"], due_day=entry["due_day"],
                ))
        for slug, row in rows.items():
            if slug not in tracks and not row.is_archived:
                row.is_archived = True  # enrollments stay
                report.count("archived", "tracks")


class ProgressLoader:
    """Not a content file: after the tracks and quizzes are synced, rewrites the progress summaries
    (enrollment_progress) if anything changed, since due dates and steps come from the content."""

    name = "progress"
    depends_on = ("tracks", "quizzes")

    def collect(self, root: Path, collected, problems: Problems) -> None:
        return None

    def sync(self, session, items, collected, report) -> None:
        if report.changed:
            from lms.core.clock import now_utc
            from lms.tracks.services import rebuild_progress

            rebuild_progress(session, now=now_utc())
