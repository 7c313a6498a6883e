"""Accounts: users, roles (agent, trainer, manager, admin), teams and memberships.

Owns login/logout, passwords, the admin screens for users and teams, user CSV
import and the ``flask --app lms users …`` commands.  Public functions live in
:mod:`lms.accounts.services`.
"""
from flask import Flask


def register(app: Flask) -> None:
    from lms.accounts import imports, views
    from lms.core import outbox

    app.register_blueprint(views.bp)
    outbox.register_sender(imports.KIND, imports.sender_factory)
    app.cli.add_lazy_command("users", "lms.accounts.cli:users_cli")
    app.cli.add_lazy_command("teams", "lms.accounts.cli:teams_cli")

    from lms.core.i18n import ZONE_RESOLVER

    ZONE_RESOLVER[:] = [_reader_zone]  # pages write times in the reader's zone


def _reader_zone(user) -> str:
    """The zone of the request's reader: through the request's session when it has one (the signed-in user was loaded
    through it), else through a short one of its own (an anonymous page that has not touched the database)."""
    from flask import g

    from lms.accounts.zones import zone_of
    from lms.core.db import get_db

    if "_db_session" in g:
        return zone_of(g._db_session, user)
    with get_db().sessionmaker() as session:
        return zone_of(session, user)
