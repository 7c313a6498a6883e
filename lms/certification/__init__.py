"""Certification: definitions (what each certification requires, how long it is
valid) read from ``courses/certifications``; records, issuing and verification
join them in the certification issue.  Public functions: :mod:`lms.certification.services`.
"""
from flask import Flask


def register(app: Flask) -> None:
    from lms.certification.loader import CertificationsLoader
    from lms.content import register_loader

    register_loader(CertificationsLoader())
