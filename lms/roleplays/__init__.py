"""Role-plays: scenarios built on real cases, channel modes, and versioned rubrics
(practice, pre-check, grading and calibration join them in the role-play issue).
Public functions: :mod:`lms.roleplays.services`.
"""
from flask import Flask


def register(app: Flask) -> None:
    from lms.content import register_loader
    from lms.roleplays.loader import RoleplaysLoader

    from lms.roleplays import cli, manage_views, views

    register_loader(RoleplaysLoader())
    app.register_blueprint(views.bp)
    app.register_blueprint(manage_views.bp)
    app.cli.add_command(cli.roleplays_cli)
