"""xAPI statements for learning events, delivered to a configured LRS through the durable outbox."""
from flask import Flask


def register(app: Flask) -> None:
    pass
