"""The password policy (ASVS 5.0 L2 / NIST 800-63B) wherever a password is set."""
import pytest

from lms.accounts import services
from lms.core.clock import now_utc
from lms.core.errors import InvalidInput
from lms.core.security import common_passwords, password_problem
from tests.conftest import PASSWORD

PASSPHRASE_200 = ("la cola de llamadas del lunes siempre trae sorpresas " * 4)[:200]


def test_policy_cases():
    assert "al menos 8" in password_problem("corta12")
    assert password_problem("ocho car") is None  # 8 characters, no composition rules
    assert password_problem("a" * 256) is None
    assert "demasiado larga" in password_problem("a" * 257)
    for common in ("password", "Qwerty123", "iloveyou", " 1q2w3e4r5t ", "contraseña", "superman"):
        assert "demasiado común" in password_problem(common), common
    assert len(common_passwords()) > 19000  # the bundled list (20,000 entries, some equal once case-folded)
    personal = dict(email="Lucia.Martin@example.com", name="Lucía Martín")
    for mine in ("lucia.martin@example.com", "LuciaMartin", "lucia.martin", "lucía martín 2026", "Lucia Martin!", "xx lucia.martin@example.com"):
        assert "tu correo ni tu nombre" in password_problem(mine, **personal), mine
    assert password_problem("martin pescador del rio", **personal) is None


def test_a_200_character_passphrase_works_end_to_end(client, session):
    user = services.create_user(session, email="frase@example.com", name="Frase", role="agent", password=PASSPHRASE_200)
    session.commit()
    assert services.authenticate(session, user.email, PASSPHRASE_200, now=now_utc()) == user
    assert services.authenticate(session, user.email, PASSPHRASE_200[:-1], now=now_utc()) is None  # no truncation
    assert client.post("/login", data={"email": user.email, "password": PASSPHRASE_200}).status_code == 302


@pytest.mark.parametrize("password, message", [
    ("corta", "al menos 8"),
    ("password1", "demasiado común"),
    ("pepa.perez@example.com", "tu correo ni tu nombre"),
    ("Pepa Pérez", "tu correo ni tu nombre"),
])
def test_create_user_and_set_password_apply_the_policy(session, agent, password, message):
    with pytest.raises(InvalidInput, match=message):
        services.create_user(session, email="pepa.perez@example.com", name="Pepa Pérez", role="agent", password=password)
    agent.email, agent.name = "pepa.perez@example.com", "Pepa Pérez"
    with pytest.raises(InvalidInput, match=message):
        services.set_password(session, agent, password)


def test_account_page_refuses_own_name(client, auth, agent):
    auth.login_as(agent)
    response = client.post("/account", data={
        "pw-current_password": PASSWORD, "pw-new_password": agent.name, "pw-confirm": agent.name,
    })
    assert "tu correo ni tu nombre" in response.get_data(as_text=True)
    response = client.post("/account", data={
        "pw-current_password": PASSWORD, "pw-new_password": "qwertyuiop", "pw-confirm": "qwertyuiop",
    })
    assert "demasiado común" in response.get_data(as_text=True)


def test_csv_import_and_cli_apply_the_policy(app, session):
    result = services.import_users_csv(session, "email,name,role,password\nana.ruiz@example.com,Ana Ruiz,agent,anaruiz2026\n")
    assert result.rolled_back and "tu correo ni tu nombre" in result.errors[0][1]
    cli = app.test_cli_runner().invoke(args=[
        "users", "create", "--email", "c@example.com", "--name", "C", "--role", "agent", "--password", "letmein123",
    ])
    assert cli.exit_code != 0 and "demasiado común" in cli.output


def test_hashes_use_the_owasp_argon2id_profile_and_old_ones_are_rewritten_at_sign_in(session, make_user):
    from argon2 import PasswordHasher

    from lms.accounts import services
    from lms.core.clock import now_utc
    from lms.core.security import hash_password, password_needs_rehash

    assert hash_password("una frase bastante larga").startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    user = make_user("agent")
    old = PasswordHasher().hash("una frase bastante larga")  # the library's default profile (m=65536,t=3,p=4)
    user.password_hash = old
    session.commit()
    assert password_needs_rehash(old)
    assert services.authenticate(session, user.email, "otra frase distinta", now=now_utc()) is None
    assert user.password_hash == old  # a wrong password rewrites nothing
    assert services.authenticate(session, user.email, "una frase bastante larga", now=now_utc()) == user
    assert user.password_hash != old and not password_needs_rehash(user.password_hash)
    assert services.authenticate(session, user.email, "una frase bastante larga", now=now_utc()) == user


def test_the_unknown_user_check_verifies_a_hash_of_todays_profile():
    """burn_password_check verifies against a written-down hash (no hashing at import): it must cost what a real
    check costs, so it has to be a valid hash made with today's parameters."""
    from lms.core.security import _DUMMY_HASH, password_needs_rehash, verify_password

    assert _DUMMY_HASH.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert not password_needs_rehash(_DUMMY_HASH)
    assert verify_password(_DUMMY_HASH, "not-a-real-password-0")
    assert not verify_password(_DUMMY_HASH, "otra cosa")
