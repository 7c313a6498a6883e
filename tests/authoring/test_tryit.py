"""«Probar el role-play»: the draft scenario's customer model played on the server, turn for turn as ``roleplays
simulate`` plays it; a draft with problems answers with them; only trainers and admins may try."""
import pytest
from sqlalchemy import select

from lms.authoring import tryit
from lms.authoring.models import Draft
from lms.content import sync as content_sync
from lms.roleplays.engine import simulation
from tests.conftest import PROJECT

SLUG = "queja-facturacion-cobro-duplicado"
OPENING = "Me habéis cobrado DOS veces la cuota de diciembre."
REPLIES = [
    {"text": "Hola, Gabriela. Soy Álvaro, de Kontia. Entiendo tu frustración.", "seconds": 12},
    {"text": "El segundo cargo fue un reintento automático del sistema de cobros. Pido ahora a Finanzas el reembolso a tu "
             "tarjeta terminada en 4417; lo emiten en 5 días hábiles, como tarde el jueves 11 de diciembre.", "seconds": 20},
]


@pytest.fixture
def project(session):
    problems, _report = content_sync(session, PROJECT)
    assert not problems, [str(p) for p in problems[:5]]
    session.commit()


def _draft(client, session, slug=SLUG):
    assert client.post(f"/authoring/edit/scenario/{slug}").status_code == 302
    return session.scalar(select(Draft).where(Draft.kind == "scenario", Draft.slug == slug))


def test_the_draft_plays_turn_for_turn_as_simulate_on_its_own_compiled_data(project, client, auth, session, trainer):
    auth.login_as(trainer)
    draft = _draft(client, session)
    edit, url = f"/authoring/drafts/{draft.id}/edit", f"/authoring/drafts/{draft.id}/try"
    changed = draft.text.replace(OPENING, "Me habéis cobrado DOS veces la cuota de diciembre, y ya es el colmo.")
    assert changed != draft.text
    client.post(edit, data={"text": changed, "action": "save"})
    session.expire_all()

    start = client.post(url, json={"replies": []}).get_json()
    assert start["ok"] and start["simulation"]["turns"] == []
    assert start["customers"][0]["opening"].endswith("y ya es el colmo. 59,80 € en vez de 29,90. ¿En serio? "
                                                    "Es el segundo mes seguido que tengo problemas con vosotros.")  # the draft's, not the published
    answer = client.post(url, json={"replies": REPLIES}).get_json()
    compiled, problems = tryit.compile_draft(session, session.get(Draft, draft.id))
    assert problems == [] and compiled[0]["customers"][0]["opening"] == start["customers"][0]["opening"]
    assert answer["simulation"] == simulation.run(compiled, REPLIES)
    turns = answer["simulation"]["turns"]
    assert "reconocer-emocion" in turns[0]["moves"] and turns[1]["needs_met"] == ["reembolso", "plazo", "causa"]
    assert turns[1]["customer"] and set(answer["simulation"]["precheck"]) >= {"score", "band", "criteria"}
    assert answer["customers"][0]["needs"]["reembolso"] and answer["mood_labels"]["2"] == "molesto"


def test_a_surge_draft_takes_replies_per_customer_and_refuses_unplayable_ones(project, client, auth, session, admin):
    auth.login_as(admin)
    draft = _draft(client, session, "black-friday-pedido-retrasado")
    url = f"/authoring/drafts/{draft.id}/try"
    start = client.post(url, json={"replies": []}).get_json()
    ids = [c["id"] for c in start["customers"]]
    assert len(ids) >= 2
    replies = [{"customer": ids[1], "text": "Hola, soy Álvaro, de Kontia. Ahora mismo lo miro.", "seconds": 5}]
    answer = client.post(url, json={"replies": replies}).get_json()
    assert answer["simulation"]["turns"][0]["customer_id"] == ids[1] and set(answer["simulation"]["ending"]) == set(ids)
    missing = client.post(url, json={"replies": [{"text": "Hola"}]}).get_json()
    assert not missing["ok"] and "several customers" in missing["error"]
    bad = client.post(url, json={"replies": "hola"})
    assert bad.status_code == 400 and bad.get_json()["error"] == "Petición no válida: falta la lista de respuestas."
    assert client.post(url, data="no es json", content_type="text/plain").status_code == 400


def test_a_draft_with_problems_answers_with_them_and_no_simulation(project, client, auth, session, trainer):
    auth.login_as(trainer)
    draft = _draft(client, session)
    bad = draft.text.replace("mode: chat", "mode: email")
    client.post(f"/authoring/drafts/{draft.id}/edit", data={"text": bad, "action": "save"})
    answer = client.post(f"/authoring/drafts/{draft.id}/try", json={"replies": REPLIES}).get_json()
    assert not answer["ok"] and "simulation" not in answer
    messages = {p["field"]: p["message"] for p in answer["problems"]}
    assert "a email role-play is timed against the email standard, not chat" in messages["channel"]


def test_agents_and_managers_may_not_try_a_draft(project, client, auth, session, trainer, agent, manager):
    auth.login_as(trainer)
    draft = _draft(client, session)
    auth.logout()
    for user in (agent, manager):
        auth.login_as(user)
        assert client.post(f"/authoring/drafts/{draft.id}/try", json={"replies": REPLIES}).status_code == 403
        auth.logout()
