"""The practice workspace: drafts per conversation, the ticket and its check, knowledge-base lookups, social mode,
the JSON endpoints the page uses, and the scenario's ``ticket:`` block."""
from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone

import pytest

from lms.content import check
from lms.core.errors import Conflict, InvalidInput, NotFound
from lms.core.markdown import render_markdown
from lms.reference import services as reference
from lms.roleplays import services, workspace
from tests.conftest import TEST_CONTENT

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)
SPEC = {"priority": "Media", "resolved": False, "reason": "Funcionalidad secundaria.", "sources": []}
GOOD = {"cliente": "Ana · cuenta K-1", "asunto": "Pedido retrasado", "prioridad": "Media", "estado": "En Progreso", "agente": "Luis",
        "descripcion": "El pedido 88412 lleva ocho días en preparación; se pidió a Logística la fecha de salida y se llamará a Ana mañana."}


def _surge(session, scenario):
    """The test scenario played as a surge of two chats (Ana and Bea)."""
    data = dict(scenario.data)
    data["customers"] = [data["customers"][0], {**data["customers"][0], "id": "bea", "name": "Bea", "messages": ["Hola", "¿Y?"]}]
    scenario.data, scenario.mode = data, "surge"
    session.flush()
    return scenario


def _practice(session, user, *, surge=False, mode=None, ticket=None):
    scenario = services.get_scenario(session, "chat-retraso")
    if surge:
        _surge(session, scenario)
    if mode:
        scenario.mode = mode
    if ticket is not None:
        scenario.data = {**scenario.data, "ticket": ticket}
    session.flush()
    return services.start_practice(session, user, scenario, now=T0)


def test_a_draft_per_conversation_survives_a_reply_sent_in_another(session, agent, content):
    submission = _practice(session, agent, surge=True)
    workspace.save_draft(session, submission, agent, thread="ana", fields={"text": "Hola Ana, reviso tu pedido"}, now=T0)
    workspace.save_draft(session, submission, agent, thread="bea", fields={"text": "Hola Bea"}, now=T0)
    services.reply(session, submission, agent, thread="bea", text="Hola Bea, ¿en qué te ayudo?", now=T0 + timedelta(seconds=5))
    workspace.clear_draft(session, submission, "bea")
    drafts = workspace.drafts_of(session, submission)
    assert drafts["ana"]["text"] == "Hola Ana, reviso tu pedido"
    assert "bea" not in drafts
    workspace.save_draft(session, submission, agent, thread="ana", fields={"text": "Hola Ana, ya lo tengo"}, now=T0 + timedelta(seconds=9))
    assert workspace.drafts_of(session, submission)["ana"]["text"] == "Hola Ana, ya lo tengo"  # one row per conversation, updated


def test_drafts_refuse_unknown_conversations_long_text_other_agents_and_sent_practices(session, agent, content, make_user, team):
    submission = _practice(session, agent)
    with pytest.raises(InvalidInput):
        workspace.save_draft(session, submission, agent, thread="nadie", fields={"text": "x"}, now=T0)
    with pytest.raises(InvalidInput):
        workspace.save_draft(session, submission, agent, thread="ana", fields={"text": "x" * 5001}, now=T0)
    with pytest.raises(NotFound):
        workspace.save_draft(session, submission, make_user("agent", teams=[team]), thread="ana", fields={"text": "x"}, now=T0)
    handoff = workspace.save_draft(session, submission, agent, thread=workspace.HANDOFF,
                                   fields={"level": "2", "context": "Pedido 88412", "unknown": "dropped"}, now=T0)
    assert handoff.fields["context"] == "Pedido 88412" and "unknown" not in handoff.fields
    services.reply(session, submission, agent, thread="ana", text="Hola, Ana.", now=T0)
    services.reply(session, submission, agent, thread="ana", text="Mañana.", now=T0)
    services.submit(session, submission, agent, escalation=None, now=T0)
    with pytest.raises(Conflict):
        workspace.save_draft(session, submission, agent, thread="ana", fields={"text": "tarde"}, now=T0)


def test_a_ticket_is_created_updated_and_checked_against_the_scenario(session, agent, content):
    submission = _practice(session, agent, ticket=SPEC)
    assert [f.code for f in workspace.check_ticket(SPEC, None)] == ["sin_ticket"]
    ticket = workspace.save_ticket(session, submission, agent, thread="ana", fields=GOOD | {"estado": "Abierto"}, now=T0)
    ticket = workspace.save_ticket(session, submission, agent, thread="ana", fields=GOOD, now=T0 + timedelta(minutes=1))
    assert [h["estado"] for h in ticket.history] == ["Abierto", "En Progreso"]
    assert workspace.check_ticket(SPEC, ticket) == []
    assert list(workspace.tickets_of(session, submission)) == ["ana"]

    wrong = workspace.save_ticket(session, submission, agent, thread="ana", fields=GOOD | {"prioridad": "Crítica", "estado": "Resuelto",
                                                                                           "descripcion": "Pedido tarde."}, now=T0)
    assert {f.code for f in workspace.check_ticket(SPEC, wrong)} == {"prioridad_distinta", "resuelto_sin_resolver", "descripcion_insuficiente"}
    assert workspace.check_ticket(None, wrong) == []  # no ticket block: nothing to check
    review = workspace.ticket_review(session, submission)
    assert review[0]["ticket"] is wrong and len(review[0]["flags"]) == 3


@pytest.mark.parametrize("field, value", [("prioridad", "Urgente"), ("estado", "Pendiente"), ("asunto", "  ")])
def test_a_ticket_with_a_field_outside_the_handbook_is_refused(session, agent, content, field, value):
    submission = _practice(session, agent)
    with pytest.raises(InvalidInput):
        workspace.save_ticket(session, submission, agent, thread="ana", fields=GOOD | {field: value}, now=T0)
    assert workspace.tickets_of(session, submission) == {}


def test_lookups_are_recorded_with_the_practice_in_order(session, agent, content):
    submission = _practice(session, agent)
    workspace.record_lookup(session, submission, agent, kind="search", query="reembolso", now=T0)
    workspace.record_lookup(session, submission, agent, kind="read", query="manual/estandares#respuesta-inicial", title="Estándares",
                            now=T0 + timedelta(seconds=3))
    assert workspace.record_lookup(session, submission, agent, kind="search", query="   ", now=T0) is None
    assert [(l.kind, l.query) for l in workspace.lookups_of(session, submission)] == [
        ("search", "reembolso"), ("read", "manual/estandares#respuesta-inicial")]
    with pytest.raises(InvalidInput):
        workspace.record_lookup(session, submission, agent, kind="delete", query="x", now=T0)


def test_social_mode_public_details_are_flagged_until_the_move_to_private(session, agent, content):
    assert workspace.public_details("Escríbenos a ana@correo.es o al 600 123 456, pedido #88412") == [
        "ana@correo.es", "600 123 456", "pedido #88412"]
    assert workspace.public_details("Lo siento mucho, Ana. Te escribimos por privado.") == []
    submission = _practice(session, agent, mode="social")
    services.reply(session, submission, agent, thread="ana", text="Tu pedido #88412 sale mañana.", now=T0)
    workspace.move_to_private(session, submission, agent, now=T0)
    workspace.move_to_private(session, submission, agent, now=T0)  # once
    services.reply(session, submission, agent, thread="ana", text="Tu cuenta K-77310 está al día.", now=T0)
    review = workspace.review(session, submission)
    assert review["moved_private"] and review["private_from"] == 3
    assert [f.code for f in review["social"]] == ["datos_en_publico"]  # the public reply only


def test_moving_to_private_is_for_social_mode_only(session, agent, content):
    submission = _practice(session, agent)
    with pytest.raises(InvalidInput):
        workspace.move_to_private(session, submission, agent, now=T0)


def test_the_page_sends_with_fetch_keeps_drafts_and_saves_the_ticket(client, auth, agent, content, session, make_user, team):
    submission = _practice(session, agent, surge=True)
    session.commit()
    auth.login_as(agent)
    base = f"/practice/{submission.id}"
    assert client.post(f"{base}/draft", json={"thread": "ana", "fields": {"text": "Hola Ana"}}).get_json()["ok"]
    assert client.post(f"{base}/draft", json={"thread": "zzz", "fields": {"text": "x"}}).status_code == 400
    sent = client.post(f"{base}/send", json={"thread": "bea", "text": "Hola Bea, soy Luis."}).get_json()
    bea = next(c for c in sent["conversations"] if c["id"] == "bea")
    assert [m["speaker"] for m in bea["messages"]] == ["customer", "agent", "customer"]
    assert sent["ended"] is False and sent["ending"] is None and sent["precheck_url"].endswith("/result")
    state = client.get(f"{base}/state").get_json()
    assert next(c for c in state["conversations"] if c["id"] == "ana")["draft"] == "Hola Ana"
    page = client.get(base).get_data(as_text=True)
    assert "Hola Ana</textarea>" in page  # the draft is back after a reload
    empty = client.post(f"{base}/send", json={"thread": "ana", "text": "  "})
    assert empty.status_code == 400 and "Escribe tu respuesta" in empty.get_json()["message"]

    response = client.post(f"{base}/ticket", data={"thread": "ana", **GOOD})  # the page without script
    assert response.status_code == 302
    bad = client.post(f"{base}/ticket", json={"thread": "ana", **GOOD, "prioridad": "Urgente"})
    assert bad.status_code == 400 and "prioridad" in bad.get_json()["message"]
    assert client.post(f"{base}/ticket", json={"thread": "ana", **GOOD, "estado": "Resuelto"}).get_json()["ticket"]["estado"] == "Resuelto"
    found = client.post(f"{base}/kb", json={"q": "chat"}).get_json()["results"]
    assert found and all(r["key"].startswith("manual/") for r in found)
    read = client.post(f"{base}/kb/read", json={"key": found[0]["key"]}).get_json()
    assert read["ok"] and read["html"]
    slug, _, anchor = found[0]["key"].partition("#")
    page = reference.get_page(session, slug)
    text = next(s.text for s in page.sections if s.anchor == anchor) if anchor else page.body
    assert read["html"] == str(render_markdown(text))  # the HTML stored with the section (or page)
    assert client.post(f"{base}/kb/read", json={"key": "manual/nada#x"}).status_code == 404
    assert [l.kind for l in workspace.lookups_of(session, submission)] == ["search", "read"]
    client.post("/logout")
    other = make_user("agent", teams=[team])
    session.commit()
    auth.login_as(other)
    assert client.get(f"{base}/state").status_code == 404
    assert client.post(f"{base}/draft", json={"thread": "ana", "fields": {"text": "x"}}).status_code == 404


def test_a_scenario_ticket_block_is_validated(tmp_path):
    root = tmp_path / "content"
    shutil.copytree(TEST_CONTENT, root)
    path = root / "roleplays" / "chat-retraso.md"
    text = path.read_text(encoding="utf-8")
    block = ('ticket:\n  priority: Urgente\n  resolved: false\n  reason: Prueba.\n  sources:\n'
             '    - ref: manual/estandares#respuesta-inicial\n      quote: "Chat: Menos de 30 segundos"\n')
    path.write_text(text.replace("rubric: comunicacion\n", block + "rubric: comunicacion\n", 1), encoding="utf-8")
    assert any("ticket.priority must be one of" in str(p) for p in check(root))
    path.write_text(text.replace("rubric: comunicacion\n", block.replace("Urgente", "Media") + "rubric: comunicacion\n", 1), encoding="utf-8")
    assert [str(p) for p in check(root)] == []


def test_a_ticket_queue_checks_each_ticket_against_its_own_rule_and_route():
    block = {"reason": "Por impacto.", "sources": [], "priority": None, "resolved": False,
             "customers": {"caida": {"priority": "Crítica", "route": "Especialista"}, "nif": {"priority": "Baja", "resolved": True}}}
    caida, nif = workspace.spec_for(block, "caida"), workspace.spec_for(block, "nif")
    assert caida["priority"] == "Crítica" and not caida["resolved"] and "customers" not in caida
    routed = GOOD | {"prioridad": "Crítica", "agente": "Especialista técnico (nivel 2)"}
    assert workspace.check_ticket(caida, routed) == []
    assert [f.code for f in workspace.check_ticket(caida, routed | {"agente": "Laura"})] == ["ruta_distinta"]
    assert [f.code for f in workspace.check_ticket(nif, GOOD | {"prioridad": "Baja", "estado": "Abierto"})] == ["estado_sin_actualizar"]
    assert workspace.check_ticket(nif, GOOD | {"prioridad": "Baja", "estado": "Resuelto"}) == []


def test_the_result_and_grading_pages_show_the_ticket_check_and_the_lookups(client, auth, agent, trainer, content, session):
    submission = _practice(session, agent, ticket=SPEC)
    workspace.save_ticket(session, submission, agent, thread="ana", fields=GOOD | {"prioridad": "Alta"}, now=T0)
    workspace.record_lookup(session, submission, agent, kind="search", query="reembolso", now=T0)
    services.reply(session, submission, agent, thread="ana", text="Hola, Ana.", now=T0)
    services.reply(session, submission, agent, thread="ana", text="Mañana.", now=T0)
    services.submit(session, submission, agent, escalation=None, now=T0)
    session.commit()
    auth.login_as(agent)
    page = client.get(f"/practice/{submission.id}/result").get_data(as_text=True)
    assert "la que corresponde es Media" in page and "Buscó «reembolso»" in page and "Intentarlo otra vez" in page
    client.post("/logout")
    auth.login_as(trainer)
    page = client.get(f"/manage/roleplays/{submission.id}").get_data(as_text=True)
    assert "la que corresponde es Media" in page and "Buscó «reembolso»" in page
