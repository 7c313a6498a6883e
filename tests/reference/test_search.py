from datetime import date

import pytest

from lms.core.clock import now_utc
from lms.reference import services
from lms.reference.search import terms
from lms.tracks import services as tracks


def test_terms_ignore_case_accents_plurals_and_stopwords():
    assert terms("Las Quejas de facturación") == terms("queja facturacion")
    assert terms("Niveles") == terms("nivel")


@pytest.mark.parametrize("query", ["respuesta inicial", "RESPUESTAS", "resolución", "resolucion", "niveles"])
def test_search_finds_reference_sections_whatever_the_form(session, content, query):
    results = services.search(session, query)
    assert results, query
    assert results[0].document.kind in ("reference", "lesson")


def test_search_requires_every_word_and_ranks(session, content):
    assert services.search(session, "chat inexistentepalabra") == []
    results = services.search(session, "segundos")
    keys = [r.document.key for r in results]
    assert "manual/estandares#respuesta-inicial" in keys and "a-uno" in keys


def test_search_page_shows_results_with_links_and_snippets(client, auth, trainer, content):
    auth.login_as(trainer)
    page = client.get("/search?q=segundos").get_data(as_text=True)
    assert "/reference/manual/estandares#respuesta-inicial" in page
    assert "/lessons/a-uno" in page
    assert "30 segundos" in page


def test_agents_only_find_lessons_of_their_tracks(client, auth, agent, manager, content, session):
    auth.login_as(agent)
    page = client.get("/search?q=segundos").get_data(as_text=True)
    assert "/lessons/a-uno" not in page and "/reference/manual/estandares#respuesta-inicial" in page
    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 1, 5), now=now_utc())
    session.commit()
    page = client.get("/search?q=segundos").get_data(as_text=True)
    assert "/lessons/a-uno" in page


def test_search_index_follows_content_edits(session, tmp_path):
    import shutil

    from lms.content import sync
    from tests.conftest import TEST_CONTENT
    from tests.content.test_loader import edit

    tree = tmp_path / "c"
    shutil.copytree(TEST_CONTENT, tree)
    sync(session, tree)
    assert [r.document.key for r in services.search(session, "cronometra")] == ["a-uno"]
    edit(tree / "courses/lessons/semana-a/a-uno.md", "Cronometra tu próxima respuesta.", "Mide tu próxima respuesta con un reloj.")
    sync(session, tree)
    assert services.search(session, "cronometra") == []
    assert [r.document.key for r in services.search(session, "reloj")] == ["a-uno"]
