"""Accounts: users, roles (agent, trainer, manager, admin), teams and memberships.

Owns login/logout, passwords, the admin screens for users and teams, user CSV
import and the ``flask --app lms users …`` commands.  Public functions live in
:mod:`lms.accounts.services`.
"""
from flask import Flask


def register(app: Flask) -> None:
    from lms.accounts import cli, imports, views
    from lms.core import outbox

    app.register_blueprint(views.bp)
    outbox.register_sender(imports.KIND, imports.sender_factory)
    app.cli.add_command(cli.users_cli)
    app.cli.add_command(cli.teams_cli)
