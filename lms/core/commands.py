"""The application's command line (``app.cli``), whose command groups are imported when it asks for them.

A web worker builds the app for its pages and never runs ``flask --app lms quizzes …``: each domain names its
groups here (``"lms.quizzes.cli:quizzes_cli"``) instead of importing them, so a worker does not hold the command
modules, nor what only they import (the demo generator, the migrations, the worker loop), in memory.
"""
from __future__ import annotations

import click
from flask.cli import AppGroup
from werkzeug.utils import import_string


class LazyCommands(AppGroup):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._lazy: dict[str, str] = {}

    def add_lazy_command(self, name: str, target: str) -> None:
        """``name`` runs the click command ``target`` (``"package.module:attribute"``), imported on first use."""
        self._lazy[name] = target

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self._lazy.pop(cmd_name, None)
        if target is not None:
            self.add_command(import_string(target), cmd_name)
        return super().get_command(ctx, cmd_name)
