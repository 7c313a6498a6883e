"""The attempt page renders each question's inputs once per (version, layout, saved answer, language) and reuses
them (issue #22): the page is byte for byte what rendering every question gives, for every question type."""
from __future__ import annotations

import re

from sqlalchemy import select

from lms.core.clock import now_utc
from lms.quizzes import services, versions
from lms.quizzes.models import Question, QuestionVersion
from lms.quizzes.simulate import correct_values
from tests.quizzes.helpers import make_quiz
from tests.quizzes.test_drill_views import DRILL

SOURCES = DRILL["sources"]
EXTRA = [
    {"id": "frag-multiple", "type": "multiple_choice", "text": "¿Qué canales son **escritos**?", "sources": SOURCES,
     "choices": [{"text": "Email", "correct": True}, {"text": "Chat", "correct": True}, {"text": "Teléfono", "correct": False}]},
    {"id": "frag-matching", "type": "matching", "text": "Relaciona cada canal con su tiempo.", "sources": SOURCES,
     "pairs": [{"left": "Chat", "right": "30 segundos"}, {"left": "Email", "right": "4 horas"}], "distractors": ["1 semana"]},
    {"id": "frag-short", "type": "short_text", "text": "¿Qué canal responde en 30 segundos?", "sources": SOURCES, "answers": ["chat"]},
    DRILL,
]


def _questions(session) -> list[dict]:
    """Every question type: the test content's questions (copied under new ids) and a multiple choice, a matching
    and an escalation drill."""
    rows = session.scalars(select(QuestionVersion.data).join(Question, Question.id == QuestionVersion.question_id)
                           .where(QuestionVersion.version == Question.current_version)).all()
    copies = [dict(data, id=f"frag-{data['id']}") for data in rows]
    return copies + EXTRA


def _page(client, attempt_id: int) -> str:
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    return re.sub(r'name="idempotency_key" value="[^"]+"', "", page)  # a new key on every page


def test_cached_inputs_render_exactly_as_the_template_for_every_type(client, auth, agent, session, content):
    questions = _questions(session)
    assert {q["type"] for q in questions} >= {"single_choice", "multiple_choice", "true_false", "matching", "ordering", "numeric",
                                              "calculated", "short_text", "essay", "scenario", "escalation_drill"}
    quiz = make_quiz(session, "fragmentos", questions)
    attempt = services.start_attempt(session, agent, quiz, now=now_utc(), may_take=True)
    session.commit()
    auth.login_as(agent)
    for language in ("es", "en"):
        agent.locale = language
        session.commit()
        versions.FRAGMENTS.clear()
        rendered = _page(client, attempt.id)  # every question rendered by the template
        assert 'name="q0' in rendered and len(versions.FRAGMENTS) == len(questions)
        assert _page(client, attempt.id) == rendered  # every question from the cache
    # the drill's selects keep their options when they come from the cache
    page = _page(client, attempt.id)
    drill = len(questions) - 1
    assert re.search(rf'<select name="q{drill}-destination"[^>]*>\s*<option value="">—</option>\s*<option value="0"', page)

    # with every answer saved: the inputs show them, the same from the template and from the cache
    values = {}
    for slot in services.get_attempt(session, attempt.id).slots:
        values |= correct_values(versions.version_of(slot).data, slot.layout, f"q{slot.position}")
    assert client.post(f"/attempts/{attempt.id}/save", data=values).status_code == 302
    client.get(f"/attempts/{attempt.id}")  # shows the flash message once
    versions.FRAGMENTS.clear()
    answered = _page(client, attempt.id)
    assert answered != page and "checked" in answered and "selected" in answered
    assert _page(client, attempt.id) == answered


def test_a_changed_version_content_under_the_same_id_is_never_served_from_the_cache(session):
    """The key holds the content hash and creation time: another database reusing an id gets its own content."""
    entry = versions.CACHE.put((987654, "hash-a", None), {"type": "essay", "text": "A"})
    assert versions.CACHE.get((987654, "hash-a", None)) is entry
    assert versions.CACHE.get((987654, "hash-b", None)) is None
    assert versions.resolve(session, [(987654, "hash-a", None)])[987654].data["text"] == "A"


def test_a_kept_fragment_loses_only_the_indentation_between_tags():
    from markupsafe import Markup

    cache = versions.FragmentCache(4)
    html = Markup('<li class="q">\n      <h2>Pregunta 1 <span>· 1 punto</span></h2>\n\n  \n'
                  '  <label><input type="radio" name="q0"> Chat</label> <label><input type="radio" name="q0"> Email</label>\n'
                  '  <textarea name="q1">Hola,\n\n   &lt;b&gt;\n  gracias</textarea>\n'
                  '  <pre><code>&lt;p&gt;\n    &lt;/p&gt;\n</code></pre>\n    </li>')
    kept = cache.put("k", html)
    assert cache.get("k") == kept and isinstance(kept, Markup)
    assert str(kept) == ('<li class="q">\n<h2>Pregunta 1 <span>· 1 punto</span></h2>\n'
                         '<label><input type="radio" name="q0"> Chat</label> <label><input type="radio" name="q0"> Email</label>\n'
                         '<textarea name="q1">Hola,\n\n   &lt;b&gt;\n  gracias</textarea>\n'
                         '<pre><code>&lt;p&gt;\n    &lt;/p&gt;\n</code></pre>\n</li>')
