"""No default account: a fresh installation has no users; the first admin comes from ``users create``."""
from sqlalchemy import func, select

from lms.accounts import services
from lms.accounts.models import User
from lms.core.clock import now_utc
from lms.core.db import make_engine


def test_a_freshly_migrated_database_has_no_users(databases):
    url = databases.create("fresh")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(User)) == 0
    finally:
        engine.dispose()


def test_the_first_admin_with_the_password_prompted(app, session):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--email", "jefa@example.com", "--name", "Jefa", "--role", "admin"],
        input="frase de la jefa\nfrase de la jefa\n",
    )
    assert result.exit_code == 0, result.output
    assert "frase de la jefa" not in result.output  # hidden input
    assert services.authenticate(session, "jefa@example.com", "frase de la jefa", now=now_utc()).role == "admin"


def test_the_first_admin_with_the_password_from_stdin(app, session):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--email", "jefe@example.com", "--name", "Jefe", "--role", "admin", "--password-stdin"],
        input="otra frase secreta\n",
    )
    assert result.exit_code == 0, result.output
    assert services.authenticate(session, "jefe@example.com", "otra frase secreta", now=now_utc()).role == "admin"
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--email", "x@example.com", "--name", "X", "--role", "admin", "--password-stdin",
              "--password", "otra frase secreta"],
    )
    assert result.exit_code != 0 and "not both" in result.output
