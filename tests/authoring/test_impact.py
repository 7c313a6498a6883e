"""A changed handbook section lists its affected items in the site; confirming them clears the flag."""
import shutil

from sqlalchemy import select

from lms.authoring.models import Impact, PassageRevision
from lms.content import sync
from tests.conftest import TEST_CONTENT

REF = "manual/estandares#resolucion"


def _revise(session, tmp_path):
    root = tmp_path / "files"
    shutil.copytree(TEST_CONTENT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    page = root / "courses/reference/manual/01-estandares.md"
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("- **Nivel 1**: 80% resuelto en 24 horas",
                                 "- **Nivel 1**: 80% resuelto en 24 horas\n- **Nivel 2**: 95% resuelto en 72 horas"), encoding="utf-8")
    problems, report = sync(session, root)
    assert not problems, [str(p) for p in problems]
    session.commit()


def test_a_revised_passage_lists_what_cites_it_and_confirming_clears_the_flag(content, client, auth, session, trainer, admin, tmp_path):
    _revise(session, tmp_path)
    revision = session.scalar(select(PassageRevision).where(PassageRevision.ref == REF))
    assert "Nivel 2" not in revision.old_text and "95% resuelto en 72 horas" in revision.new_text
    items = {(i.kind, i.slug): i for i in revision.impacts}
    assert {("question", "nivel1-numero"), ("scenario", "chat-retraso"), ("certification", "proceso")} <= set(items)
    assert "proceso" in items[("scenario", "chat-retraso")].certifications

    auth.login_as(admin)
    page = client.get("/authoring/impact").get_data(as_text=True)
    assert REF in page and "<ins>- **Nivel 2**: 95% resuelto en 72 horas</ins>" in page
    assert 'id="flagged"' in page and "<code>proceso</code>" in page
    assert "certificaciones descansan" in client.get("/authoring/").get_data(as_text=True) or \
        "certificación descansa" in client.get("/authoring/").get_data(as_text=True)
    auth.logout()

    auth.login_as(trainer)
    for impact in session.scalars(select(Impact)).all():  # this passage and any other the revision changed
        assert client.post("/authoring/impact", data={"impact_id": impact.id}).status_code == 302
    page = client.get("/authoring/impact").get_data(as_text=True)
    assert 'id="no-flags"' in page and 'id="flagged"' not in page
    session.expire_all()
    assert all(i.resolution == "confirmed" and i.resolved_by_id == trainer.id for i in session.scalars(select(Impact)))


def test_publishing_an_edit_settles_the_item(content, session, trainer, admin, tmp_path):
    from lms.authoring.file_views import published_item
    from tests.authoring.helpers import publish

    _revise(session, tmp_path)
    path, _title, text, options = published_item(session, "question", "nivel1-numero")
    publish(session, kind="question", slug="nivel1-numero", path=path, text=text.replace("El 80%.", "El 80 % (nivel 1)."),
            base_text=text, author=trainer, publisher=admin, options=options)
    impact = session.scalar(select(Impact).where(Impact.kind == "question", Impact.slug == "nivel1-numero"))
    assert impact.resolution == "edited" and impact.resolved_by_id == admin.id
