"""Fixtures for the xAPI tests: a real LRS stand-in on 127.0.0.1 and the site configured to use it."""
from __future__ import annotations

from datetime import date

import pytest

from lms.tracks import services as tracks
from tests.xapi.helpers import T0, configure
from tests.xapi.lrs import LRS


@pytest.fixture
def lrs():
    server = LRS().start()
    yield server
    server.stop()


@pytest.fixture
def xapi(app, monkeypatch, lrs):
    """Statements recorded and delivered to the ``lrs`` fixture."""
    configure(app, monkeypatch, lrs.endpoint)
    return lrs


@pytest.fixture
def enrolled(session, content, agent, manager):
    """The agent in the short track (modules semana-a and semana-b)."""
    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 1, 5), now=T0)
    session.commit()
    return agent
