"""The practice workspace in a real browser: drafts survive sending elsewhere and reloading (surge), the ticket
(correct and wrongly prioritised), the reply box in view in every mode at both sizes, a phone call taken, escalated
and ended, a social complaint moved to private, and axe-core on every mode at both sizes."""
from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from lms.core.db import get_db
from lms.roleplays.models import RoleplayTurn
from tests.browser.conftest import SITE, screenshot
from tests.browser.test_accessibility import WCAG, log_in, serious

pytestmark = pytest.mark.browser

SCENARIOS = {"chat": "queja-facturacion-cobro-duplicado", "surge": "black-friday-pedido-retrasado",
             "phone": "compensacion-cliente-oro-management", "email": "email-guia-configuracion-aviso-envio",
             "social": "redes-sociales-queja-publica", "ticket": "tickets-cola-de-entrada"}
SIZES = {"desk": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
AXE = Axe()


def start(page, site_url, mode):
    page.goto(f"{site_url}/roleplays/{SCENARIOS[mode]}")
    page.locator("form[action$='/start'] button").click()
    page.wait_for_url(re.compile(r".*/practice/\d+$"))
    expect(page.locator("#workspace.ws-js")).to_be_attached()


def reply_box(page, mode):
    return page.locator("#email-body") if mode == "email" else page.locator(".ws-conv:not(.ws-inactive) .ws-composer textarea")


def in_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] and box["x"] + box["width"] <= size["width"]


def confirm_finish(page):
    page.get_by_role("button", name="Terminar y enviar").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    page.keyboard.press("Enter")  # the confirm button has the focus
    page.wait_for_url(re.compile(r".*/result$"))


def test_surge_drafts_survive_sending_in_another_conversation_and_reloading(browser, site_url):
    context = browser.new_context(locale="es-ES", viewport=SIZES["desk"])
    page = context.new_page()
    log_in(page, site_url, "agente5@demo.lms")
    start(page, site_url, "surge")
    items = page.locator(".ws-item")
    expect(items).to_have_count(3)
    page.locator(".ws-conv:not(.ws-inactive) textarea").fill("Hola, Marta. Soy Laura; reviso tu pedido 88412 ahora mismo.")
    page.keyboard.press("Alt+2")
    second = page.locator(".ws-conv:not(.ws-inactive) textarea")
    second.fill("Hola, Diego. Soy Laura, ")
    page.keyboard.press("Alt+3")
    third = page.locator(".ws-conv:not(.ws-inactive)")
    third.locator("textarea").fill("¡Hola, Lucía! Soy Laura. Te cuento cómo cambiar la dirección.")
    third.locator("textarea").press("Control+Enter")  # sent with fetch, no reload
    expect(third.locator(".msg-agent")).to_have_count(1)
    expect(third.locator("textarea")).to_have_value("")
    page.wait_for_timeout(1200)  # the debounced autosave (800 ms)
    page.reload()
    expect(page.locator("#workspace.ws-js")).to_be_attached()
    page.keyboard.press("Alt+1")
    expect(page.locator(".ws-conv:not(.ws-inactive) textarea")).to_have_value("Hola, Marta. Soy Laura; reviso tu pedido 88412 ahora mismo.")
    page.keyboard.press("Alt+2")
    expect(page.locator(".ws-conv:not(.ws-inactive) textarea")).to_have_value("Hola, Diego. Soy Laura, ")
    page.keyboard.press("Alt+3")
    expect(page.locator(".ws-conv:not(.ws-inactive) .msg-agent")).to_have_count(1)

    # the engine writes a customer message in another conversation while the agent types here: it arrives by itself
    submission_id = int(page.url.rsplit("/", 1)[1].split("#")[0])
    with SITE["app"].app_context():
        session = get_db(SITE["app"]).sessionmaker()
        last = session.query(RoleplayTurn).filter_by(submission_id=submission_id).order_by(RoleplayTurn.position.desc()).first()
        session.add(RoleplayTurn(submission_id=submission_id, position=last.position + 1, thread="marta", speaker="customer",
                                 text="¿Sigues ahí? Necesito una respuesta ya.", at=last.at))
        session.commit()
        session.close()
    page.locator(".ws-conv:not(.ws-inactive) textarea").type("Un momento")
    marta = page.locator('.ws-item[data-thread="marta"]')
    expect(marta.locator(".ws-unread")).to_be_visible(timeout=10000)
    expect(page.locator("#ws-announce")).to_contain_text("Nuevo mensaje de Marta Ruiz")
    page.keyboard.press("Alt+1")
    expect(page.locator(".ws-conv:not(.ws-inactive)")).to_contain_text("¿Sigues ahí?")
    expect(marta.locator(".ws-unread")).to_be_hidden()
    context.close()


def test_a_draft_typed_offline_reaches_the_server_when_the_connection_returns(browser, site_url):
    context = browser.new_context(locale="es-ES", viewport=SIZES["desk"])
    page = context.new_page()
    log_in(page, site_url, "agente5@demo.lms")
    start(page, site_url, "chat")
    context.set_offline(True)
    page.locator(".ws-composer textarea").fill("Hola, Gabriela. Soy Laura y reviso tus cobros.")
    expect(page.locator(".ws-draft-status")).to_contain_text("Sin conexión", timeout=5000)
    context.set_offline(False)
    expect(page.locator(".ws-draft-status")).to_contain_text("Borrador guardado", timeout=20000)
    page.evaluate("localStorage.clear()")  # the server's copy, not the browser's
    page.reload()
    expect(page.locator(".ws-composer textarea")).to_have_value("Hola, Gabriela. Soy Laura y reviso tus cobros.")
    context.close()


def test_without_javascript_the_practice_is_plain_forms(browser, site_url):
    context = browser.new_context(locale="es-ES", viewport=SIZES["desk"], java_script_enabled=False)
    page = context.new_page()
    log_in(page, site_url, "agente9@demo.lms")
    page.goto(f"{site_url}/roleplays/{SCENARIOS['chat']}")
    page.locator("form[action$='/start'] button").click()
    page.wait_for_url(re.compile(r".*/practice/\d+$"))
    ticket = page.locator("#panel-ticket")
    ticket.get_by_label("Asunto").fill("Cobro duplicado")
    ticket.get_by_label("Prioridad").select_option("Media")
    ticket.get_by_role("button", name="Crear ticket").click()
    expect(page.get_by_text("Ticket guardado.")).to_be_visible()
    while page.locator(".ws-composer").count():
        page.locator(".ws-composer textarea").fill("Hola, Gabriela, soy Laura: lo reviso ahora mismo.")
        page.get_by_role("button", name="Enviar", exact=True).click()
    page.get_by_role("button", name="Terminar y enviar").click()
    page.wait_for_url(re.compile(r".*/result$"))
    expect(page.get_by_role("heading", name="Cómo terminó para el cliente")).to_be_visible()
    context.close()


def test_a_ticket_kept_correctly_in_a_chat_and_a_wrongly_prioritised_one_flagged(browser, site_url):
    context = browser.new_context(locale="es-ES", viewport=SIZES["desk"])
    page = context.new_page()
    log_in(page, site_url, "agente7@demo.lms")
    for priority, state, flagged in (("Media", "En Progreso", False), ("Crítica", "Resuelto", True)):
        start(page, site_url, "chat")
        page.get_by_role("link", name="Ticket", exact=True).click()
        panel = page.locator("#panel-ticket")
        panel.get_by_label("Asunto").fill("Cuota de diciembre cobrada dos veces")
        panel.get_by_label("Descripción").fill("La clienta ve dos cargos de 29,90 € del 01/12 (reintento duplicado, aviso TI-2291). "
                                               "Se pide el reembolso del segundo cargo a Finanzas; seguimiento por correo en 5 días hábiles.")
        panel.get_by_label("Prioridad").select_option(priority)
        panel.get_by_role("button", name="Crear ticket").click()
        expect(panel.locator(".ws-ticket-status")).to_contain_text("Ticket guardado")
        panel.get_by_label("Estado").select_option(state)  # updated while serving
        panel.get_by_role("button", name="Crear ticket").click()
        expect(panel.locator(".ws-ticket-state")).to_have_text(state)
        box = page.locator(".ws-composer textarea")
        for sent, text in enumerate(("Hola, Gabriela, soy Laura. Siento mucho el doble cobro: lo reviso ahora mismo.",
                     "Veo los dos cargos del 1 de diciembre; pido hoy el reembolso a Finanzas.",
                     "Fue un error del sistema de cobros, corregido el 3 de diciembre; revisaré tu cobro de enero.",
                     "Gracias a ti, Gabriela. Te escribo cuando Finanzas emita el reembolso.")):
            box.fill(text)
            page.get_by_role("button", name="Enviar", exact=True).click()
            expect(page.locator(".msg-agent")).to_have_count(sent + 1)
            if page.locator(".ws-done").count():
                break  # the customer's conversation ended (the engine: the refund passed to Finanzas)
        expect(page.locator(".ws-done")).to_be_visible()
        confirm_finish(page)
        review = page.locator(".ws-review").first
        if flagged:
            expect(review).to_contain_text("la que corresponde es Media")
            expect(review).to_contain_text("no queda resuelto")
        else:
            expect(review).to_contain_text("El ticket cumple lo que pide el escenario")
        screenshot(page, f"workspace-ticket-{'flagged' if flagged else 'ok'}")
    context.close()


@pytest.mark.parametrize("size", SIZES)
def test_the_reply_box_is_in_view_in_every_mode(browser, site_url, size):
    context = browser.new_context(locale="es-ES", viewport=SIZES[size], is_mobile=size == "phone", has_touch=size == "phone")
    page = context.new_page()
    log_in(page, site_url, "agente6@demo.lms")
    problems = []
    for mode in SCENARIOS:
        start(page, site_url, mode)
        if mode == "phone":
            page.get_by_role("button", name="Atender la llamada").click()
        if not in_viewport(page, reply_box(page, mode)):
            problems.append(f"{mode}: {reply_box(page, mode).bounding_box()}")
        if page.evaluate("document.documentElement.scrollWidth") > SIZES[size]["width"]:
            problems.append(f"{mode}: scrolls sideways")
    assert problems == []
    context.close()


def test_a_phone_call_taken_escalated_with_a_hand_off_and_ended(browser, site_url):
    context = browser.new_context(locale="es-ES", viewport=SIZES["desk"])
    page = context.new_page()
    log_in(page, site_url, "agente8@demo.lms")
    start(page, site_url, "phone")
    expect(page.get_by_text("Llamada entrante")).to_be_visible()
    expect(page.locator(".ws-composer")).to_be_hidden()
    page.get_by_role("button", name="Atender la llamada").click()
    expect(page.get_by_role("button", name="Poner en espera")).to_be_visible()
    box = page.locator(".ws-composer textarea")
    expect(box).to_be_focused()
    page.get_by_role("button", name="Poner en espera").click()
    expect(page.locator(".ws-hold")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="Poner en espera").click()
    sent = 0
    while page.locator(".ws-composer").count():
        box.fill(f"Entiendo, señora. Le explico el siguiente paso ({sent + 1}) y lo traslado a la dirección.")
        page.get_by_role("button", name="Enviar", exact=True).click()
        sent += 1
        expect(page.locator(".msg-agent")).to_have_count(sent)
    page.get_by_role("button", name="Transferir").click()
    handoff = page.locator("#panel-handoff")
    expect(handoff).to_be_visible()
    handoff.get_by_label("Nivel").select_option("4")
    handoff.get_by_label("Equipo").fill("Management")
    handoff.get_by_role("button", name="Rellenar con lo que ya escribiste").click()
    expect(handoff.get_by_label("Contexto")).not_to_have_value("")
    handoff.get_by_label("Expectativas comunicadas al cliente").fill("Se le llamará mañana con la decisión de Management.")
    handoff.get_by_label("Cronograma").fill("Mañana antes de las 12:00.")
    confirm_finish(page)
    expect(page.get_by_role("heading", name="Tu escalamiento")).to_be_visible()
    expect(page.get_by_text("Nivel 4 · Management")).to_be_visible()
    expect(page.get_by_role("button", name="Intentarlo otra vez")).to_be_visible()
    context.close()


def test_a_social_complaint_moved_to_private(browser, site_url):
    context = browser.new_context(locale="es-ES", viewport=SIZES["phone"], is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, site_url, "agente9@demo.lms")
    start(page, site_url, "social")
    expect(page.get_by_text("Hilo público")).to_be_visible()
    expect(page.locator(".ws-composer-label")).to_contain_text("Respuesta pública")
    page.locator(".ws-composer textarea").fill("Lo sentimos mucho. Te escribimos por mensaje privado para revisarlo.")
    page.get_by_role("button", name="Enviar", exact=True).click()
    expect(page.locator(".msg-agent")).to_have_count(1)
    page.get_by_role("button", name="Mover a privado").click()
    expect(page.locator(".ws-composer-label")).to_contain_text("Mensaje privado")
    expect(page.locator(".ws-place-private")).to_be_visible()
    page.locator(".ws-composer textarea").fill("Hola de nuevo. ¿Me confirmas el número de pedido por aquí?")
    page.get_by_role("button", name="Enviar", exact=True).click()
    expect(page.locator(".msg-private.msg-agent")).to_have_count(1)
    page.reload()
    expect(page.locator(".ws-divider")).to_be_visible()
    context.close()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("locale", ("es-ES", "en-US"))
def test_axe_finds_nothing_serious_in_any_mode(browser, site_url, size, locale):
    context = browser.new_context(locale=locale, viewport=SIZES[size], is_mobile=size == "phone", has_touch=size == "phone")
    page = context.new_page()
    log_in(page, site_url, "agente3@demo.lms")
    problems = []
    for mode in SCENARIOS:
        start(page, site_url, mode)
        problems += [f"{mode}: {p}" for p in serious(AXE.run(page, options=WCAG))]
        screenshot(page, f"workspace-{mode}-{size}-{locale}")
    assert problems == [], "\n".join(problems)
    context.close()


def _waiting_since(submission_id: int, thread: str, seconds_ago: float) -> None:
    """The customer of ``thread`` has been waiting that long (the server's clock is real: the wait is moved back)."""
    from datetime import datetime, timedelta, timezone

    with SITE["app"].app_context():
        session = get_db(SITE["app"]).sessionmaker()
        for turn in session.query(RoleplayTurn).filter_by(submission_id=submission_id, thread=thread):
            turn.at = datetime.now(timezone.utc) - timedelta(seconds=seconds_ago)
        session.commit()
        session.close()


LIVE = {"es-ES": {"new": "Nuevo mensaje de Diego Salas", "ended": "terminada", "all": "Todas las conversaciones han terminado"},
        "en-US": {"new": "New message from Diego Salas", "ended": "finished", "all": "Every conversation has ended"}}


@pytest.mark.parametrize("size, locale, agent", [("desk", "es-ES", "agente9@demo.lms"), ("phone", "en-US", "agente7@demo.lms"),
                                                 ("desk", "en-US", "agente4@demo.lms"), ("phone", "es-ES", "agente2@demo.lms")])
def test_surge_nudges_arrive_by_themselves_and_a_customer_who_left_shows_their_ending(browser, site_url, size, locale, agent):
    """Left unanswered past the standard, a surge customer nudges in their conversation while the agent types in
    another; past their patience they leave: the ending line replaces the reply box. The page's poll writes nothing;
    the next reply stores what was shown, and when every conversation has ended the page points to the hand-in."""
    words = LIVE[locale]
    context = browser.new_context(locale=locale, viewport=SIZES[size], is_mobile=size == "phone", has_touch=size == "phone")
    page = context.new_page()
    log_in(page, site_url, agent)
    start(page, site_url, "surge")
    submission_id = int(page.url.rsplit("/", 1)[1].split("#")[0])
    page.keyboard.press("Alt+1")
    marta_box = page.locator('.ws-conv[data-thread="marta"] textarea')
    marta_box.fill("Hola, Marta. Soy Luis; ")

    _waiting_since(submission_id, "diego", 40)  # past the 30-second standard, within his patience
    marta_box.type("reviso tu pedido ahora mismo.")
    diego_item, diego = page.locator('.ws-item[data-thread="diego"]'), page.locator('.ws-conv[data-thread="diego"]')
    expect(diego_item.locator(".ws-unread")).to_be_visible(timeout=10000)
    expect(page.locator("#ws-announce")).to_contain_text(words["new"])
    expect(diego.locator(".msg-customer.msg-pending")).to_have_count(1)
    expect(diego.locator(".ws-composer")).to_have_count(1)  # nudging, not gone
    expect(marta_box).to_have_value("Hola, Marta. Soy Luis; reviso tu pedido ahora mismo.")  # typing undisturbed
    screenshot(page, f"workspace-live-nudge-{size}-{locale}")

    _waiting_since(submission_id, "lucia", 3600)  # long past her patience: she has left
    lucia = page.locator('.ws-conv[data-thread="lucia"]')
    expect(lucia.locator(".ws-ending .ws-ending-text")).not_to_be_empty(timeout=10000)
    expect(lucia.locator(".ws-composer")).to_have_count(0)
    expect(page.locator('.ws-item[data-thread="lucia"] .ws-clock')).to_contain_text(words["ended"])
    lucia_said = lucia.locator(".msg-customer").count()
    page.keyboard.press("Alt+3")
    expect(lucia.locator(".ws-ending")).to_be_visible()
    screenshot(page, f"workspace-live-ended-{size}-{locale}")

    # the next reply stores what the page showed: Lucía's nudges and last words, no longer pending, none twice
    page.keyboard.press("Alt+1")
    marta_box.press("Control+Enter")
    expect(page.locator('.ws-conv[data-thread="marta"] .msg-agent')).to_have_count(1)
    expect(lucia.locator(".msg-pending")).to_have_count(0, timeout=10000)
    expect(lucia.locator(".msg-customer")).to_have_count(lucia_said)
    with SITE["app"].app_context():
        session = get_db(SITE["app"]).sessionmaker()
        stored = session.query(RoleplayTurn).filter_by(submission_id=submission_id, thread="lucia", speaker="customer").count()
        session.close()
    assert stored == lucia_said

    _waiting_since(submission_id, "marta", 3600)
    _waiting_since(submission_id, "diego", 3600)
    expect(page.locator("#ws-all-done")).to_contain_text(words["all"], timeout=10000)
    expect(page.locator(".ws-composer")).to_have_count(0)
    screenshot(page, f"workspace-live-all-ended-{size}-{locale}")
    page.locator(".ws-finish").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    page.locator("#finish-confirm").click()
    page.wait_for_url(re.compile(r".*/result$"))
    context.close()
