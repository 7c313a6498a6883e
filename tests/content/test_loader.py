"""The content files: file:line errors, all-or-nothing sync, idempotence, archiving."""
from __future__ import annotations

import shutil
from datetime import date

import pytest
from sqlalchemy import func, select

from lms.content import check, sync
from lms.core.clock import now_utc
from lms.tracks import services as tracks
from lms.tracks.models import Lesson, LessonCompletion, Track, TrackModule
from tests.conftest import PROJECT, TEST_CONTENT


@pytest.fixture
def tree(tmp_path):
    """A writable copy of the tiny content tree."""
    shutil.copytree(TEST_CONTENT, tmp_path / "content")
    return tmp_path / "content"


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def messages(problems):
    return [str(p) for p in problems]


def test_the_test_tree_is_valid():
    assert messages(check(TEST_CONTENT)) == []


def test_the_real_courseware_is_valid():
    assert messages(check(PROJECT)) == []


def test_first_sync_creates_and_second_changes_nothing(session, tree):
    problems, report = sync(session, tree)
    assert not problems
    assert report.created == {
        "reference pages": 1, "modules": 3, "lessons": 3, "tracks": 2, "question banks": 1, "questions": 7,
        "quizzes": 2, "rubrics": 1, "scenarios": 1, "certifications": 1,
    }
    session.commit()
    problems, report = sync(session, tree)
    assert not problems and not report.changed, report.lines()


def test_edited_lesson_is_updated_in_place(session, tree):
    sync(session, tree)
    lesson_id = session.scalar(select(Lesson.id).where(Lesson.slug == "a-uno"))
    edit(tree / "courses/lessons/semana-a/a-uno.md", "minutes: 15", "minutes: 25")
    _, report = sync(session, tree)
    assert report.updated == {"lessons": 1}
    lesson = session.scalar(select(Lesson).where(Lesson.slug == "a-uno"))
    assert lesson.id == lesson_id and lesson.minutes == 25


@pytest.mark.parametrize(
    ("path", "old", "new", "expected"),
    [
        ("courses/lessons/semana-a/a-uno.md", "minutes: 15", "minutes: [15", "courses/lessons/semana-a/a-uno.md:7: YAML error: expected ',' or ']', but got ':' (in the flow sequence started at line 6)"),
        ("courses/lessons/semana-a/a-uno.md", "minutes: 15", "minutes: 15\ncolour: red", "a-uno.md:7: unknown field 'colour'"),
        ("courses/lessons/semana-a/a-uno.md", "minutes: 15\n", "", "a-uno.md:2: missing field 'minutes'"),
        ("courses/lessons/semana-a/a-uno.md", "day: 0", "day: -1", "a-uno.md:5: 'day' must be a whole number of days >= 0"),
        ("courses/lessons/semana-a/a-uno.md", "day: 0", "day: 9", "a-uno.md:2: day 9 falls after the module's due day in track 'corto'"),
        ("courses/lessons/semana-a/a-dos.md", "id: a-dos", "id: a-uno", "a-uno.md:2: duplicate lesson id 'a-uno' (also in courses/lessons/semana-a/a-dos.md)"),
        ("courses/modules/semana-a.yaml", "  - a-dos", "  - a-dos\n  - a-tres", "courses/modules/semana-a.yaml:10: unknown lesson 'a-tres'"),
        ("courses/tracks/corto.yaml", "module: semana-b", "module: semana-z", "courses/tracks/corto.yaml:8: unknown module 'semana-z'"),
        ("courses/tracks/corto.yaml", "due_day: 11", "due_day: 5", "corto.yaml:8: due_day 5 is before start_day 7"),
        ("courses/lessons/semana-a/a-uno.md", 'quote: "Chat: Menos de 30 segundos"', 'quote: "Chat: Menos de 20 segundos"',
         "a-uno.md:11: quote not found in manual/estandares#respuesta-inicial"),
        ("courses/lessons/semana-a/a-uno.md", "manual/estandares#respuesta-inicial", "manual/estandares#no-existe",
         "a-uno.md:10: citation to unknown section #no-existe"),
        ("courses/lessons/semana-a/a-uno.md", "manual/estandares#respuesta-inicial", "manual/otra#x",
         "a-uno.md:10: citation to unknown reference page 'manual/otra'"),
        ("courses/reference/manual/01-estandares.md", "### Resolución {#resolucion}", "### Resolución",
         "01-estandares.md:17: heading without an anchor"),
        ("courses/lessons/semana-a/a-uno.md", "module: semana-a", "module: semana-b", "a-uno.md:4: module 'semana-b' does not match the folder"),
    ],
)
def test_each_problem_is_reported_with_file_and_line(tree, path, old, new, expected):
    edit(tree / path, old, new)
    found = messages(check(tree))
    assert any(expected in m for m in found), found


def test_lesson_not_listed_in_its_module_is_reported(tree):
    edit(tree / "courses/modules/semana-a.yaml", "  - a-dos\n", "")
    assert "courses/lessons/semana-a/a-dos.md:2: lesson is not listed in its module's file (courses/modules/semana-a.yaml)" in messages(check(tree))


def test_front_matter_must_exist(tree):
    (tree / "courses/lessons/semana-a/a-uno.md").write_text("Sin cabecera\n", encoding="utf-8")
    assert "courses/lessons/semana-a/a-uno.md:1: missing front matter: the file must start with a '---' line" in messages(check(tree))


def test_invalid_content_changes_nothing(session, tree):
    sync(session, tree)
    session.commit()
    before = session.scalar(select(Lesson.title).where(Lesson.slug == "a-uno"))
    edit(tree / "courses/lessons/semana-a/a-uno.md", "title: Tiempos de respuesta", "title: Nuevo título")
    edit(tree / "courses/lessons/semana-b/b-uno.md", "minutes: 30", "minutes: treinta")
    problems, report = sync(session, tree)
    assert problems and not report.changed
    session.rollback()
    assert session.scalar(select(Lesson.title).where(Lesson.slug == "a-uno")) == before


def test_removed_lesson_is_archived_and_its_completions_kept(session, tree, make_user):
    sync(session, tree)
    agent = make_user("agent")
    admin = make_user("admin")
    track = tracks.find_track(session, "corto")
    tracks.enroll(session, actor=admin, agent=agent, track=track, start_date=date(2026, 1, 5), now=now_utc())
    lesson = tracks.get_lesson(session, "a-dos")
    tracks.complete_lesson(session, agent, lesson, now=now_utc())
    (tree / "courses/lessons/semana-a/a-dos.md").unlink()
    edit(tree / "courses/modules/semana-a.yaml", "  - a-dos\n", "")
    problems, report = sync(session, tree)
    assert not problems and report.archived == {"lessons": 1}
    assert session.get(Lesson, lesson.id).is_archived
    assert session.scalar(select(func.count()).select_from(LessonCompletion).where(LessonCompletion.lesson_id == lesson.id)) == 1
    progress = tracks.progress_for_user(session, agent, date(2026, 1, 5))[0]
    assert [s.lesson.slug for s in progress.lessons] == ["a-uno", "b-uno"]


def test_track_structure_change_rewrites_its_modules(session, tree):
    sync(session, tree)
    edit(tree / "courses/tracks/corto.yaml", "due_day: 11", "due_day: 12")
    _, report = sync(session, tree)
    assert report.updated == {"tracks": 1}
    track = session.scalar(select(Track).where(Track.slug == "corto"))
    assert [tm.due_day for tm in session.scalars(select(TrackModule).where(TrackModule.track_id == track.id).order_by(TrackModule.position))] == [4, 12]


def test_cli_check_and_sync(app, tree, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["content", "check", "--root", str(tree)])
    assert result.exit_code == 0 and "content OK" in result.output
    result = runner.invoke(args=["content", "sync", "--root", str(tree)])
    assert result.exit_code == 0, result.output
    assert "created 3 lessons" in result.output
    assert "created 1 certifications" in result.output and "certification evaluate" in result.output  # the catch-up hint
    result = runner.invoke(args=["content", "sync", "--root", str(tree)])
    assert result.output.strip() == "no changes"
    edit(tree / "courses/tracks/corto.yaml", "start_day: 7", "start_day: siete")
    result = runner.invoke(args=["content", "sync", "--root", str(tree)])
    assert result.exit_code == 1
    assert "courses/tracks/corto.yaml:9: modules[2]: 'start_day' must be a number" in result.output
    assert "nothing was changed" in result.output
