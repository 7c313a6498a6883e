"""The workspace while the agent types: the engine's nudges and walk-outs are computed read-only for the page's poll
(a GET writes nothing), shown as pending customer messages, and stored unchanged by the next reply or the hand-in."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from lms.content import sync
from lms.core.clock import now_utc
from lms.roleplays import services, workspace_views
from lms.roleplays.engine import practice as engine_practice
from lms.roleplays.models import RoleplaySubmission, RoleplayTurn
from tests.conftest import PROJECT

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)
SURGE = "black-friday-pedido-retrasado"


@pytest.fixture
def project(session):
    problems, _report = sync(session, PROJECT)
    assert not problems, [str(p) for p in problems]
    session.flush()


def rows(session, submission) -> int:
    return session.scalar(select(func.count()).select_from(RoleplayTurn).where(RoleplayTurn.submission_id == submission.id))


def customer(submission, cid):
    return next(c for c in submission.scenario.data["customers"] if c["id"] == cid)


def test_due_nudges_and_walk_outs_are_computed_without_writing(session, project, agent):
    submission = services.start_practice(session, agent, services.get_scenario(session, SURGE), now=T0)
    session.flush()
    standard = float(submission.scenario.data["response_standard"]["seconds"])
    marta = customer(submission, "marta")
    nudges = marta["model"]["reactions"]["espera"]["phrasings"]
    leave = engine_practice.leave_after(submission, marta)
    before, conversation = rows(session, submission), dict(submission.conversation or {})

    assert services.pending(submission, now=T0 + timedelta(seconds=standard)) == {}  # at the standard: not yet

    due = services.pending(submission, now=T0 + timedelta(seconds=standard + 1))
    assert set(due) == {c["id"] for c in submission.scenario.data["customers"]}  # surge: every customer waits apart
    assert len(due["marta"].nudges) == 1 and due["marta"].walk_out is None
    text, at = due["marta"].nudges[0]
    assert text in nudges and at == T0 + timedelta(seconds=standard)

    gone = services.pending(submission, now=T0 + timedelta(seconds=leave + 1))["marta"]
    assert len(gone.nudges) == marta["model"]["patience"] and gone.walk_out is not None
    assert gone.walk_out[1] == T0 + timedelta(seconds=leave)
    assert gone.ending_text == marta["model"]["endings"]["timed_out"]["text"]

    # nothing written: no turn, no ending recorded, nothing pending in the session
    assert rows(session, submission) == before
    assert (submission.conversation or {}) == conversation
    assert not session.new and not session.dirty

    # the hand-in stores exactly what the page showed: the nudges, then the customer's last words
    shown = [t for t, _at in gone.nudges] + [gone.walk_out[0]]
    services.advance(session, submission, now=T0 + timedelta(seconds=leave + 1))
    stored = [t.text for t in submission.turns if t.thread == "marta" and t.speaker == "customer"][1:]
    assert stored == shown
    view = next(v for v in services.threads(submission) if v.customer["id"] == "marta")
    assert view.ending == "timed_out" and view.ending_text == gone.ending_text
    assert "marta" not in services.pending(submission, now=T0 + timedelta(seconds=leave + 1))


def test_a_reply_after_a_nudge_stores_the_nudge_the_page_showed(session, project, agent):
    submission = services.start_practice(session, agent, services.get_scenario(session, SURGE), now=T0)
    standard = float(submission.scenario.data["response_standard"]["seconds"])
    later = T0 + timedelta(seconds=standard * 1.5)
    shown = [text for text, _at in services.pending(submission, now=later)["diego"].nudges]
    services.reply(session, submission, agent, thread="diego", text="Hola, Diego, soy Luis. ¿Me das tu número de pedido?", now=later)
    diego = [t for t in submission.turns if t.thread == "diego"]
    assert [t.text for t in diego[1:1 + len(shown)]] == shown and diego[len(shown) + 1].speaker == "agent"


def test_the_state_json_flags_pending_messages_and_endings_and_the_get_writes_nothing(client, auth, agent, session, project):
    # a practice started long enough ago (the real clock: this is a real GET) that every customer has left
    started = now_utc() - timedelta(hours=1)
    submission = services.start_practice(session, agent, services.get_scenario(session, SURGE), now=started)
    session.commit()
    auth.login_as(agent)
    before = rows(session, submission)
    state = client.get(f"/practice/{submission.id}/state").get_json()
    session.expire_all()
    assert rows(session, submission) == before
    assert session.get(RoleplaySubmission, submission.id).conversation in (None, {})
    assert state["all_finished"] is True
    for conv in state["conversations"]:
        assert conv["finished"] and conv["awaiting_since"] is None and conv["ending"] == "timed_out" and conv["ending_text"]
        assert conv["pending"] and all(m["pending"] and m["speaker"] == "customer" for m in conv["pending"])
        assert conv["pending"][-1]["key"].endswith(":out") and len({m["key"] for m in conv["pending"]}) == len(conv["pending"])
    # the page says so too
    page = client.get(f"/practice/{submission.id}").get_data(as_text=True)
    assert 'id="ws-all-done" role="status" hidden' in page  # not stored yet: the script shows it from the state


def test_the_page_shows_each_ending_line_and_that_every_conversation_ended(session, project, agent, app):
    submission = services.start_practice(session, agent, services.get_scenario(session, SURGE), now=T0)
    services.advance(session, submission, now=T0 + timedelta(hours=1))
    with app.test_request_context():
        state = workspace_views.state(session, submission, T0 + timedelta(hours=1))
    assert state["all_finished"] and all(c["ending_text"] and not c["pending"] for c in state["conversations"])
