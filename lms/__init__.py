"""Training and certification site for contact-center agents.

:func:`create_app` is the composition root: configuration, then core, then each
domain's ``register(app)`` in a fixed order, then the integrations.
"""
from __future__ import annotations

from pathlib import Path

from lms.core.deferred_imports import defer_rarely_used_modules

defer_rarely_used_modules()  # before anything imports flask_login or flask_wtf (see the module)

from flask import Flask  # noqa: E402

from lms import config as config_module  # noqa: E402
from lms.core.commands import LazyCommands  # noqa: E402


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        static_folder=str(config_module.PROJECT_ROOT / "static"),
        static_url_path="/static",
    )
    app.cli = LazyCommands(name=app.name)  # each domain's commands are imported when the command line asks for them
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(config_module.load(app.instance_path, config))
    config_module.validate(app.config)
    if app.config["TRUSTED_PROXIES"] > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    from lms.core import db, errors, i18n, markdown, security, templating

    db.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    markdown.init_app(app)
    errors.init_app(app)
    templating.init_app(app)

    from lms import accounts, authoring, certification, content, escalation, quizzes, reference, reporting, roleplays, tracks

    content.register(app)
    accounts.register(app)
    reference.register(app)
    escalation.register(app)
    roleplays.register(app)
    quizzes.register(app)
    tracks.register(app)
    certification.register(app)
    reporting.register(app)
    authoring.register(app)

    from lms import api, badges, lti, notifications, xapi

    badges.register(app)
    xapi.register(app)
    notifications.register(app)
    api.register(app)
    lti.register(app)

    app.cli.add_lazy_command("demo", "lms.demo:demo_cli")
    app.cli.add_lazy_command("db", "lms.migrations:db_cli")
    app.cli.add_lazy_command("worker", "lms.worker:worker_command")
    return app
