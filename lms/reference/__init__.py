"""The reference library: the source documents as anchored pages.

Owns reference pages and sections (loaded from ``courses/reference``), their
rendering, and :func:`lms.reference.services.check_citation`, which every other
loader uses to verify that a citation's quote really is in the cited section.
"""
from flask import Flask


def register(app: Flask) -> None:
    from lms.content import register_loader
    from lms.reference import views

    register_loader("reference", "lms.reference.loader:ReferenceLoader")  # imported by the first check or sync
    app.register_blueprint(views.bp)
