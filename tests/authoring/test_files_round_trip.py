"""Files stay first-class: export writes what sync reads; sync never silently overwrites a site edit."""
import shutil

from sqlalchemy import select

from lms.content import sync
from lms.content.conflicts import find_conflicts, sync_files
from lms.content.export import export, export_texts
from lms.content.models import ContentSiteEdit
from lms.core.db import get_db
from lms.tracks.models import Lesson
from tests.authoring.helpers import publish
from tests.conftest import PROJECT, TEST_CONTENT, make_test_app

LESSON = "courses/lessons/semana-a/a-uno.md"


def _tree(folder):
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*")) if p.is_file()}


def test_export_sync_into_an_empty_database_export_again_gives_identical_files(session, databases, tmp_path):
    problems, _report = sync(session, PROJECT)  # the real courseware, into the test's (rolled back) database
    assert not problems, [str(p) for p in problems[:5]]
    session.flush()
    first = tmp_path / "first"
    written, stale = export(session, first)
    assert written > 100 and stale == []
    # the export is what the database holds: syncing it back changes nothing
    problems, report = sync(session, first)
    assert not problems and not report.changed, report.lines()

    empty = make_test_app(databases.create("roundtrip"), tmp_path / "instance")
    other = get_db(empty).sessionmaker()
    try:
        problems, report = sync(other, first)
        assert not problems, [str(p) for p in problems[:5]]
        other.commit()
        second = tmp_path / "second"
        export(other, second)
    finally:
        other.close()
        get_db(empty).engine.dispose()
    assert _tree(first) == _tree(second)


def test_export_command_and_prune(app, content, tmp_path):
    target = tmp_path / "out"
    (target / "courses/lessons/semana-a").mkdir(parents=True)
    (target / "courses/lessons/semana-a/viejo.md").write_text("---\nid: viejo\n---\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["content", "export", str(target)])
    assert result.exit_code == 0, result.output
    assert "not published in the site (use --prune to remove): courses/lessons/semana-a/viejo.md" in result.output
    assert (target / LESSON).read_text(encoding="utf-8").startswith("---\nid: a-uno\n")
    result = app.test_cli_runner().invoke(args=["content", "export", "--prune", str(target)])
    assert "removed: courses/lessons/semana-a/viejo.md" in result.output and not (target / "courses/lessons/semana-a/viejo.md").exists()


def _site_edit(session, trainer, admin):
    text = export_texts(session)[LESSON].replace("En **chat** respondemos", "Editado en el sitio: en **chat** respondemos")
    publish(session, kind="lesson", slug="a-uno", path=LESSON, text=text, base_text=export_texts(session)[LESSON],
            author=trainer, publisher=admin)


def _body(session):
    session.expire_all()
    return session.scalar(select(Lesson.body).where(Lesson.slug == "a-uno"))


def test_sync_reports_a_conflict_with_both_versions_and_changes_nothing(app, content, session, trainer, admin, tmp_path):
    root = tmp_path / "files"
    shutil.copytree(TEST_CONTENT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    _site_edit(session, trainer, admin)
    conflicts, _agreeing = find_conflicts(session, root)
    assert [c.path for c in conflicts] == [LESSON]
    assert "Editado en el sitio" in conflicts[0].site_text and "Editado en el sitio" not in conflicts[0].files_text

    result = app.test_cli_runner().invoke(args=["content", "sync", "--root", str(root)])
    assert result.exit_code == 1
    assert f"conflict: {LESSON} (lesson a-uno" in result.output
    assert "-En **chat** respondemos" in result.output and "+Editado en el sitio: en **chat** respondemos" in result.output
    assert "--prefer files" in result.output
    assert "Editado en el sitio" in _body(session)  # nothing was overwritten


def test_prefer_site_keeps_the_site_version_until_the_files_agree(app, content, session, trainer, admin, tmp_path):
    root = tmp_path / "files"
    shutil.copytree(TEST_CONTENT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    # the files change another lesson meanwhile: that change is taken
    other = root / "courses/lessons/semana-a/a-dos.md"
    other.write_text(other.read_text(encoding="utf-8").rstrip() + "\n\nNuevo párrafo desde git.\n", encoding="utf-8")
    _site_edit(session, trainer, admin)
    problems, report, conflicts = sync_files(session, root, prefer="site")
    assert not problems and [c.path for c in conflicts] == [LESSON]
    session.commit()
    assert "Editado en el sitio" in _body(session)
    assert "Nuevo párrafo desde git." in session.scalar(select(Lesson.body).where(Lesson.slug == "a-dos"))
    assert session.scalar(select(ContentSiteEdit.path)) == LESSON  # still ahead of the files
    # the team exports the site into its files: they agree, the next sync clears the record
    export(session, root)
    problems, report, conflicts = sync_files(session, root)
    assert not problems and conflicts == []
    session.commit()
    assert session.scalar(select(ContentSiteEdit.path)) is None
    assert "Editado en el sitio" in _body(session)


def test_prefer_files_takes_the_files(app, content, session, trainer, admin, tmp_path):
    root = tmp_path / "files"
    shutil.copytree(TEST_CONTENT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    _site_edit(session, trainer, admin)
    result = app.test_cli_runner().invoke(args=["content", "sync", "--root", str(root), "--prefer", "files"])
    assert result.exit_code == 0, result.output
    assert "resolved with --prefer files" in result.output
    assert "Editado en el sitio" not in _body(session)
    assert session.scalar(select(ContentSiteEdit.path)) is None
