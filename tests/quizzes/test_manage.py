"""Trainers and managers: results, statistics from real attempts, grading, overrides, accommodations."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from lms.quizzes import services
from lms.quizzes.models import Accommodation
from lms.quizzes.stats import item_statistics, pearson
from lms.tracks import services as tracks
from tests.quizzes.helpers import answer_all_correctly

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)


def test_pearson_against_hand_computed_values():
    assert pearson([1, 0, 1, 0], [1.0, 0.0, 1.0, 0.0]) == pytest.approx(1.0)
    assert pearson([1, 0, 1, 0], [0.0, 1.0, 0.0, 1.0]) == pytest.approx(-1.0)
    # x = [1,1,0,0] (mean .5), y = [.9,.5,.6,.2] (mean .55): Σdxdy = .3, Σdx² = 1, Σdy² = .25 → r = .3 / √.25 = 0.6
    assert pearson([1, 1, 0, 0], [0.9, 0.5, 0.6, 0.2]) == pytest.approx(0.6)
    assert pearson([1, 1], [0.2, 0.8]) is None  # no variance in x


@pytest.fixture
def cohort(session, content, team, manager, make_user):
    """Four agents take the week-A quiz (2 questions): 2 get both right, 1 gets one, 1 gets none."""
    agents = [make_user("agent", teams=[team]) for _ in range(4)]
    quiz = services.get_quiz(session, "evaluacion-a")
    quiz.settings = dict(quiz.settings, draw=[{"questions": ["chat-30", "email-vf"]}], shuffle_questions=False, shuffle_choices=False)
    attempts = []
    for n, agent in enumerate(agents):
        tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 1, 5), now=T0)
        attempt = services.start_attempt(session, agent, quiz, now=T0)
        values = answer_all_correctly(attempt)
        if n == 2:
            values["q0"] = ["1"]  # wrong choice: "Menos de 2 horas"
        if n == 3:
            values = {"q0": ["2"], "q1": ["false"]}
        services.submit_attempt(session, attempt, agent, values, now=T0 + timedelta(minutes=1))
        attempts.append(attempt)
    session.commit()
    return quiz, agents, attempts


def test_item_statistics_from_seeded_attempts(session, cohort):
    quiz, agents, attempts = cohort
    stats = {s.slug: s for s in item_statistics(attempts)}
    chat, email = stats["chat-30"], stats["email-vf"]
    assert (chat.attempts, chat.facility, email.facility) == (4, 50.0, 75.0)
    # chat-30: item [1,1,0,0] vs rest (email) [1,1,1,0] → r = 0.57735
    assert chat.discrimination == pytest.approx(57.7, abs=0.1)
    assert email.discrimination == pytest.approx(57.7, abs=0.1)
    assert chat.wrong_answers == {"Menos de 2 horas": 1, "Menos de 1 hora": 1}


def test_results_page_shows_agents_and_statistics(client, auth, trainer, cohort):
    auth.login_as(trainer)
    page = client.get("/manage/quizzes/evaluacion-a").get_data(as_text=True)
    assert page.count("Aprobada") >= 2 and "chat-30" in page and "57,7" in page  # decimal comma in Spanish
    overview = client.get("/manage/quizzes").get_data(as_text=True)
    assert "Evaluación de la semana A" in overview


def test_statistics_and_results_exclude_other_teams(client, auth, cohort, make_user, make_team):
    auth.login_as(make_user("trainer", teams=[make_team("Otro")]))
    page = client.get("/manage/quizzes/evaluacion-a").get_data(as_text=True)
    assert "Todavía no hay intentos calificados" in page and "chat-30" not in page
    _, _, attempts = cohort
    assert client.get(f"/manage/attempts/{attempts[0].id}").status_code == 404


def test_override_through_the_page_keeps_history_and_detects_conflicts(client, auth, trainer, cohort, session):
    _, _, attempts = cohort
    attempt = attempts[3]
    auth.login_as(trainer)
    page = client.get(f"/manage/attempts/{attempt.id}").get_data(as_text=True)
    assert "Guardar nota" in page
    revision = attempt.revision
    response = client.post(f"/manage/attempts/{attempt.id}", data={"slot": "0", "s0-revision": revision, "s0-score": "1",
                                                                    "s0-feedback": "Acepto la respuesta", "s0-reason": "Enunciado ambiguo"})
    assert response.status_code == 302
    session.expire_all()
    updated = services.get_attempt(session, attempt.id)
    assert updated.percent == 50 and updated.slots[0].score == 1
    # a second trainer working from the old page
    page = client.post(f"/manage/attempts/{attempt.id}", data={"slot": "0", "s0-revision": revision, "s0-score": "0",
                                                                "s0-reason": "No"}, follow_redirects=True).get_data(as_text=True)
    assert "Otra persona cambió este intento" in page
    page = client.get(f"/manage/attempts/{attempt.id}").get_data(as_text=True)
    assert "Enunciado ambiguo" in page and "Cambio de nota" in page
    # the agent sees the trainer's comment
    session.expire_all()
    assert services.get_attempt(session, attempt.id).slots[0].feedback == "Acepto la respuesta"


def test_manager_grants_accommodations_to_a_group(client, auth, manager, cohort, session):
    _, agents, _ = cohort
    auth.login_as(manager)
    response = client.post("/manage/accommodations", data={"agents": [agents[0].id, agents[1].id], "time_multiplier": "1,5",
                                                            "extra_attempts": "1", "reason": "Informe médico"})
    assert response.status_code == 302
    granted = {a.user_id: a for a in session.query(Accommodation).all()}
    assert set(granted) == {agents[0].id, agents[1].id} and granted[agents[0].id].time_multiplier == 1.5


def test_trainers_cannot_grant_accommodations_and_agents_see_nothing(client, auth, trainer, agent):
    auth.login_as(trainer)
    assert client.get("/manage/accommodations").status_code == 403
    client.post("/logout")
    auth.login_as(agent)
    for url in ("/manage/quizzes", "/manage/grading", "/manage/quizzes/evaluacion-a"):
        assert client.get(url).status_code == 403


def test_trainer_exports_and_imports_from_the_pages(client, auth, trainer, content):
    import io

    auth.login_as(trainer)
    response = client.get("/manage/banks/export?bank=tiempos&format=gift")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert "::chat-30::" in response.get_data(as_text=True)
    assert client.get("/manage/banks/export?bank=nada&format=gift").status_code == 404
    aiken_text = client.get("/manage/banks/export?bank=tiempos&format=aiken").get_data(as_text=True)
    assert "ANSWER: A" in aiken_text
# importing is done in the authoring pages: the file becomes a draft bank (tests/authoring/test_imports.py)
    page = client.get("/manage/banks").get_data(as_text=True)
    assert "/authoring/import" in page and "quizzes/banks/" not in page
