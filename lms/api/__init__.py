"""The REST API for HR and reporting systems: token-authenticated JSON under /api/v1, described by OpenAPI 3."""
from flask import Flask


def register(app: Flask) -> None:
    pass
