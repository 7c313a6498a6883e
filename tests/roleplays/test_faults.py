"""Role-plays under faults: a repeated hand-in with its key, and a grading draft across a restart."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from lms.accounts import services as accounts
from lms.content import sync
from lms.core.db import Database, get_db
from lms.roleplays import services
from tests.conftest import TEST_CONTENT, make_test_app

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)
REPLIES = ("Hola, Ana. Soy Luis. Entiendo tu frustración: reviso tu pedido ahora.",
           "He revisado el pedido: lo paso a Logística y mañana te escribo. Gracias, Ana.")


def _practised(session, agent):
    submission = services.start_practice(session, agent, services.get_scenario(session, "chat-retraso"), now=T0)
    for n, text in enumerate(REPLIES):
        services.reply(session, submission, agent, thread="ana", text=text, now=T0 + timedelta(seconds=20 * (n + 1)))
    return submission


def test_a_repeated_hand_in_with_its_key_gets_the_first_answer(client, auth, agent, content, session):
    submission = _practised(session, agent)
    session.commit()
    auth.login_as(agent)
    page = client.get(f"/practice/{submission.id}").get_data(as_text=True)
    assert 'name="idempotency_key"' in page  # the form carries a key generated with the page
    form = {"esc-level": "", "idempotency_key": "clave-roleplay-01"}
    first = client.post(f"/practice/{submission.id}/submit", data=form)
    assert first.headers["Location"].endswith(f"/practice/{submission.id}/result")
    again = client.post(f"/practice/{submission.id}/submit", data=form)
    assert again.status_code == first.status_code and again.headers["Location"] == first.headers["Location"]
    assert "ya se envió" not in client.get(again.headers["Location"]).get_data(as_text=True)
    # without the key the repeat is refused as before (flash and back to the practice)
    plain = client.post(f"/practice/{submission.id}/submit", data={"esc-level": ""})
    assert plain.headers["Location"].endswith(f"/practice/{submission.id}")


def test_a_grading_draft_survives_a_restart_and_the_grade_of_record_stays(databases, tmp_path):
    url = databases.create("draftrestart")
    db = Database(url)
    with make_test_app(url, tmp_path).app_context(), db.sessionmaker() as session:
        sync(session, TEST_CONTENT)
        agent = accounts.create_user(session, email="agente@example.com", name="Agente", role="agent")
        trainer = accounts.create_user(session, email="formador@example.com", name="Formador", role="trainer")
        submission = _practised(session, agent)
        services.submit(session, submission, agent, escalation=None, now=T0)
        levels = {c["id"]: "3" for c in services.rubric_of(session, submission)["criteria"]}
        services.save_grade(session, submission, actor=trainer, levels=levels, comments={}, overall="Borrador a medias",
                            inline=[], action="draft", expected_revision=0, now=T0)
        session.commit()  # ... and then the server restarts
        submission_id = submission.id
    db.engine.dispose()

    fresh = make_test_app(url, tmp_path)  # a new process on the same database
    with fresh.app_context(), get_db(fresh).sessionmaker() as session:
        submission = services.get_submission(session, submission_id)
        grade = services.grade_for(session, submission)
        assert grade.state == "draft" and grade.overall_comment == "Borrador a medias"  # still a draft, server-side
        assert grade.levels == {c: 3 for c in grade.levels} and grade.revision == 1  # the trainer carries on from here
        # the grade of record is unchanged: nothing released, the agent sees nothing, no score counts
        assert submission.grade_state == "draft" and submission.score is None and submission.passed is None
        assert services.visible_grade(session, submission) is None
        assert [e.kind for e in services.grade_history(session, grade)] == ["draft"]
    get_db(fresh).engine.dispose()
