"""A real local SMTP server for the suite's mail tests (aiosmtpd): what it receives, and a free port for it."""
from __future__ import annotations

import socket


class Inbox:
    """aiosmtpd handler keeping every message received as (recipients, text)."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
