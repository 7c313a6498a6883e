"""An API client that checks every exchange against the OpenAPI description (openapi-core), and tokens."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from werkzeug.test import EnvironBuilder

from lms.api import services as tokens
from lms.certification import services as certs
from lms.tracks import services as tracks
from lms.api.views import openapi_document
from lms.core.clock import now_utc
from tests.api.helpers import T0, grade, graded_attempt, practice

ALL_SCOPES = list(tokens.SCOPES)

#: (spec path, method, status) of every exchange made through ApiClient in this test run
EXCHANGES: set[tuple[str, str, int]] = set()


@pytest.fixture(scope="session")
def openapi() -> OpenAPI:
    return OpenAPI.from_dict(openapi_document())


def spec_path(rule: str) -> str:
    """Flask's ``/api/v1/users/<int:user_id>`` → the description's ``/users/{user_id}``."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.removeprefix("/api/v1"))


class ApiClient:
    """Calls the API through Flask's test client; validates the request (unless told it is meant to be
    invalid) and always the response, status and body, against the description."""

    def __init__(self, app, client, openapi: OpenAPI, token: str | None):
        self.app, self.client, self.openapi, self.token = app, client, openapi, token

    def request(self, method: str, path: str, *, json=None, data=None, query=None, headers=None, token=...,
                valid_request: bool = True, content_type: str | None = None):
        token = self.token if token is ... else token
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        kwargs = dict(path=path, method=method, query_string=query, headers=headers)
        if json is not None:
            kwargs["json"] = json
        elif data is not None:
            kwargs["data"] = data
            kwargs["content_type"] = content_type or "application/json"
        if valid_request:
            self.openapi.validate_request(WerkzeugOpenAPIRequest(EnvironBuilder(**kwargs).get_request()))
        response = self.client.open(**kwargs)
        self.openapi.validate_response(WerkzeugOpenAPIRequest(EnvironBuilder(**kwargs).get_request()),
                                       WerkzeugOpenAPIResponse(response))
        rule, _args = self.app.url_map.bind("localhost").match(path, method=method, return_rule=True)
        EXCHANGES.add((spec_path(rule.rule), method.lower(), response.status_code))
        return response

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


@pytest.fixture
def make_token(session, admin):
    def _make(scopes=ALL_SCOPES, expires_at=None, name="Integración RR. HH."):
        new = tokens.create_token(session, name=name, scopes=scopes, expires_at=expires_at, created_by=admin, now=now_utc())
        session.commit()
        return new.secret

    return _make


@pytest.fixture
def api(app, client, openapi, make_token) -> ApiClient:
    """A client with a token holding every scope."""
    return ApiClient(app, client, openapi, make_token())


@pytest.fixture
def api_client(app, client, openapi):
    """Build clients with other tokens: ``api_client(token)``."""
    return lambda token: ApiClient(app, client, openapi, token)


@pytest.fixture
def org(session, content, make_user, make_team, team, agent, manager, trainer, admin):
    """Two teams; an agent of each enrolled with quiz attempts, role-plays (released, draft) and a certificate."""
    other_team = make_team("Equipo Sur")
    other = make_user("agent", name="Óscar Sur", teams=[other_team])
    track = tracks.find_track(session, "corto")
    tracks.enroll(session, actor=admin, agent=agent, track=track, start_date=date(2026, 1, 5), now=T0)
    tracks.enroll(session, actor=admin, agent=other, track=track, start_date=date(2026, 1, 5), now=T0)
    passed = graded_attempt(session, agent, 1.0, T0)
    failed = graded_attempt(session, other, 0.0, T0 + timedelta(days=1))
    released = grade(session, practice(session, agent, T0), trainer, "release", 4, T0 + timedelta(hours=3))
    draft = grade(session, practice(session, other, T0), trainer, "draft", 1, T0 + timedelta(hours=4))
    record = certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Migración", now=T0)
    session.commit()
    return dict(team=team, other_team=other_team, agent=agent, other=other, manager=manager, trainer=trainer, admin=admin,
                passed=passed, failed=failed, released=released, draft=draft, record=record)
