"""Questions of every type, quizzes, rubrics and certifications edited as their files, checked as content check does."""
from sqlalchemy import select

from lms.authoring import question_form, templates_yaml
from lms.authoring.models import Draft
from lms.quizzes.models import Question, Quiz
from lms.quizzes.question_types import REGISTRY
from lms.roleplays.models import Rubric
from tests.authoring.helpers import publish

CITE = 'sources:\n  - ref: manual/estandares#resolucion\n    quote: "Nivel 1: 80% resuelto en 24 horas"\n'


def _new(client, kind, slug, **extra):
    response = client.post(f"/authoring/new/{kind}", data={"slug": slug, **extra})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return response.location


def _problems(session, slug):
    session.expire_all()
    draft = session.scalar(select(Draft).where(Draft.slug == slug).order_by(Draft.id.desc()))
    return draft, {p["field"]: p["message"] for p in draft.problems}


def test_every_question_type_has_a_starting_form_that_only_lacks_its_citation(content, client, auth, session, trainer):
    auth.login_as(trainer)
    for kind in sorted(REGISTRY):
        edit = _new(client, "question", f"nueva-{kind.replace('_', '-')}", bank="tiempos", type=kind)
        page = client.post(edit + "?raw=1", data={"text": templates_yaml.question(f"nueva-{kind.replace('_', '-')}", kind), "action": "save"})
        assert page.status_code == 200
        draft, problems = _problems(session, f"nueva-{kind.replace('_', '-')}")
        assert set(problems) == {"sources"}, (kind, draft.problems)
        assert "citation to unknown reference page 'documento/capitulo'" in problems["sources"]


def test_a_formula_dividing_by_zero_is_an_error_on_the_formula_field_and_what_was_typed_is_kept(content, client, auth, session, trainer):
    auth.login_as(trainer)
    edit = _new(client, "question", "fcr-cero", bank="tiempos", type="calculated")
    page = client.get(edit).get_data(as_text=True)
    assert 'id="f-formula"' in page and 'id="f-variables"' in page and 'id="f-tolerance"' in page  # the calculated type's form
    _kind, values = question_form.values_of(templates_yaml.question("fcr-cero", "calculated"))
    values |= {"formula": "resueltos / (total - total)", "sources": CITE.removeprefix("sources:\n")}
    page = client.post(edit, data=values | {"action": "submit"}).get_data(as_text=True)
    draft, problems = _problems(session, "fcr-cero")
    assert draft.state == "draft" and "division by zero" in problems["formula"]
    assert 'id="formula-error"' in page and "division by zero" in page
    assert 'value="resueltos / (total - total)"' in page and draft.options["fields"]["formula"] == "resueltos / (total - total)"
    assert "La fórmula no da un resultado" in page
    # a number field that is not a number is refused on its field too
    page = client.post(edit, data=values | {"tolerance": "medio", "action": "save"}).get_data(as_text=True)
    assert 'id="tolerance-error"' in page and 'value="medio"' in page


def test_an_impossible_drill_ticket_is_an_error_on_the_ticket_field_and_a_possible_one_shows_its_key(content, client, auth, session, trainer):
    auth.login_as(trainer)
    edit = _new(client, "question", "drill-imposible", bank="tiempos", type="escalation_drill")
    _kind, values = question_form.values_of(templates_yaml.question("drill-imposible", "escalation_drill"))
    values["sources"] = CITE.removeprefix("sources:\n")
    page = client.post(edit, data=values | {"action": "save"}).get_data(as_text=True)
    assert 'id="drill-key"' in page  # the key the rules engine computes
    impossible = values | {"ticket": values["ticket"].replace("hours_at_current_level: 26", "hours_at_current_level: 90")}
    page = client.post(edit, data=impossible | {"action": "submit"}).get_data(as_text=True)
    draft, problems = _problems(session, "drill-imposible")
    assert "hours_at_current_level cannot exceed hours_since_opening" in problems["ticket"]
    assert 'id="ticket-error"' in page and "hours_at_current_level: 90" in page
    assert draft.state == "draft" and draft.options["fields"]["ticket"] == impossible["ticket"] and "Este ticket no es posible" in page


def test_a_question_edit_is_a_new_version_and_old_attempts_keep_theirs(content, session, trainer, admin, agent, manager):
    from datetime import date

    from lms.authoring.file_views import published_item
    from lms.core.clock import now_utc
    from lms.quizzes import services as quizzes
    from lms.tracks import services as tracks

    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 1, 5), now=now_utc())
    attempt_id = quizzes.start_attempt(session, agent, quizzes.get_quiz(session, "evaluacion-a"), now=now_utc()).id
    session.commit()
    path, _title, text, options = published_item(session, "question", "chat-30")
    publish(session, kind="question", slug="chat-30", path=path, text=text.replace("¿En cuánto tiempo se responde un chat?", "¿Cuál es el tiempo de respuesta del chat?"),
            base_text=text, author=trainer, publisher=admin, options=options)
    question = session.scalar(select(Question).where(Question.slug == "chat-30"))
    assert question.current_version == 2 and question.versions[-1].data["text"] == "¿Cuál es el tiempo de respuesta del chat?"
    from lms.quizzes.models import QuizAttempt

    slot = next(s for s in session.get(QuizAttempt, attempt_id).slots if s.question_version.question.slug == "chat-30")
    assert slot.question_version.version == 1 and slot.question_version.data["text"] == "¿En cuánto tiempo se responde un chat?"


def test_quiz_and_rubric_drafts_publish(content, client, auth, session, trainer, admin):
    auth.login_as(trainer)
    edit = _new(client, "quiz", "repaso-tiempos")
    page = client.get(edit).get_data(as_text=True)
    for field in ("draw", "time_limit_minutes", "attempts_allowed", "grade_method", "review", "pass_mark"):
        assert f'id="f-{field}"' in page  # the quiz's own form
    text = templates_yaml.quiz("repaso-tiempos").replace("semana-1-fundamentos", "semana-a").replace("id-del-banco", "tiempos").replace("count: 5", "count: 2")
    _kind, values = question_form.values_of(text, "quiz")
    page = client.post(edit, data=values | {"grade_method": "best", "time_limit_minutes": "veinte", "action": "save"}).get_data(as_text=True)
    _draft, problems = _problems(session, "repaso-tiempos")
    assert 'id="time_limit_minutes-error"' in page and 'value="veinte"' in page
    page = client.post(edit, data=values | {"grade_method": "best", "action": "save"})
    _draft, problems = _problems(session, "repaso-tiempos")
    assert "must be highest, last or average" in problems["grade_method"]
    assert client.post(edit, data=values | {"shuffle_choices": "", "action": "submit"}).status_code == 302
    auth.logout()
    auth.login_as(admin)
    draft, _ = _problems(session, "repaso-tiempos")
    client.post(f"/authoring/drafts/{draft.id}/act", data={"action": "approve_publish"})
    quiz = session.scalar(select(Quiz).where(Quiz.slug == "repaso-tiempos"))
    assert quiz.settings["draw"] == [{"bank": "tiempos", "count": 2, "tags": []}] and quiz.settings["grade_method"] == "highest"
    assert quiz.settings["shuffle_choices"] is False and quiz.settings["shuffle_questions"] is True
    assert quiz.settings["time_limit_minutes"] == 20 and quiz.settings["attempts_allowed"] == 3

    assert client.post("/authoring/edit/rubric/comunicacion").status_code == 302
    auth.logout()
    auth.login_as(trainer)
    client.post("/authoring/edit/rubric/comunicacion")
    draft = session.scalar(select(Draft).where(Draft.kind == "rubric", Draft.slug == "comunicacion"))
    # the admin started it, the trainer edits and submits it, the admin publishes
    response = client.post(f"/authoring/drafts/{draft.id}/edit", data={"text": draft.text.replace("Tiempo de respuesta", "Rapidez de la respuesta"), "action": "submit"})
    assert response.status_code == 302
    auth.logout()
    auth.login_as(admin)
    page = client.post(f"/authoring/drafts/{draft.id}/act", data={"action": "approve_publish"}, follow_redirects=True).get_data(as_text=True)
    rubric = session.scalar(select(Rubric).where(Rubric.slug == "comunicacion"))
    session.refresh(rubric)
    if rubric.current_version != 2:
        raise AssertionError(page[page.find("flash"):page.find("flash") + 500])
    assert rubric.versions[-1].data["criteria"][0]["title"] == "Rapidez de la respuesta"


def test_scenario_is_checked_by_the_roleplay_loader_and_publishes(content, client, auth, session, trainer, admin):
    from lms.roleplays.models import Scenario

    auth.login_as(trainer)
    assert client.post("/authoring/edit/scenario/chat-retraso").status_code == 302
    draft = session.scalar(select(Draft).where(Draft.kind == "scenario", Draft.slug == "chat-retraso"))
    edit, original = f"/authoring/drafts/{draft.id}/edit", draft.text
    page = client.get(edit).get_data(as_text=True)
    assert 'id="try-it"' in page and "Ana escribe por chat." in page  # the "try it" panel: the situation
    tried = client.post(f"/authoring/drafts/{draft.id}/try", json={"replies": []}).get_json()  # fixed messages: nothing to simulate
    assert not tried["ok"] and "have no model" in tried["error"]
    bad = original.replace("mode: chat", "mode: email")
    page = client.post(edit, data={"text": bad, "action": "submit"}).get_data(as_text=True)
    _draft, problems = _problems(session, "chat-retraso")
    assert "a email role-play is timed against the email standard, not chat" in problems["channel"]
    assert "email mode needs exactly one customer message (the e-mail)" in problems["customers"]
    assert "mode: email" in page
    good = original.replace("title: Un pedido retrasado", "title: Un pedido que no llega")
    assert client.post(edit, data={"text": good, "action": "submit"}).status_code == 302
    auth.logout()
    auth.login_as(admin)
    client.post(f"/authoring/drafts/{draft.id}/act", data={"action": "approve_publish"})
    session.expire_all()
    assert session.scalar(select(Scenario.title).where(Scenario.slug == "chat-retraso")) == "Un pedido que no llega"


def test_a_key_stating_a_number_no_quote_states_is_refused_on_the_sources_field(content, client, auth, session, trainer):
    auth.login_as(trainer)
    edit = _new(client, "question", "nivel1-otra", bank="tiempos", type="numeric")
    _kind, values = question_form.values_of(templates_yaml.question("nivel1-otra", "numeric"))
    values |= {"answer": "95", "sources": '- ref: manual/estandares#resolucion\n  quote: "Nivel 1: 80% resuelto en 24 horas"\n'}
    page = client.post(edit, data=values | {"action": "submit"}).get_data(as_text=True)
    _draft, problems = _problems(session, "nivel1-otra")
    assert "the key states 95 but no cited quote says 95" in problems["sources"] and 'id="sources-error"' in page
