"""LTI 1.3 / LTI Advantage tool: launches, deep linking, grade passback and roster import."""
from flask import Flask


def register(app: Flask) -> None:
    pass
