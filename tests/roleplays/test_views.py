from datetime import datetime, timezone


from lms.content import sync
from lms.roleplays import services
from lms.roleplays.models import Scenario
from tests.conftest import PROJECT

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)


def test_agent_practises_in_chat_and_trainer_grades_through_the_pages(client, auth, agent, trainer, content, session, make_user, make_team):
    auth.login_as(agent)
    page = client.get("/roleplays/chat-retraso").get_data(as_text=True)
    assert "Ana escribe por chat." in page and "Chat: Menos de 30 segundos" in page
    response = client.post("/roleplays/chat-retraso/start")
    practice_url = response.headers["Location"]
    submission_id = int(practice_url.rsplit("/", 1)[1])
    page = client.get(practice_url).get_data(as_text=True)
    assert "¿Dónde está mi pedido?" in page and "Ficha del cliente" in page
    client.post(f"/practice/{submission_id}/reply", data={"thread": "ana", "text": "Hola, Ana. Soy Luis. Reviso tu pedido."})
    client.post(f"/practice/{submission_id}/reply", data={"thread": "ana", "text": "<script>alert(1)</script> Lo paso a Logística."})
    response = client.post(f"/practice/{submission_id}/submit", data={"esc-level": "2", "esc-destination": "Logística",
                                                                        "esc-context": "Pedido", "esc-priority": "Alta",
                                                                        "esc-expectations": "Mañana", "esc-timeline": "24 h"})
    assert response.headers["Location"].endswith(f"/practice/{submission_id}/result")
    page = client.get(f"/practice/{submission_id}/result").get_data(as_text=True)
    assert "Revisión automática (orientativa)" in page and "todavía no ha publicado" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    client.post("/logout")

    outsider = make_user("trainer", teams=[make_team("Otro")])
    auth.login_as(outsider)
    assert client.get(f"/manage/roleplays/{submission_id}").status_code == 404
    client.post("/logout")

    auth.login_as(trainer)
    queue = client.get("/manage/roleplays/").get_data(as_text=True)
    assert "Un pedido retrasado" in queue and "Calificar" in queue
    page = client.get(f"/manage/roleplays/{submission_id}").get_data(as_text=True)
    assert "Respuesta modelo" in page and "Hola, Ana, soy Luis." in page  # the exemplar, one click away
    client.post(f"/manage/roleplays/{submission_id}", data={"revision": "0", "level-tiempo": "3", "comment-tiempo": "Rápido",
                                                             "overall": "Buen trabajo", "inline-1": "Buen saludo", "action": "draft"})
    client.post("/logout")
    auth.login_as(agent)
    assert "Buen trabajo" not in client.get(f"/practice/{submission_id}/result").get_data(as_text=True)  # drafts are not shown
    client.post("/logout")
    auth.login_as(trainer)
    grade = services.grade_for(session, services.get_submission(session, submission_id))
    session.refresh(grade)
    client.post(f"/manage/roleplays/{submission_id}", data={"revision": str(grade.revision), "level-tiempo": "4", "overall": "Buen trabajo",
                                                             "action": "release"})
    client.post("/logout")
    auth.login_as(agent)
    page = client.get(f"/practice/{submission_id}/result").get_data(as_text=True)
    assert "Buen trabajo" in page and "Calificación: 100%" in page


def test_other_agents_cannot_see_a_practice(client, auth, agent, content, make_user, team, session):
    submission = services.start_practice(session, agent, services.get_scenario(session, "chat-retraso"), now=T0)
    session.commit()
    auth.login_as(make_user("agent", teams=[team]))
    for url in (f"/practice/{submission.id}", f"/practice/{submission.id}/result"):
        assert client.get(url).status_code == 404
    assert client.post(f"/practice/{submission.id}/reply", data={"thread": "ana", "text": "x"}).status_code == 404


def test_every_scenario_can_be_practised_in_its_mode_and_graded_with_its_rubric(session, make_user, team):
    problems, _ = sync(session, PROJECT)
    assert not problems
    agent, trainer = make_user("agent", teams=[team]), make_user("trainer", teams=[team])
    scenarios = session.query(Scenario).all()
    assert len(scenarios) >= 10 and {s.mode for s in scenarios} == {"chat", "email", "phone", "social", "surge", "ticket"}
    for scenario in scenarios:
        submission = services.start_practice(session, agent, scenario, now=T0)
        if scenario.mode == "email":
            services.save_email(session, submission, agent, {"subject": "Re: su consulta", "greeting": "Estimada clienta:",
                                                             "body": "He revisado su caso.", "steps": "1. Revise el ajuste.",
                                                             "closing": "Gracias.", "signature": "Luis"}, now=T0)
        else:
            while True:
                waiting = [v for v in services.threads(submission) if v.awaiting is not None]
                if not waiting:
                    break
                for view in waiting:
                    services.reply(session, submission, agent, thread=view.customer["id"], text="Respuesta de prueba.", now=T0)
        escalation = scenario.data.get("escalation") or {}
        services.submit(session, submission, agent, escalation={"level": escalation.get("level"), "destination": escalation.get("destination")}
                        if escalation.get("required") else None, now=T0)
        version = session.get(services.RubricVersion, submission.rubric_version_id)
        grade = services.save_grade(session, submission, actor=trainer, levels={c["id"]: 3 for c in version.data["criteria"]},
                                    comments={}, overall="", inline=[], action="release", expected_revision=0, now=T0)
        assert grade.score == 75.0, scenario.slug
        # the pre-check suggests a level for each criterion of the scenario's own rubric, never the grade
        assert set(submission.precheck["criteria"]) == {c["id"] for c in version.data["criteria"]}, scenario.slug
        assert submission.precheck["band"] in ("regular", "deficiente"), scenario.slug  # «Respuesta de prueba» solves nothing
        if scenario.mode != "email":
            assert all(v.finished and v.ending for v in services.threads(submission)), scenario.slug
