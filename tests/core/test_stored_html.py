"""Markdown rendered when content is written (lms.core.markdown.keep_rendered), shown from what was stored."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from datetime import date, timedelta
from types import SimpleNamespace

from sqlalchemy import select

from lms.accounts import services as accounts
from lms.content import sync as content_sync
from lms.core import markdown as md
from lms.core.clock import now_utc
from lms.core.db import get_db
from lms.core.markdown import RENDERER, render_markdown, rendered
from lms.core.security import hash_password
from lms.quizzes import services as quizzes, versions
from lms.quizzes.models import Question, QuestionVersion, Quiz
from lms.reference.models import ReferencePage, ReferenceSection
from lms.roleplays.models import Scenario
from lms.tracks import services as tracks
from lms.tracks.models import Lesson, Module, Track
from tests.conftest import PASSWORD, PROJECT, TEST_CONTENT, make_test_app


def test_every_synced_row_stores_the_html_of_its_markdown(session, content):
    rows = {Track: ("description",), Module: ("summary",), Quiz: ("description",), ReferencePage: ("body",), ReferenceSection: ("text",),
            Scenario: ("situation", "exemplar")}
    for model, fields in rows.items():
        found = list(session.scalars(select(model)))
        assert found, model
        for row in found:
            assert row.html["_v"] == RENDERER
            for name in fields:
                assert row.html[name] == str(render_markdown(getattr(row, name))), (model, row.id, name)
    lessons = list(session.scalars(select(Lesson)))
    assert any(lesson.house_rules for lesson in lessons)
    for lesson in lessons:
        assert lesson.html["body"] == str(render_markdown(lesson.body)) and "<" in lesson.html["body"]
        assert lesson.html["house_rules"] == [str(render_markdown(rule["text"])) for rule in lesson.house_rules]
    for version in session.scalars(select(QuestionVersion)):
        for name in ("situation", "explanation"):
            assert version.html[name] == str(render_markdown(version.data.get(name)))
        if not version.data.get("variables"):
            assert version.html["text"] == str(render_markdown(version.data["text"]))


def test_a_changed_text_is_rendered_again_and_other_changes_render_nothing(session, content, monkeypatch):
    lesson = session.scalars(select(Lesson)).first()
    calls = []
    real = md._render
    monkeypatch.setattr(md, "_render", lambda text: calls.append(text) or real(text))
    lesson.title = "Otro título"
    session.commit()
    assert calls == []
    lesson.body = lesson.body + "\n\n**Nuevo párrafo** único 7d3f"
    session.commit()
    session.expire_all()
    assert "<strong>Nuevo párrafo</strong> único 7d3f" in lesson.html["body"] and calls


def test_the_rendered_filter_shows_the_stored_html_of_this_renderer_only():
    row = SimpleNamespace(html={"_v": RENDERER, "body": "<p>guardado</p>", "house_rules": ["<p>regla</p>"]})
    assert str(rendered("**texto**", row, "body")) == "<p>guardado</p>"
    assert str(rendered("*regla*", row, "house_rules", 0)) == "<p>regla</p>"
    assert str(rendered("*otra*", row, "house_rules", 1)) == "<p><em>otra</em></p>"  # none stored at that position
    stale = SimpleNamespace(html={"_v": RENDERER + 1, "body": "<p>viejo</p>"})
    assert str(rendered("**texto**", stale, "body")) == "<p><strong>texto</strong></p>"
    assert str(rendered("**texto**", SimpleNamespace(html=None), "body")) == "<p><strong>texto</strong></p>"
    assert str(rendered("**texto**", object(), "body")) == "<p><strong>texto</strong></p>"


def test_a_calculated_questions_numbers_fill_its_stored_html(session, content):
    version = session.scalar(select(QuestionVersion).join(Question).where(Question.slug == "calc-porcentaje"))
    assert "{total}" not in version.html["text"] and "\ue000total\ue001" in version.html["text"]
    entry = versions.of_version(version)
    layout = {"values": {"total": 150, "resueltos": 120.5}}
    assert str(entry.markup("text", layout)) == str(render_markdown(entry.text(layout)))
    assert "De 150 tickets de nivel 1 se resolvieron 120.5" in entry.markup("text", layout)


def test_a_worker_shows_the_stored_content_without_importing_markdown(databases, tmp_path):
    """In a fresh interpreter: an agent's pages (tracks, a track, a lesson, the reference, a quiz, an attempt with a
    calculated question and a scenario, its review) import neither Python-Markdown nor nh3."""
    url = databases.create("stored-html")
    app = make_test_app(url, tmp_path)
    with app.app_context():
        s = get_db(app).sessionmaker()
        problems, _ = content_sync(s, TEST_CONTENT)
        assert not problems
        team = accounts.create_team(s, "Equipo HTML")
        manager = accounts.create_user(s, email="m-html@example.com", name="Marta", role="manager")
        agent = accounts.create_user(s, email="a-html@example.com", name="Lucía", role="agent")
        agent.password_hash = hash_password(PASSWORD)
        for user in (manager, agent):
            accounts.add_to_team(s, team, user)
        tracks.enroll(s, actor=manager, agent=agent, track=tracks.find_track(s, "corto"),
                      start_date=date.today() - timedelta(days=4), now=now_utc())
        quiz = quizzes.get_quiz(s, "evaluacion-a")
        quiz.settings = dict(quiz.settings, draw=[{"questions": ["chat-30", "calc-porcentaje", "caso-ticket"]}])
        lesson = s.scalars(select(Lesson).where(Lesson.is_archived.is_(False)).order_by(Lesson.id)).first()
        page = s.scalars(select(ReferencePage)).first()
        s.commit()
        paths = {"lesson": f"/lessons/{lesson.slug}", "reference": "/reference/" + page.slug.replace("#", "/")}
        s.close()
    script = textwrap.dedent(f"""
        import json, sys
        from lms import create_app
        app = create_app({{"DATABASE_URL": {url!r}, "SECRET_KEY": "k" * 40, "WTF_CSRF_ENABLED": False,
                           "CONTENT_ROOT": {str(TEST_CONTENT)!r}}})
        client = app.test_client()
        pages = {{}}
        assert client.post("/login", data={{"email": "a-html@example.com", "password": {PASSWORD!r}}}).status_code == 302
        for name, path in [("tracks", "/tracks"), ("track", "/tracks/corto"), ("lesson", {paths["lesson"]!r}),
                           ("reference", {paths["reference"]!r}), ("quiz", "/quizzes/evaluacion-a")]:
            response = client.get(path)
            pages[name] = [response.status_code, response.get_data(as_text=True)]
        started = client.post("/quizzes/evaluacion-a/start")
        attempt = started.headers["Location"].rsplit("/", 1)[1]
        response = client.get(f"/attempts/{{attempt}}")
        pages["attempt"] = [response.status_code, response.get_data(as_text=True)]
        client.post(f"/attempts/{{attempt}}/submit", data={{}})
        response = client.get(f"/attempts/{{attempt}}/review")
        pages["review"] = [response.status_code, response.get_data(as_text=True)]
        imported = sorted(m for m in sys.modules if m.split(".")[0] in ("markdown", "nh3", "pygments"))
        print(json.dumps([pages, imported]))
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=PROJECT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    pages, imported = json.loads(out.stdout.strip().splitlines()[-1])
    assert imported == []
    assert {name: status for name, (status, _) in pages.items()} == dict.fromkeys(pages, 200)
    with app.app_context():
        s = get_db(app).sessionmaker()
        lesson = s.scalar(select(Lesson).where(Lesson.slug == lesson.slug))
        assert lesson.html["body"] in pages["lesson"][1]
        page = s.scalar(select(ReferencePage).where(ReferencePage.id == page.id))
        assert page.html["body"] in pages["reference"][1]
        track = tracks.find_track(s, "corto")
        assert track.html["description"] in pages["tracks"][1] and track.html["description"] in pages["track"][1]
        s.close()
    attempt_page = pages["attempt"][1]
    assert re.search(r"De \d+ tickets de nivel 1 se resolvieron \d+ en 24 horas", attempt_page)  # the drawn numbers
    assert "\ue000" not in attempt_page and "{total}" not in attempt_page
    assert "Un cliente abre un chat a las 9:00." in attempt_page  # the scenario's situation
    assert "tickets de nivel 1 se resolvieron" in pages["review"][1] and "\ue000" not in pages["review"][1]
    get_db(app).engine.dispose()


def test_a_list_fields_html_keeps_each_texts_position():
    from lms.core.markdown import stored_html

    html = stored_html({"house_rules": [None, "*dos*", 3, "**cuatro**"]})
    assert html["house_rules"] == ["", "<p><em>dos</em></p>", "", "<p><strong>cuatro</strong></p>"]
    row = SimpleNamespace(html=html)
    assert str(rendered("**cuatro**", row, "house_rules", 3)) == "<p><strong>cuatro</strong></p>"


def test_every_calculated_question_of_the_content_shows_its_numbers_as_rendering_them_would():
    """For each calculated question of the content's banks and numbers drawn for it: the stored HTML with the numbers
    put in is the HTML of the text rendered with them."""
    import random

    import yaml

    from lms.core.markdown import stored_html
    from lms.quizzes.question_types import draw_values, render_text, text_with_placeholders

    questions = [q for path in sorted((PROJECT / "quizzes" / "banks").glob("*.yaml"))
                 for q in (yaml.safe_load(path.read_text(encoding="utf-8")).get("questions") or []) if q.get("type") == "calculated"]
    assert len(questions) >= 3
    rng = random.Random(7)
    for q in questions:
        entry = versions.CachedVersion(0, q, None, html=stored_html({"text": text_with_placeholders(q)}))
        for _ in range(5):
            values, _result = draw_values(q, rng)
            layout = {"values": values}
            assert str(entry.markup("text", layout)) == str(render_markdown(render_text(q, layout))), (q["id"], values)
