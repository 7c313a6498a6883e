"""Open Badges for certification records: 2.0 hosted assertions and 3.0 verifiable credentials
(``eddsa-rdfc-2022`` Data Integrity proofs).  Public functions: :mod:`lms.badges.services`."""
from flask import Flask


def register(app: Flask) -> None:
    from lms.badges import views

    app.register_blueprint(views.bp)
    app.register_blueprint(views.did_bp)
    app.cli.add_lazy_command("badges", "lms.badges.cli:badges_cli")
