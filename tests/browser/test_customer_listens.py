"""The customer listens, in a real browser (issue 18): ignored, the customer asks again, annoyed; asked for a datum, they
give it; told the cause, they do not ask for it again; the same reply twice is noticed; a correct escalation with a
complete hand-off ends the conversation as escalated; and scenarios reach their endings through the practice page,
driven by the same reply lists the ``roleplays simulate`` tests use (``conversation.ending_paths``).

The CI run walks a representative subset (every scenario once, every kind of ending once); ``WALK_ALL_ENDINGS=1``
(or ``scripts/walk_endings.py``) walks every (scenario, customer, ending)."""
from __future__ import annotations

import functools
import json
import os
import re
import tempfile
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from lms.core.db import get_db
from lms.demo import DEMO_PASSWORD
from lms.roleplays.engine import conversation
from tests.browser.conftest import ARTIFACTS, SITE
from tests.browser.test_workspace import _waiting_since as waiting_since
from tests.conftest import PROJECT

pytestmark = pytest.mark.browser

SIZES = {"desk": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
#: the kinds of ending, in the order the subset covers them
KINDS = ("escalated", "resolved", "escalated_wrongly", "gives_up", "timed_out")
#: two endings of two scenarios, shot at both sizes in both languages
SHOTS = {("queja-facturacion-cobro-duplicado", "escalated"), ("queja-facturacion-cobro-duplicado", "gives_up"),
         ("crm-plan-40-horas-upgrade", "resolved"), ("crm-plan-40-horas-upgrade", "escalated_wrongly")}
#: where the sweep writes its table (scripts/walk_endings.py reads it)
RESULTS = ARTIFACTS / "walk-endings.jsonl"


# The scenarios and their reply lists -----------------------------------------------------------------------------

@functools.cache
def scenarios() -> dict:
    """{slug: (data, rubric)} from the content files, as the simulate tests read them (known at collection time)."""
    from lms.roleplays.cli import content_scenarios
    from tests.conftest import make_test_app

    app = make_test_app("sqlite://", Path(tempfile.mkdtemp(prefix="walk-endings-")))
    with app.app_context():
        return content_scenarios(PROJECT)


def ending_path(slug: str, customer_id: str, kind: str) -> list[tuple[str, float | None]]:
    """The replies the simulate test plays to reach ``kind``, up to the ending (as that test cuts them)."""
    data, _rubric = scenarios()[slug]
    customer = conversation.customer_of(data, customer_id)
    path = conversation.ending_paths(data, data["mode"], customer)[kind]
    return path[:len(conversation.replay(data, customer_id, "t", path).steps)]


def all_pairs() -> list[tuple[str, str, str]]:
    return [(slug, customer["id"], kind) for slug, (data, _r) in sorted(scenarios().items()) for customer in data["customers"]
            for kind in customer["model"]["endings"]]


def subset(pairs: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Every scenario once (its first customer), each kind of ending as evenly as the scenarios allow (an email's
    «timed out» is only a reply that meets nothing: a live customer walking out on the server's clock is the one
    walked), plus the pictured endings."""
    chosen, counts = [], dict.fromkeys(KINDS, 0)
    for slug in sorted({p[0] for p in pairs}):
        data = scenarios()[slug][0]
        own = [p for p in pairs if p[0] == slug and p[1] == data["customers"][0]["id"]
               and not (data["mode"] == "email" and p[2] == "timed_out")]
        pick = next((p for p in own if (slug, p[2]) in SHOTS), None) or min(own, key=lambda p: (counts[p[2]], KINDS.index(p[2])))
        chosen.append(pick)
        counts[pick[2]] += 1
    return chosen + [p for p in pairs if (p[0], p[2]) in SHOTS and p not in chosen]


PAIRS = all_pairs() if os.environ.get("WALK_ALL_ENDINGS") else subset(all_pairs())


def model_of(slug: str, customer_id: str | None = None) -> dict:
    return conversation.customer_of(scenarios()[slug][0], customer_id)["model"]


# Agents and the practice page --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def agents(site_url, browser):
    """Fresh agents (no practice in progress, whatever ran before), logged in once each: {key: storage state}."""
    states: dict = {}

    def agent_state(key: str) -> dict:
        if key not in states:
            from lms.accounts.models import User

            email = f"walker-{key}-{uuid.uuid4().hex[:6]}@test.lms"
            with SITE["app"].app_context():
                session = get_db(SITE["app"]).sessionmaker()
                template = session.query(User).filter_by(email="agente@demo.lms").one()
                session.add(User(email=email, name="Laura Prueba", role="agent", is_active_user=True, session_version=1,
                                 password_hash=template.password_hash))
                session.commit()
                session.close()
            context = browser.new_context(locale="es-ES")
            page = context.new_page()
            page.goto(f"{site_url}/login")
            page.locator("input[name=email]").fill(email)
            page.locator("input[name=password]").fill(DEMO_PASSWORD)
            page.locator("form button[type=submit]").click()
            page.wait_for_url(re.compile(r".*/(manage/.*)?$"))
            states[key] = context.storage_state()
            context.close()
        return states[key]

    return agent_state


def start(page, site_url, slug):
    page.goto(f"{site_url}/roleplays/{slug}")
    page.locator("form[action$='/start'] button").click()
    page.wait_for_url(re.compile(r".*/practice/\d+$"))
    expect(page.locator("#workspace.ws-js")).to_be_attached()
    assert page.locator(".msg-agent").count() == 0, "a fresh practice"
    if page.locator(".ws-take").is_visible():
        page.locator(".ws-take").click()  # phone: the call is taken first
    return int(page.url.rsplit("/", 1)[1])


def conv(page, customer_id):
    return page.locator(f'.ws-conv[data-thread="{customer_id}"]')


def customer_said(page, customer_id) -> list[str]:
    return conv(page, customer_id).locator(".msg-customer .text").all_inner_texts()


def send(page, customer_id, text):
    """Fill the reply box and Ctrl+Enter; back when the reply is stored (the customer's answer comes with it)."""
    box = conv(page, customer_id)
    if page.locator(".ws-item").count() > 1 and not page.locator(f'.ws-item[data-thread="{customer_id}"][aria-current="true"]').count():
        page.locator(f'.ws-item[data-thread="{customer_id}"]').click()
    sent = box.locator(".msg-agent").count()
    box.locator(".ws-composer textarea").fill(text)
    box.locator(".ws-composer textarea").press("Control+Enter")
    expect(box.locator(".msg-agent")).to_have_count(sent + 1)


def shot(page, name: str) -> None:
    """What the agent sees at this size (a full-page capture would grow the page and hide the log's last lines)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def hand_in(page):
    page.locator(".ws-finish").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    page.locator("#finish-confirm").click()
    page.wait_for_url(re.compile(r".*/result$"))


def walk(page, site_url, slug, customer_id, kind) -> str:
    """Drive the practice page along the ending's reply list; the ending line the page shows."""
    data, _rubric = scenarios()[slug]
    path = ending_path(slug, customer_id, kind)
    submission_id = start(page, site_url, slug)
    if data["mode"] == "email":
        (text, _seconds), = path
        page.locator("#email-body").fill(text)
        hand_in(page)
        return page.locator("section.ws-ending .conversation-ending").first.inner_text()
    for text, seconds in path:
        customer = conversation.customer_of(data, customer_id)
        if seconds is not None and seconds > float(data["response_standard"]["seconds"]) * customer["model"]["patience"]:
            # past the customer's patience: they walk out on the server's clock, and the page shows it by itself
            patience = float(data["response_standard"]["seconds"]) * (customer["model"]["patience"] + conversation.LEAVE_AFTER_EXTRA)
            waiting_since(submission_id, customer_id, patience + 1)  # the server's clock is real: the wait is moved back
            page.reload()
            break
        send(page, customer_id, text)
    ending = conv(page, customer_id).locator(".ws-ending")
    expect(ending.locator(".ws-ending-text")).not_to_be_empty()
    expect(conv(page, customer_id).locator(".ws-composer")).to_have_count(0)
    return ending.locator(".ws-ending-text").inner_text()


# 1. The customer listens -------------------------------------------------------------------------------------------

def test_ignored_asked_again_datum_given_cause_not_asked_again_and_a_repeat_noticed(browser, site_url, agents):
    slug = "queja-facturacion-cobro-duplicado"
    model = model_of(slug)
    needs = {n["id"]: n for n in model["needs"]}
    context = browser.new_context(locale="es-ES", viewport=SIZES["desk"], storage_state=agents("journey"))
    page = context.new_page()
    start(page, site_url, slug)

    send(page, "gabriela", "Hola.")  # her question (the double charge) ignored
    said = customer_said(page, "gabriela")
    assert said[-1] in needs["reembolso"]["again"], said  # asked again, annoyed: «Te lo repito…», «¿… o no?»
    shot(page, "listens-1-ignored")

    send(page, "gabriela", "¿Me confirmas la fecha y el importe de los dos cargos que ves en tu banco?")
    given = next(h for h in model["holds"] if h["id"] == "cargos")["give"]
    assert customer_said(page, "gabriela")[-1] in given  # the datum asked for is given
    assert "1 de diciembre" in customer_said(page, "gabriela")[-1]

    send(page, "gabriela", "Entiendo tu frustración, Gabriela, lo reviso ahora.")
    send(page, "gabriela", "Entiendo tu frustración, Gabriela, lo reviso ahora.")  # the same reply twice
    assert customer_said(page, "gabriela")[-1] in model["reactions"]["repetido"]["phrasings"]
    shot(page, "listens-2-repeated")

    send(page, "gabriela", "El segundo cargo fue un reintento automático de nuestro sistema de cobros que no debía producirse.")
    told = len(customer_said(page, "gabriela"))
    send(page, "gabriela", "Ese error se corrigió el 3 de diciembre, y el 2 de enero revisaré yo mismo tu cobro de enero.")
    after = customer_said(page, "gabriela")[told - 1:]  # what she said once the cause was explained
    cause = needs["causa"]["ask"] + needs["causa"]["again"]
    assert after and not any(line in cause for line in after), after
    assert "por qué" not in " ".join(after).lower()
    expect(conv(page, "gabriela").locator(".ws-composer")).to_have_count(1)  # the refund is still owed: not over
    shot(page, "listens-3-cause-told")
    context.close()


# 2. A correct escalation with a complete hand-off -----------------------------------------------------------------

def test_a_correct_escalation_with_a_complete_hand_off_ends_as_escalated(browser, site_url, agents):
    slug = "informe-retraso-entrega-logistica"
    model = model_of(slug)
    context = browser.new_context(locale="es-ES", viewport=SIZES["desk"], storage_state=agents("handoff"))
    page = context.new_page()
    start(page, site_url, slug)
    send(page, "andrea", "Lamento muchísimo que tenga que llamar otra vez, Andrea. Veo su caso INC-7782, abierto en su llamada "
                         "del miércoles 10.")
    send(page, "andrea", "Su nevera está en el almacén regional, sin ruta de reparto asignada; por eso no llegó ayer.")
    # the side panel's hand-off, then the words that hand the case over with a time
    page.get_by_role("button", name="Transferir").click()
    handoff = page.locator("#panel-handoff")
    expect(handoff).to_be_visible()
    handoff.get_by_label("Nivel").select_option("2")
    handoff.get_by_label("Equipo").fill("Logística / Operaciones")
    handoff.get_by_label("Contexto").fill("Pedido P-30418 (frigorífico), entrega comprometida 09-11/12 vencida; segunda llamada; "
                                          "caso INC-7782 abierto el 10/12 09:12 en nivel 1; en almacén regional sin ruta asignada.")
    handoff.get_by_label("Prioridad").fill("Alta: plazo vencido, segundo contacto, la clienta pidió un día libre.")
    handoff.get_by_label("Expectativas comunicadas al cliente").fill("La llamo yo hoy antes de las 17:00 con la fecha de Logística.")
    handoff.get_by_label("Cronograma").fill("Hoy antes de las 17:00.")
    send(page, "andrea", "Paso ahora su caso a Logística / Operaciones, nivel 2, con prioridad alta para que le asignen la ruta. "
                         "Me encargo yo personalmente: le llamo hoy antes de las 17:00 con la fecha que me den.")
    andrea = conv(page, "andrea")
    expect(andrea.locator(".ws-ending-text")).to_have_text(model["endings"]["escalated"]["text"])
    expect(andrea.locator(".ws-composer")).to_have_count(0)  # nothing more to write: the reply box is gone
    expect(page.locator(".ws-call-state")).to_have_text("○ Llamada terminada")  # the call is over: no hold any more
    expect(page.get_by_role("button", name="Poner en espera")).to_be_hidden()
    assert customer_said(page, "andrea")[-1] in model["endings"]["escalated"]["customer"]  # she accepts the hand-off
    expect(page.locator("#ws-all-done")).to_be_visible()
    shot(page, "listens-escalated")
    hand_in(page)
    told = page.locator("section.ws-ending")  # «Cómo terminó para el cliente»: the same line
    expect(told.get_by_role("heading")).to_have_text("Cómo terminó para el cliente")
    expect(told.locator(".conversation-ending")).to_have_text(f"Andrea Castillo Núñez: {model['endings']['escalated']['text']}")
    expect(page.get_by_role("heading", name="Tu escalamiento")).to_be_visible()
    expect(page.get_by_text("Nivel 2 · Logística / Operaciones")).to_be_visible()
    shot(page, "listens-escalated-result")
    context.close()


# 3. Every scenario reaches its endings through the page ------------------------------------------------------------

def _shoot(browser, page, site_url, storage, slug, kind):
    """The ended practice at both sizes, in Spanish and in English (the interface; the customer writes Spanish)."""
    url = page.url
    for locale in ("es-ES", "en-US"):
        context = browser.new_context(locale=locale, viewport=SIZES["desk"], storage_state=storage)
        other = context.new_page()
        other.goto(url)
        expect(other.locator(".ws-ending").first).to_be_visible()
        for size, viewport in SIZES.items():
            other.set_viewport_size(viewport)
            other.locator(".ws-ending").first.scroll_into_view_if_needed()
            shot(other, f"ending-{slug}-{kind}-{size}-{locale}")
        context.close()


@pytest.mark.parametrize("slug, customer_id, kind", PAIRS, ids=[f"{s}:{c}:{k}" for s, c, k in PAIRS])
def test_the_scenario_reaches_the_ending_through_the_practice_page(browser, site_url, agents, slug, customer_id, kind):
    index = [c["id"] for c in scenarios()[slug][0]["customers"]].index(customer_id)
    storage = agents(f"{kind}-{index}")  # one agent per (ending, customer): never two practices of a scenario at once
    context = browser.new_context(locale="es-ES", viewport=SIZES["desk"], storage_state=storage)
    page = context.new_page()
    shown, ok = "", False
    try:
        shown = walk(page, site_url, slug, customer_id, kind)
        expected = model_of(slug, customer_id)["endings"][kind]["text"]
        ok = expected in shown
        assert ok, (slug, customer_id, kind, shown, customer_said(page, customer_id) if "/practice/" in page.url else None)
        if (slug, kind) in SHOTS and "/practice/" in page.url:
            _shoot(browser, page, site_url, storage, slug, kind)
    finally:
        if os.environ.get("WALK_ALL_ENDINGS"):
            ARTIFACTS.mkdir(exist_ok=True)
            shot(page, f"walk-{slug}-{customer_id}-{kind}")
            with RESULTS.open("a", encoding="utf-8") as out:
                out.write(json.dumps({"scenario": slug, "customer": customer_id, "ending": kind, "ok": ok, "shown": shown}) + "\n")
        context.close()
