"""Password resets by e-mail: no account enumeration, hashed single-use tokens, voided by any password change."""
import hashlib
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from lms.accounts import resets, services
from lms.accounts.models import LoginThrottle, PasswordResetToken
from lms.core.clock import now_utc
from lms.core.outbox import OutboxMessage
from tests.conftest import PASSWORD, AuthActions

NEW = "una frase nueva y larga"
ANSWER = "Si hay una cuenta activa con ese correo, te hemos enviado un enlace"
INVALID = "Este enlace ya no sirve"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
LIMITS = resets.ResetLimits(minutes=30, per_account=3, per_address=10)


def emails(session):
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email").order_by(OutboxMessage.id)))


def token_in(message) -> str:
    return re.search(r"/password-reset/(\S+)", message.payload["body"]).group(1)


def ask(client, email, address="10.0.0.1"):
    return client.post("/password-reset", data={"email": email}, environ_overrides={"REMOTE_ADDR": address})


def request_token(session, user, now=T0, limits=LIMITS, address="10.0.0.1"):
    before = len(emails(session))
    assert resets.request_reset(session, user.email, address=address, now=now, base_url="https://academia.example",
                                limits=limits)
    session.commit()
    return token_in(emails(session)[before])


def test_the_login_page_links_to_the_reset_form(client):
    page = client.get("/login").get_data(as_text=True)
    assert "¿Has olvidado tu contraseña?" in page and 'href="/password-reset"' in page


def test_the_answer_is_the_same_whether_or_not_the_account_exists(client, session, agent, make_user):
    inactive = make_user("agent")
    inactive.is_active_user = False
    session.commit()
    answers = []
    for email in (agent.email, "nadie@example.com", inactive.email, agent.email.upper()):
        response = ask(client, email)
        answers.append((response.status_code, response.headers.get("Location"),
                        client.get(response.headers["Location"]).get_data(as_text=True).count(ANSWER)))
    assert answers == [(302, "/login", 1)] * 4
    sent = emails(session)
    assert [m.payload["to"] for m in sent] == [agent.email, agent.email]  # the active account only
    message = sent[0]
    assert message.payload["subject"] == "Restablece tu contraseña de la Academia de Atención"
    assert f"Hola, {agent.name}:" in message.payload["body"] and "30 minutos" in message.payload["body"]
    assert re.search(r"http://127\.0\.0\.1:5000/password-reset/[A-Za-z0-9_-]{40,}\n", message.payload["body"])


def test_the_link_uses_the_configured_address_not_the_request_host(client, session, agent):
    client.post("/password-reset", data={"email": agent.email}, headers={"Host": "evil.example"})
    assert "evil.example" not in emails(session)[0].payload["body"]


def test_only_the_hash_of_the_token_is_stored(session, agent):
    token = request_token(session, agent)
    row = session.scalar(select(PasswordResetToken).where(PasswordResetToken.user_id == agent.id))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (row.token_hash, row.password_fingerprint)
    assert row.expires_at == T0 + timedelta(minutes=30) and row.used_at is None and row.requested_from == "10.0.0.1"


def test_opening_the_link_changes_nothing_and_posting_uses_it_once(app, client, session, agent):
    other = app.test_client()
    AuthActions(other).login_as(agent)  # a session elsewhere
    token = request_token(session, agent, now=now_utc())
    for _ in range(2):
        response = client.get(f"/password-reset/{token}")
        assert response.status_code == 200 and agent.email in response.get_data(as_text=True)
        assert response.headers["Cache-Control"] == "no-store" and response.headers["Referrer-Policy"] == "no-referrer"
    session.expire_all()
    assert session.scalar(select(PasswordResetToken.used_at)) is None
    assert services.get_user(session, agent.id).session_version == 1

    response = client.post(f"/password-reset/{token}", data={"new_password": NEW, "confirm": NEW})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Contraseña cambiada" in client.get("/login").get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(PasswordResetToken.used_at)) is not None
    assert other.get("/account").status_code == 302  # every session of the user has ended
    assert services.authenticate(session, agent.email, PASSWORD, now=now_utc()) is None
    assert services.authenticate(session, agent.email, NEW, now=now_utc()) is not None
    # single use
    response = client.post(f"/password-reset/{token}", data={"new_password": "otra frase distinta", "confirm": "otra frase distinta"})
    assert response.status_code == 410 and INVALID in response.get_data(as_text=True)
    assert client.get(f"/password-reset/{token}").status_code == 410
    assert services.authenticate(session, agent.email, NEW, now=now_utc()) is not None


def test_the_new_password_must_pass_the_policy(client, session, agent):
    token = request_token(session, agent, now=now_utc())
    for bad, why in (("corta", "al menos 8 caracteres"), ("password123", "demasiado común"), (agent.email, "tu correo")):
        response = client.post(f"/password-reset/{token}", data={"new_password": bad, "confirm": bad})
        assert response.status_code == 200 and why in response.get_data(as_text=True), bad
    response = client.post(f"/password-reset/{token}", data={"new_password": NEW, "confirm": "otra cosa"})
    assert "Las contraseñas no coinciden." in response.get_data(as_text=True)
    session.expire_all()
    assert resets.valid_token(session, token, now=now_utc()) is not None  # still usable


def test_a_link_expires_after_thirty_minutes(session, agent):
    token = request_token(session, agent)
    assert resets.valid_token(session, token, now=T0 + timedelta(minutes=29, seconds=59)) is not None
    assert resets.valid_token(session, token, now=T0 + timedelta(minutes=30)) is None
    with pytest.raises(resets.InvalidResetLink):
        resets.complete_reset(session, token, NEW, now=T0 + timedelta(minutes=31))


@pytest.mark.parametrize("change", ["own", "admin", "another reset", "deactivated"])
def test_any_password_change_voids_the_link(session, agent, admin, change):
    token = request_token(session, agent)
    later = T0 + timedelta(minutes=5)
    if change == "own" or change == "admin":  # the account page and the admin reset both go through set_password
        services.set_password(session, agent, services.generate_password() if change == "admin" else NEW)
    elif change == "another reset":
        second = request_token(session, agent)
        resets.complete_reset(session, second, NEW, now=later)
    else:
        services.update_user(session, agent, name=agent.name, role="agent", is_active=False, actor=admin)
    session.commit()
    assert resets.valid_token(session, token, now=later) is None


def test_unknown_and_garbage_tokens(client):
    for token in ("x", "a" * 43, "a" * 300):
        response = client.get(f"/password-reset/{token}")
        assert response.status_code == 410 and INVALID in response.get_data(as_text=True)


def test_at_most_three_links_per_account_per_hour(session, agent):
    sent = [resets.request_reset(session, agent.email, address=f"10.0.0.{n}", now=T0 + timedelta(minutes=n),
                                 base_url="https://a.example", limits=LIMITS) for n in range(5)]
    assert sent == [True, True, True, False, False]
    assert resets.request_reset(session, agent.email, address="10.0.0.9", now=T0 + timedelta(minutes=61),
                                base_url="https://a.example", limits=LIMITS)


def test_at_most_so_many_links_per_address_per_hour(session, make_user):
    users = [make_user("agent") for _ in range(4)]
    limits = resets.ResetLimits(minutes=30, per_account=3, per_address=2)
    sent = [resets.request_reset(session, u.email, address="192.0.2.7", now=T0, base_url="https://a.example",
                                 limits=limits) for u in users]
    assert sent == [True, True, False, False]
    assert resets.request_reset(session, users[3].email, address="192.0.2.8", now=T0, base_url="https://a.example",
                                limits=limits)


def test_throttled_requests_get_the_same_answer(client, session, agent):
    for _ in range(5):
        response = ask(client, agent.email)
        assert response.status_code == 302 and ANSWER in client.get("/login").get_data(as_text=True)
    assert len(emails(session)) == 3


def test_a_reset_lifts_a_sign_in_block(client, session, agent):
    for _ in range(5):
        client.post("/login", data={"email": agent.email, "password": "mala contraseña"})
    assert client.post("/login", data={"email": agent.email, "password": PASSWORD}).status_code == 429
    token = request_token(session, agent, now=now_utc())
    client.post(f"/password-reset/{token}", data={"new_password": NEW, "confirm": NEW})
    assert client.post("/login", data={"email": agent.email, "password": NEW}).status_code == 302
    assert session.get(LoginThrottle, ("account", agent.email)).blocked_until is None


def test_the_reset_forms_need_the_csrf_token(app, session, agent):
    token = request_token(session, agent, now=now_utc())
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        assert client.post("/password-reset", data={"email": agent.email}).status_code == 400
        response = client.post(f"/password-reset/{token}", data={"new_password": NEW, "confirm": NEW})
        assert response.status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert resets.valid_token(session, token, now=now_utc()) is not None


def test_old_links_are_pruned(app, session, agent):
    request_token(session, agent, now=now_utc() - timedelta(days=3))
    request_token(session, agent, now=now_utc())
    result = app.test_cli_runner().invoke(args=["users", "prune-login-throttles"])
    assert result.exit_code == 0 and "1 expired password-reset link(s)" in result.output
    assert session.scalar(select(func.count()).select_from(PasswordResetToken)) == 1


def test_a_used_link_stays_used_even_if_the_password_hash_were_the_same(session, agent):
    """used_at is checked on its own (a second lock besides the password fingerprint)."""
    token = request_token(session, agent)
    row = session.scalar(select(PasswordResetToken).where(PasswordResetToken.user_id == agent.id))
    row.used_at = T0 + timedelta(minutes=1)
    session.commit()
    assert resets.valid_token(session, token, now=T0 + timedelta(minutes=2)) is None


@pytest.mark.parametrize("outcome", ["sent", "refused"])
def test_the_link_is_erased_from_the_outbox_once_the_mail_is_delivered_or_given_up(session, agent, outcome):
    from lms.core import outbox

    token = request_token(session, agent)

    def sender(payload):
        if outcome == "refused":
            raise outbox.Undeliverable("550 no such mailbox")

    outbox.deliver_due(session, {"email": sender}, now=T0 + timedelta(seconds=1))
    session.commit()
    message = emails(session)[-1]
    assert message.status == ("sent" if outcome == "sent" else "failed")
    assert token not in str(message.payload) and message.payload["to"] == agent.email
    assert message.payload["body"] == "[redacted after delivery]"


def test_other_mail_keeps_its_body_after_delivery(session, agent):
    from lms.core import outbox

    outbox.enqueue(session, kind="email", dedupe_key="plain", now=T0, payload={"to": agent.email, "subject": "S", "body": "B"})
    outbox.deliver_due(session, {"email": lambda payload: None}, now=T0 + timedelta(seconds=1))
    session.commit()
    assert emails(session)[-1].payload["body"] == "B"
