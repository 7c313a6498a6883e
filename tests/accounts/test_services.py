from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from lms.accounts import services
from lms.accounts.models import User
from lms.core.errors import Conflict, InvalidInput
from tests.conftest import PASSWORD

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)


def count_users(session):
    return session.scalar(select(func.count()).select_from(User))


def test_create_user_normalises_email_and_hashes_password(session):
    user = services.create_user(session, email="  Nueva.Agente@Example.COM ", name="Nueva", role="agent", password="frase larga de prueba")
    assert user.email == "nueva.agente@example.com"
    assert user.password_hash.startswith("$argon2id$")
    assert services.authenticate(session, "NUEVA.agente@example.com", "frase larga de prueba", now=NOW) == user
    assert user.last_login_at == NOW


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"email": "no-es-correo"}, "no es una dirección de correo válida"),
        ({"name": "  "}, "El nombre es obligatorio"),
        ({"role": "jefe"}, "Rol desconocido"),
        ({"password": "corta"}, "al menos 8 caracteres"),
        ({"password": "password123"}, "demasiado común"),
    ],
)
def test_create_user_refuses_bad_input(session, kwargs, message):
    data = {"email": "ok@example.com", "name": "Ok", "role": "agent", "password": "frase larga de prueba"} | kwargs
    with pytest.raises(InvalidInput, match=message):
        services.create_user(session, **data)
    assert count_users(session) == 0


def test_duplicate_email_conflicts(session, agent):
    with pytest.raises(Conflict):
        services.create_user(session, email=agent.email.upper(), name="Otra", role="agent")


def test_wrong_password_unknown_user_and_inactive_user_cannot_log_in(session, agent):
    assert services.authenticate(session, agent.email, "wrong password", now=NOW) is None
    assert services.authenticate(session, "nadie@example.com", PASSWORD, now=NOW) is None
    agent.is_active_user = False
    assert services.authenticate(session, agent.email, PASSWORD, now=NOW) is None


def test_session_token_is_invalidated_by_password_change(session, agent):
    token = agent.get_id()
    assert services.load_user_for_session(session, token) == agent
    services.set_password(session, agent, "otra frase larga")
    assert services.load_user_for_session(session, token) is None
    assert services.load_user_for_session(session, agent.get_id()) == agent
    assert services.load_user_for_session(session, "garbage") is None


def test_supervision_follows_team_membership(session, make_user, make_team):
    north, south = make_team("Norte"), make_team("Sur")
    agent_n = make_user("agent", teams=[north])
    agent_s = make_user("agent", teams=[south])
    manager = make_user("manager", teams=[north])
    trainer = make_user("trainer", teams=[south])
    admin = make_user("admin")
    assert services.can_supervise(session, manager, agent_n)
    assert not services.can_supervise(session, manager, agent_s)
    assert services.can_supervise(session, trainer, agent_s)
    assert not services.can_supervise(session, trainer, agent_n)
    assert services.can_supervise(session, admin, agent_s)
    assert not services.can_supervise(session, agent_n, agent_s)
    ids = set(session.scalars(services.supervised_agents_query(session, manager).with_only_columns(User.id)))
    assert ids == {agent_n.id}


CSV_OK = "email,name,role,team\nuno@example.com,Uno,agent,Norte\ndos@example.com,Dos,trainer,Norte\n"


def test_csv_import_creates_users_and_teams(session):
    result = services.import_users_csv(session, CSV_OK)
    assert result.ok and result.imported == 2
    team = services.find_team_by_name(session, "norte")
    assert {u.email for u in services.team_members(session, team, "agent")} == {"uno@example.com"}
    assert {u.email for u in services.team_members(session, team, "trainer")} == {"dos@example.com"}


CSV_BAD = (
    "email,name,role\n"
    "uno@example.com,Uno,agent\n"
    "mal-correo,Dos,agent\n"
    "tres@example.com,Tres,jefe\n"
    "uno@example.com,Uno otra vez,agent\n"
    "cinco@example.com,Cinco,agent\n"
)


def test_csv_import_with_bad_rows_imports_nothing_and_reports_each_line(session):
    result = services.import_users_csv(session, CSV_BAD)
    assert result.rolled_back and result.imported == 0
    assert [line for line, _ in result.errors] == [3, 4, 5]
    assert "mal-correo" in result.errors[0][1]
    assert "Rol desconocido" in result.errors[1][1]
    assert "línea 2" in result.errors[2][1]
    assert count_users(session) == 0


def test_csv_import_can_skip_bad_rows(session):
    result = services.import_users_csv(session, CSV_BAD, skip_invalid=True)
    assert result.imported == 2 and len(result.errors) == 3 and not result.rolled_back
    assert {u.email for u in services.list_users(session)} == {"uno@example.com", "cinco@example.com"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "vacío"),
        ("correo,nombre\nx,y\n", "Faltan columnas: email, name, role"),
        ("email,name,role,edad\n", "Columnas desconocidas: edad"),
    ],
)
def test_csv_header_problems(session, text, message):
    result = services.import_users_csv(session, text)
    assert result.rolled_back and message in result.errors[0][1]


def test_csv_accepts_semicolons_and_a_bom(session):
    result = services.import_users_csv(session, "\ufeffemail;name;role\nsemi@example.com;Semi;agent\n")
    assert result.ok and result.imported == 1
