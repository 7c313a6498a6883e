"""Sign-in throttling and the audit trail, over real requests and a real database."""
from datetime import datetime, timedelta, timezone

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from lms.accounts import signin
from lms.accounts.models import LoginAttempt, LoginThrottle
from tests.conftest import PASSWORD
from tests.test_query_counts import counting

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
LIMITS = signin.Limits(per_account=5, per_address=20, window_seconds=900, block_seconds=300, block_max_seconds=3600)


@pytest.fixture
def hash_checks(monkeypatch):
    """Counts argon2 verifications (a thin spy on the third-party hasher)."""
    calls = []
    real = PasswordHasher.verify

    def spy(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    return calls


def post_login(client, email, password="mala contraseña", address="10.0.0.1", agent="pytest-agent/1.0"):
    return client.post("/login", data={"email": email, "password": password},
                       environ_overrides={"REMOTE_ADDR": address}, headers={"User-Agent": agent})


def results(session, email=None):
    stmt = select(LoginAttempt.result).order_by(LoginAttempt.id)
    if email:
        stmt = stmt.where(LoginAttempt.email == email)
    return list(session.scalars(stmt))


def test_five_failures_block_the_account_without_hashing(client, session, agent, hash_checks):
    for _ in range(5):
        assert post_login(client, agent.email).status_code == 200
    assert len(hash_checks) == 5
    response = post_login(client, agent.email.upper(), password=PASSWORD)  # the right password, and another spelling
    assert response.status_code == 429
    assert 240 < int(response.headers["Retry-After"]) <= 300
    assert "Demasiados intentos fallidos. Espera 5 min y vuelve a intentarlo." in response.get_data(as_text=True)
    assert len(hash_checks) == 5  # the refusal computed no hash
    # from another address the account is still blocked
    assert post_login(client, agent.email, password=PASSWORD, address="10.9.9.9").status_code == 429
    assert results(session)[-2:] == ["throttled", "throttled"]
    throttled = session.scalars(select(LoginAttempt).where(LoginAttempt.result == "throttled")).all()
    assert {a.user_id for a in throttled} == {agent.id}


def test_another_account_is_not_affected(client, agent, manager):
    for _ in range(5):
        post_login(client, agent.email)
    assert post_login(client, agent.email, password=PASSWORD).status_code == 429
    assert post_login(client, manager.email, password=PASSWORD).status_code == 302


def test_twenty_failures_from_one_address_block_that_address(client, session, agent, hash_checks):
    for n in range(20):
        assert post_login(client, f"nadie{n}@example.com", address="192.0.2.7").status_code == 200
    assert post_login(client, agent.email, password=PASSWORD, address="192.0.2.7").status_code == 429
    assert len(hash_checks) == 20
    # the same user from elsewhere gets in
    assert post_login(client, agent.email, password=PASSWORD, address="192.0.2.8").status_code == 302


def test_success_resets_the_account_counter_and_does_not_count(client, session, agent):
    for _ in range(4):
        post_login(client, agent.email)
    assert post_login(client, agent.email, password=PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(4):
        assert post_login(client, agent.email).status_code == 200
    assert post_login(client, agent.email, password=PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(30):  # many successful logins (the browser tests) never block
        assert post_login(client, agent.email, password=PASSWORD).status_code == 302
        client.post("/logout")


def test_the_block_expires(client, session, agent):
    for _ in range(5):
        post_login(client, agent.email)
    assert post_login(client, agent.email, password=PASSWORD).status_code == 429
    # five minutes later (the stored block is moved back instead of waiting)
    row = session.get(LoginThrottle, ("account", agent.email))
    row.blocked_until = datetime.now(timezone.utc) - timedelta(seconds=1)
    session.commit()
    assert post_login(client, agent.email, password=PASSWORD).status_code == 302


def test_blocks_grow_exponentially_up_to_the_cap_and_are_forgotten(session, agent):
    def fail(now, times=5):
        for _ in range(times):
            outcome = signin.sign_in(session, agent.email, "mala contraseña", address=None, user_agent=None, now=now, limits=LIMITS)
        return outcome

    now = T0
    blocks = []
    for _ in range(6):
        fail(now)
        wait = signin.blocked_for(session, [("account", agent.email)], now=now)
        blocks.append(wait)
        assert fail(now + timedelta(seconds=wait - 1), times=1).result == "throttled"
        now += timedelta(seconds=wait)
    assert blocks == [300, 600, 1200, 2400, 3600, 3600]
    # after a quiet window the strikes are forgotten: the next block is short again
    now += timedelta(seconds=LIMITS.window_seconds)
    fail(now)
    assert signin.blocked_for(session, [("account", agent.email)], now=now) == 300


def test_failures_outside_the_window_do_not_add_up(session, agent):
    for n in range(8):  # one failure every 4 minutes: never 5 within 15 minutes
        outcome = signin.sign_in(session, agent.email, "mala contraseña", address="10.1.1.1", user_agent=None,
                                 now=T0 + timedelta(minutes=4 * n), limits=LIMITS)
        assert outcome.result == "bad_password"


def test_every_result_is_audited_without_the_password(client, session, agent, make_user):
    inactive = make_user("agent")
    inactive.is_active_user = False
    session.commit()
    post_login(client, agent.email, password=PASSWORD, agent="Mozilla/5.0 " + "x" * 400)
    client.post("/logout")
    post_login(client, agent.email, password="contraseña secreta equivocada")
    post_login(client, "  Nadie@Example.com ", password="otra secreta")
    post_login(client, inactive.email, password=PASSWORD)
    rows = session.scalars(select(LoginAttempt).order_by(LoginAttempt.id)).all()
    assert [r.result for r in rows] == ["success", "bad_password", "unknown_user", "inactive"]
    assert [r.user_id for r in rows] == [agent.id, agent.id, None, inactive.id]
    assert rows[2].email == "Nadie@Example.com"
    assert {r.address for r in rows} == {"10.0.0.1"}
    assert len(rows[0].user_agent) == 255 and rows[1].user_agent == "pytest-agent/1.0"
    for row in rows:
        stored = " ".join(str(getattr(row, c.key)) for c in LoginAttempt.__table__.columns)
        assert "secreta" not in stored and PASSWORD not in stored


def test_admin_page_lists_and_filters_attempts(client, session, auth, admin, agent, manager):
    post_login(client, agent.email)
    post_login(client, manager.email, password=PASSWORD)
    client.post("/logout")
    post_login(client, "desconocido@example.com")
    auth.login_as(admin)
    page = client.get("/admin/login-attempts").get_data(as_text=True)
    assert agent.email in page and manager.email in page and "desconocido@example.com" in page
    page = client.get("/admin/login-attempts?result=bad_password").get_data(as_text=True)
    assert agent.email in page and manager.email not in page and "desconocido@example.com" not in page
    page = client.get("/admin/login-attempts", query_string={"q": manager.name}).get_data(as_text=True)
    assert manager.email in page and agent.email not in page
    page = client.get(f"/admin/login-attempts?user={agent.id}").get_data(as_text=True)
    assert agent.email in page and manager.email not in page
    assert "Contraseña incorrecta" in page
    assert f"/admin/login-attempts?user={agent.id}" in client.get(f"/admin/users/{agent.id}").get_data(as_text=True)


def test_login_queries_do_not_grow_with_history(app, client, session, agent):
    def statements(email):
        with counting(app) as seen:
            post_login(client, email)
        return len(seen)

    post_login(client, agent.email)  # the counters exist from now on
    first = statements(agent.email)
    for n in range(3):
        post_login(client, f"otro{n}@example.com", address=f"10.2.0.{n}")
    assert statements(agent.email) == first  # more attempts and throttle rows, same work
    with counting(app) as seen:
        client.get("/login")
    get_count = len(seen)
    for _ in range(5):
        post_login(client, agent.email, address="10.3.0.1")
    with counting(app) as seen:
        client.get("/login")
    assert len(seen) == get_count
    assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 11


def test_expired_counters_are_pruned_and_running_blocks_kept(app, session, agent):
    for n in range(5):
        signin.sign_in(session, agent.email, "mala contraseña", address=f"10.4.0.{n}", user_agent=None, now=T0, limits=LIMITS)
    later = T0 + timedelta(seconds=LIMITS.window_seconds + 1)
    assert signin.prune_throttles(session, now=later, limits=LIMITS) == 5  # the addresses; the account is still blocked
    assert session.get(LoginThrottle, ("account", agent.email)).blocked_until == T0 + timedelta(seconds=300)
    assert signin.prune_throttles(session, now=T0 + timedelta(seconds=300 + LIMITS.window_seconds + 1), limits=LIMITS) == 1
    session.commit()
    result = app.test_cli_runner().invoke(args=["users", "prune-login-throttles"])
    assert result.exit_code == 0 and "deleted 0 expired sign-in counter(s)" in result.output
    assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 5  # the audit trail stays


def test_the_password_hash_is_computed_outside_any_transaction(app, client, session, agent, make_user, monkeypatch):
    """Reads, then argon2, then the writes: on SQLite the writes' transaction holds the one write lock, which a
    35 ms hash inside it would keep from every other sign-in and answer being saved."""
    from lms.accounts import services
    from lms.core.db import get_session

    seen = []
    real_verify, real_burn = services.verify_password, services.burn_password_check

    def verify(password_hash, password):
        seen.append(("verify", get_session().in_transaction()))
        return real_verify(password_hash, password)

    def burn(password):
        seen.append(("burn", get_session().in_transaction()))
        return real_burn(password)

    monkeypatch.setattr(services, "verify_password", verify)
    monkeypatch.setattr(services, "burn_password_check", burn)
    assert post_login(client, agent.email, PASSWORD).status_code == 302
    client.post("/logout")
    assert post_login(client, "nadie@example.com").status_code == 200
    assert post_login(client, agent.email).status_code == 200
    assert seen == [("verify", False), ("burn", False), ("verify", False)]
    assert results(session, agent.email) == ["success", "bad_password"]
    session.expire_all()
    assert session.get(type(agent), agent.id).last_login_at is not None


def test_an_outdated_hash_is_rewritten_at_sign_in_unless_the_password_changed_meanwhile(session, agent):
    from lms.accounts import services

    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    agent.password_hash = old
    session.commit()
    user, result = services.check_credentials(session, agent.email, PASSWORD, now=T0)
    assert result == "success" and user.password_hash != old and not services.password_needs_rehash(user.password_hash)
    # a rehash computed from a hash that has since been replaced (a password change between the reads and the
    # writes of a sign-in) does not overwrite the new password
    agent.password_hash = old
    session.commit()
    stale = services.find_user_by_email(session, agent.email)
    session.execute(type(agent).__table__.update().where(type(agent).__table__.c.id == agent.id).values(password_hash="changed"))
    services.record_sign_in(session, stale, "rehashed", now=T0)
    session.commit()
    assert session.scalar(select(type(agent).password_hash).where(type(agent).id == agent.id)) == "changed"
