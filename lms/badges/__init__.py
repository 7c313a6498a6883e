"""Open Badges for certification records: 2.0 hosted assertions and 3.0 verifiable credentials."""
from flask import Flask


def register(app: Flask) -> None:
    pass
