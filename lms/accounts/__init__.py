"""Accounts: users, roles (agent, trainer, manager, admin), teams and memberships.

Owns login/logout, passwords, the admin screens for users and teams, user CSV
import and the ``flask --app lms users …`` commands.  Public functions live in
:mod:`lms.accounts.services`.
"""
from flask import Flask


def register(app: Flask) -> None:
    from lms.accounts import cli, views

    app.register_blueprint(views.bp)
    app.cli.add_command(cli.users_cli)
    app.cli.add_command(cli.teams_cli)

    from lms.accounts.zones import zone_of
    from lms.core.db import get_session
    from lms.core.i18n import ZONE_RESOLVER

    ZONE_RESOLVER[:] = [lambda user: zone_of(get_session(), user)]  # pages write times in the reader's zone
