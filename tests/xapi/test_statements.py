"""Each learning event becomes one xAPI 1.0.3 statement, queued with the event and accepted by a strict LRS."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from lms.core.clock import now_utc

from lms.certification import services as certs
from lms.quizzes import services as quizzes
from lms.roleplays import services as roleplays
from lms.tracks import services as tracks
from lms.xapi import site_from
from lms.xapi.statements import Site, duration, statement_id
from tests.quizzes.helpers import answer_all_correctly
from tests.xapi.helpers import SITE, T0, configure, deliver, queued, statements
from tests.xapi.lrs import spec_problems

ACCOUNT = {"homePage": SITE}


def test_a_lesson_completed_over_http_reaches_the_lrs(app, client, auth, session, xapi, enrolled):
    auth.login_as(enrolled)
    assert client.post("/lessons/a-uno/complete").status_code in (200, 302)
    (message,) = queued(session)
    assert message.status == "pending" and message.dedupe_key == f"xapi:lesson-completed:{enrolled.id}:{tracks.get_lesson(session, 'a-uno').id}"
    assert deliver(app, session, now=now_utc()) == (1, 0)
    (stored,) = xapi.statements.values()
    assert xapi.rejected == [] and stored == message.payload["statement"]
    assert stored["actor"] == {"objectType": "Agent", "name": "Lucía Agente", "account": ACCOUNT | {"name": str(enrolled.id)}}
    assert stored["verb"]["id"] == "http://adlnet.gov/expapi/verbs/completed" and stored["verb"]["display"]["es"] == "completó"
    assert stored["object"] == {"objectType": "Activity", "id": f"{SITE}/lessons/a-uno",
                                "definition": {"name": {"es": tracks.get_lesson(session, "a-uno").title},
                                               "type": "http://adlnet.gov/expapi/activities/lesson"}}
    assert stored["result"] == {"completion": True}
    context = stored["context"]
    assert context["platform"] == "Academia de Atención" and context["language"] == "es"
    assert [a["id"] for a in context["contextActivities"]["parent"]] == [f"{SITE}/modules/semana-a"]
    assert context["contextActivities"]["parent"][0]["definition"]["type"] == "http://adlnet.gov/expapi/activities/module"
    assert [(a["id"], a["definition"]["type"]) for a in context["contextActivities"]["grouping"]] == [
        (f"{SITE}/tracks/corto", "http://adlnet.gov/expapi/activities/course")]
    assert stored["id"] == statement_id(site_from(app.config), f"lesson-completed:{enrolled.id}:{tracks.get_lesson(session, 'a-uno').id}")
    # completing it again (idempotent) records nothing more
    client.post("/lessons/a-uno/complete")
    assert len(queued(session)) == 1


def test_a_graded_quiz_attempt_is_passed_or_failed_with_its_score(app, session, xapi, enrolled):
    quiz = quizzes.get_quiz(session, "evaluacion-a")
    attempt = quizzes.start_attempt(session, enrolled, quiz, now=T0)
    quizzes.submit_attempt(session, attempt, enrolled, answer_all_correctly(attempt), now=T0 + timedelta(minutes=2, seconds=5))
    (st,) = statements(session)
    assert st["verb"]["id"] == "http://adlnet.gov/expapi/verbs/passed"
    assert st["object"]["id"] == f"{SITE}/quizzes/evaluacion-a"
    assert st["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/assessment"
    assert st["result"] == {"score": {"scaled": 1.0, "raw": 2.0, "min": 0.0, "max": 2.0}, "success": True, "completion": True,
                            "duration": "PT2M5S"}
    assert st["timestamp"] == "2026-01-09T09:02:05.000Z"
    assert st["context"]["extensions"] == {"http://id.tincanapi.com/extension/attempt-id": 1}
    assert st["context"]["contextActivities"]["parent"][0]["id"] == f"{SITE}/modules/semana-a"
    assert deliver(app, session) == (1, 0) and xapi.rejected == []


def test_a_changed_quiz_grade_voids_the_old_statement(app, session, xapi, enrolled, trainer):
    quiz = quizzes.get_quiz(session, "evaluacion-a")
    attempt = quizzes.start_attempt(session, enrolled, quiz, now=T0)
    quizzes.submit_attempt(session, attempt, enrolled, answer_all_correctly(attempt), now=T0 + timedelta(minutes=2))
    first = statements(session)[0]
    slot = attempt.slots[0]
    quizzes.set_slot_score(session, attempt, slot, score=0, feedback="", reason="Respuesta copiada", actor=trainer,
                           expected_revision=attempt.revision, now=T0 + timedelta(hours=1))
    after = statements(session)
    assert [s["verb"]["id"].rsplit("/", 1)[1] for s in after] == ["passed", "failed", "voided"]
    assert after[1]["result"]["score"] == {"scaled": 0.5, "raw": 1.0, "min": 0.0, "max": 2.0} and after[1]["result"]["success"] is False
    assert after[2]["object"] == {"objectType": "StatementRef", "id": first["id"]}
    assert after[1]["id"] != first["id"]
    # the same grade set again (a trainer saves the same mark) records nothing new
    quizzes.set_slot_score(session, attempt, slot, score=0, feedback="Revisado", reason="Sin cambios", actor=trainer,
                           expected_revision=attempt.revision, now=T0 + timedelta(hours=2))
    assert len(statements(session)) == 3
    # back to the first mark: a third version, voiding the second (a voided statement stays voided)
    quizzes.set_slot_score(session, attempt, slot, score=slot.points, feedback="", reason="Error mío", actor=trainer,
                           expected_revision=attempt.revision, now=T0 + timedelta(hours=3))
    final = statements(session)
    assert [s["verb"]["id"].rsplit("/", 1)[1] for s in final] == ["passed", "failed", "voided", "passed", "voided"]
    assert final[4]["object"]["id"] == final[1]["id"] and final[3]["id"] not in (first["id"], final[1]["id"])
    assert deliver(app, session) == (5, 0) and xapi.rejected == []
    assert [s["id"] for s in xapi.live()] == [final[3]["id"]]  # what the LRS reports: the current grade only


def submit_practice(session, agent, now=T0):
    practice = roleplays.start_practice(session, agent, roleplays.get_scenario(session, "chat-retraso"), now=now)
    for n, text in enumerate(("Hola, Ana. Soy Luis. Entiendo tu frustración: reviso tu pedido ahora.",
                              "He revisado el pedido: lo paso a Logística y mañana te escribo. Gracias, Ana.")):
        roleplays.reply(session, practice, agent, thread="ana", text=text, now=now + timedelta(seconds=30 * (n + 1)))
    roleplays.submit(session, practice, agent, escalation=None, now=now + timedelta(minutes=3, seconds=30))
    return practice


def test_a_roleplay_submitted_then_graded(app, session, xapi, enrolled, trainer):
    practice = submit_practice(session, enrolled)
    (submitted,) = statements(session)
    assert submitted["verb"] == {"id": "http://activitystrea.ms/schema/1.0/submit", "display": {"es": "entregó", "en-US": "submitted"}}
    assert submitted["object"]["id"] == f"{SITE}/roleplays/chat-retraso"
    assert submitted["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/simulation"
    assert submitted["result"] == {"completion": True, "duration": "PT3M30S"}
    roleplays.save_grade(session, practice, actor=trainer, levels={"tiempo": 3}, comments={}, overall="", inline=[], action="draft",
                         expected_revision=0, now=T0 + timedelta(hours=1))
    assert len(statements(session)) == 1  # a draft is nobody's news
    grade = roleplays.grade_for(session, practice)
    roleplays.save_grade(session, practice, actor=trainer, levels={"tiempo": 3}, comments={}, overall="", inline=[], action="release",
                         expected_revision=grade.revision, now=T0 + timedelta(hours=2))
    graded = statements(session)[1]
    assert graded["verb"]["id"] == "http://adlnet.gov/expapi/verbs/passed"
    assert graded["result"] == {"score": {"scaled": 0.75, "raw": 75.0, "min": 0.0, "max": 100.0}, "success": True, "completion": True}
    assert graded["context"]["instructor"] == {"objectType": "Agent", "name": "Tomás Formador", "account": ACCOUNT | {"name": str(trainer.id)}}
    assert graded["context"]["statement"] == {"objectType": "StatementRef", "id": submitted["id"]}
    assert graded["timestamp"] == "2026-01-09T11:00:00.000Z"
    assert deliver(app, session) == (2, 0) and xapi.rejected == []


def test_a_certificate_issued_is_earned(app, session, xapi, enrolled, admin):
    record = certs.issue_manually(session, certs.get_definition(session, "proceso"), enrolled, actor=admin, reason="Prueba", now=T0)
    (st,) = statements(session)
    assert st["verb"]["id"] == "http://id.tincanapi.com/verb/earned"
    assert st["object"]["id"] == f"{SITE}/certifications/proceso"
    assert st["object"]["definition"] == {"name": {"es": "Certificación de proceso"}, "type": "http://id.tincanapi.com/activitytype/certificate"}
    assert st["result"]["success"] is True and st["result"]["extensions"] == {
        f"{SITE}/xapi/extensions/expires-at": "2027-01-09T09:00:00.000Z", f"{SITE}/xapi/extensions/verification-url": f"{SITE}/verify/{record.code}"}
    assert [a["id"] for a in st["context"]["contextActivities"]["parent"]] == [f"{SITE}/tracks/largo"]
    assert st["context"]["extensions"] == {f"{SITE}/xapi/extensions/renewal": False}
    assert deliver(app, session) == (1, 0) and xapi.rejected == []


def test_the_actor_may_be_the_mailbox(app, monkeypatch, session, lrs, enrolled):
    configure(app, monkeypatch, lrs.endpoint, XAPI_ACTOR="mbox")
    tracks.complete_lesson(session, enrolled, tracks.get_lesson(session, "a-uno"), now=T0)
    (st,) = statements(session)
    assert st["actor"] == {"objectType": "Agent", "name": "Lucía Agente", "mbox": f"mailto:{enrolled.email}"}
    assert deliver(app, session) == (1, 0) and lrs.rejected == []


def test_ids_are_uuid5_of_the_site_and_the_event():
    site, other = Site("https://a.example"), Site("https://b.example")
    assert statement_id(site, "lesson-completed:1:2") == statement_id(site, "lesson-completed:1:2")
    assert uuid.UUID(statement_id(site, "lesson-completed:1:2")).version == 5
    assert statement_id(site, "lesson-completed:1:2") != statement_id(site, "lesson-completed:1:3")
    assert statement_id(site, "lesson-completed:1:2") != statement_id(other, "lesson-completed:1:2")  # two sites, one LRS


@pytest.mark.parametrize("seconds, expected", [(0, "PT0S"), (5.5, "PT5.5S"), (125, "PT2M5S"), (3600, "PT1H"), (3723.25, "PT1H2M3.25S"),
                                               (-1, None)])
def test_durations_are_iso_8601(seconds, expected):
    assert duration(timedelta(seconds=seconds)) == expected


def test_the_lrs_stand_in_refuses_what_the_spec_forbids():
    good = {"id": str(uuid.uuid4()), "actor": {"objectType": "Agent", "account": {"homePage": SITE, "name": "1"}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"es": "completó"}},
            "object": {"objectType": "Activity", "id": f"{SITE}/lessons/x"}, "timestamp": "2026-01-09T09:00:00.000Z"}
    assert spec_problems(good) == []
    assert spec_problems(good | {"result": {"score": {"scaled": 1.5}}})
    assert spec_problems(good | {"result": {"duration": "2 minutes"}})
    assert spec_problems(good | {"actor": {"objectType": "Agent", "name": "Sin identificador"}})
    assert spec_problems(good | {"timestamp": "2026-01-09T09:00:00"})
    assert spec_problems(good | {"context": {"platform": ""}})  # no empty values
