from datetime import date, timedelta

import pytest

from lms.core.clock import now_utc
from lms.quizzes import services
from lms.tracks import services as tracks
from tests.quizzes.helpers import answer_all_correctly


@pytest.fixture
def enrolled(session, content, agent, manager):
    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date.today() - timedelta(days=4), now=now_utc())
    session.commit()


#: what the review page says after the agent's submission (as a flashed message would)
SAID = '<p class="flash flash-success">Intento enviado.</p>'


def start(client):
    response = client.post("/quizzes/evaluacion-a/start")
    assert response.status_code == 302
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_agent_takes_a_quiz_end_to_end(client, auth, agent, enrolled, session):
    auth.login_as(agent)
    page = client.get("/quizzes/evaluacion-a").get_data(as_text=True)
    assert "Nota para aprobar" in page and "80%" in page and "10 minutos" in page
    attempt_id = start(client)
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "¿En cuánto tiempo se responde un chat?" in page and 'id="timer"' in page
    attempt = services.get_attempt(session, attempt_id)
    values = answer_all_correctly(attempt)
    # auto-save (what quiz.js sends)
    response = client.post(f"/attempts/{attempt_id}/save", data=values, headers={"Accept": "application/json", "X-Requested-With": "fetch"})
    assert response.status_code == 200 and response.get_json()["ok"] and response.get_json()["changed"] == 2
    # a reload shows the saved answers
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "checked" in page
    response = client.post(f"/attempts/{attempt_id}/submit", data=values)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/attempts/{attempt_id}/review?submitted=1")
    assert "Set-Cookie" not in response.headers  # the session did not change: its cookie is not signed again
    said = client.get(response.headers["Location"])
    assert SAID in said.get_data(as_text=True) and "Set-Cookie" not in said.headers
    page = client.get(f"/attempts/{attempt_id}/review").get_data(as_text=True)
    assert SAID not in page  # (said on the page the submission leads to)
    assert "100%" in page and "Aprobado" in page
    assert "El manual fija 30 segundos." in page  # explanation shown immediately
    assert "/reference/manual/estandares#respuesta-inicial" in page
    # the quiz now counts as done in the track
    home = client.get("/").get_data(as_text=True)
    assert "Evaluación de la semana A" in home or "25%" in home


def test_double_submit_says_so_and_changes_nothing(client, auth, agent, enrolled, session):
    auth.login_as(agent)
    attempt_id = start(client)
    client.post(f"/attempts/{attempt_id}/submit", data={})
    response = client.post(f"/attempts/{attempt_id}/submit", data=answer_all_correctly(services.get_attempt(session, attempt_id)))
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "ya se envió; no se ha cambiado nada" in page
    session.expire_all()
    assert services.get_attempt(session, attempt_id).score == 0


def test_autosave_after_submit_reports_closed(client, auth, agent, enrolled):
    auth.login_as(agent)
    attempt_id = start(client)
    client.post(f"/attempts/{attempt_id}/submit", data={})
    response = client.post(f"/attempts/{attempt_id}/save", data={"q0": ["0"]}, headers={"Accept": "application/json"})
    assert response.status_code == 409 and response.get_json()["closed"]


def test_tampered_form_is_refused_with_a_message(client, auth, agent, enrolled, session):
    auth.login_as(agent)
    attempt_id = start(client)
    attempt = services.get_attempt(session, attempt_id)
    single = next(s for s in attempt.slots if s.question_version.data["type"] == "single_choice")
    page = client.post(f"/attempts/{attempt_id}/save", data={f"q{single.position}": "<script>alert(1)</script>"}, follow_redirects=True).get_data(as_text=True)
    assert "Respuesta no válida" in page and "<script>alert(1)</script>" not in page


def test_other_agents_attempts_are_not_found(client, auth, agent, enrolled, make_user, team):
    auth.login_as(agent)
    attempt_id = start(client)
    client.post("/logout")
    other = make_user("agent", teams=[team])
    auth.login_as(other)
    for url in (f"/attempts/{attempt_id}", f"/attempts/{attempt_id}/review"):
        assert client.get(url).status_code == 404
    for url in (f"/attempts/{attempt_id}/save", f"/attempts/{attempt_id}/submit"):
        assert client.post(url, data={"q0": ["0"]}).status_code == 404


def test_trainer_of_the_team_sees_the_review_but_another_does_not(client, auth, agent, trainer, enrolled, make_user, make_team):
    auth.login_as(agent)
    attempt_id = start(client)
    client.post(f"/attempts/{attempt_id}/submit", data={})
    client.post("/logout")
    auth.login_as(trainer)
    assert client.get(f"/attempts/{attempt_id}/review").status_code == 200
    assert SAID not in client.get(f"/attempts/{attempt_id}/review?submitted=1").get_data(as_text=True)  # not theirs
    client.post("/logout")
    auth.login_as(make_user("trainer", teams=[make_team("Otro")]))
    assert client.get(f"/attempts/{attempt_id}/review").status_code == 404


def test_quiz_outside_the_agents_tracks_is_not_found(client, auth, make_user, content):
    auth.login_as(make_user("agent"))
    assert client.get("/quizzes/evaluacion-a").status_code == 404
    assert client.post("/quizzes/evaluacion-a/start").status_code == 404


def test_the_attempt_page_reads_its_moments_as_the_orm_does(client, auth, agent, enrolled, session):
    """The page's statement reads the deadline and the versions' creation times as stored and converts them itself
    (lms.quizzes.page): the same UTC datetimes the ORM reads, so the timer and the version cache's keys are the same."""
    from lms.core.db import get_db
    from lms.quizzes import versions
    from lms.quizzes.page import attempt_page

    auth.login_as(agent)
    attempt_id = start(client)
    attempt = services.get_attempt(session, attempt_id)
    assert attempt.deadline_at is not None and attempt.deadline_at.tzinfo is not None
    fresh = get_db().sessionmaker()
    try:
        page = attempt_page(fresh, attempt_id, locale="es")
    finally:
        fresh.close()
    assert page.deadline_at == attempt.deadline_at and page.deadline_at.utcoffset() == timedelta(0)
    assert [key[0] for key in page.keys] == [versions.of_version(slot.question_version).key for slot in attempt.slots]
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    remaining = int(html.split('data-remaining="', 1)[1].split('"', 1)[0])
    assert abs((attempt.deadline_at - now_utc()).total_seconds() - remaining) <= 5


def test_start_save_and_submit_need_the_csrf_token(app, client, auth, agent, enrolled, session, monkeypatch):
    """The quiz's hot paths rely on the CSRF check made before every POST view (CSRFProtect): without the form's token
    nothing starts, nothing is saved, nothing is submitted."""
    import re

    from lms.quizzes.models import QuizAttempt

    auth.login_as(agent)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/quizzes/evaluacion-a/start").status_code == 400
    assert session.query(QuizAttempt).filter_by(user_id=agent.id).count() == 0
    session.commit()  # (the test's session ends its read: the requests below write after it)
    page = client.get("/quizzes/evaluacion-a").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/quizzes/evaluacion-a/start", data={"csrf_token": token})
    assert response.status_code == 302
    attempt_id = int(response.headers["Location"].rsplit("/", 1)[1])
    values = answer_all_correctly(services.get_attempt(session, attempt_id))
    session.commit()
    assert client.post(f"/attempts/{attempt_id}/save", data=values, headers={"Accept": "application/json"}).status_code == 400
    assert client.post(f"/attempts/{attempt_id}/submit", data=values).status_code == 400
    session.expire_all()
    attempt = services.get_attempt(session, attempt_id)
    assert attempt.state == "in_progress" and all(slot.answer is None for slot in attempt.slots)
    session.commit()
    assert client.post(f"/attempts/{attempt_id}/submit", data=values | {"csrf_token": token}).status_code == 302
    session.expire_all()
    assert services.get_attempt(session, attempt_id).state == "graded"
