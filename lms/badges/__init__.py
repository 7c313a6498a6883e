"""Open Badges for certification records: 2.0 hosted assertions and 3.0 verifiable credentials
(``eddsa-rdfc-2022`` Data Integrity proofs).  Public functions: :mod:`lms.badges.services`."""
from flask import Flask


def register(app: Flask) -> None:
    from lms.core import lazy

    # the badges' pages and documents are imported on their first request (lms/core/lazy.py)
    lazy.register_blueprint(app, "lms.badges.views:bp")
    lazy.register_blueprint(app, "lms.badges.views:did_bp")
    app.cli.add_lazy_command("badges", "lms.badges.cli:badges_cli")
