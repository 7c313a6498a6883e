"""The OpenAPI description is valid, served, complete, and true: every documented response of every
operation is produced for real and validated (status, headers, body) by openapi-core."""
from __future__ import annotations

import json

from openapi_spec_validator import validate

from lms.api.views import OPENAPI_PATH, openapi_document
from lms.core import lazy
from tests.api import conftest
from tests.api.conftest import ApiClient, spec_path

METHODS = ("get", "post", "put", "patch", "delete")


def _operations(document):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def test_the_document_is_valid_openapi_3_1():
    document = openapi_document()
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises with the first problem
    assert OPENAPI_PATH.suffix == ".yaml"


def test_it_is_served_as_json_without_a_token(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert json.loads(response.get_data()) == openapi_document()


def test_every_route_is_described_with_its_scope_and_nothing_else_is(app):
    document = openapi_document()
    described = {(path, method): op for path, method, op in _operations(document)}
    routed = {}
    lazy.load_all(app)  # the real view functions (the API's are imported on its first request)
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint not in ("api.unknown", "api.unknown_root"):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routed[(spec_path(rule.rule), method.lower())] = app.view_functions[rule.endpoint]
    assert set(routed) == set(described)
    for key, view in routed.items():
        security = described[key].get("security")
        scope = getattr(view, "required_scope", None)
        if scope is None:
            assert security == [], key
        else:
            assert security == [{"bearerAuth": [scope]}], key
            for status in ("401", "403"):
                assert status in described[key]["responses"], key
        path_params = {p for p in key[0].split("/") if p.startswith("{")}
        if path_params and scope:
            assert "404" in described[key]["responses"], key


def _documented(document) -> set[tuple[str, str, int]]:
    return {(path, method, int(status)) for path, method, op in _operations(document) for status in op["responses"]}


def test_every_documented_response_is_real(app, client, openapi, make_token, org, session, make_user):
    """Calls every operation for every status it documents; each exchange is validated by ApiClient."""
    conftest.EXCHANGES.clear()
    api = ApiClient(app, client, openapi, make_token())
    agent, team, record = org["agent"], org["team"], org["record"]
    newcomer = make_user("agent", name="Nuevo Ingreso")

    # successes ----------------------------------------------------------------------------------
    assert api.get("/api/v1/openapi.json", token=None).status_code == 200
    assert api.get("/api/v1/users", query={"role": "agent", "limit": 1}).status_code == 200
    created = api.post("/api/v1/users", json={"email": "alta@example.com", "name": "Alta", "role": "agent", "teams": [team.id]})
    assert created.status_code == 201
    user_id = created.get_json()["id"]
    assert api.get(f"/api/v1/users/{user_id}").status_code == 200
    assert api.patch(f"/api/v1/users/{user_id}", json={"name": "Alta Nueva"}).status_code == 200
    assert api.get(f"/api/v1/users/{agent.id}/progress").status_code == 200
    assert api.get("/api/v1/teams").status_code == 200
    new_team = api.post("/api/v1/teams", json={"name": "Equipo Oeste"})
    assert new_team.status_code == 201
    team_id = new_team.get_json()["id"]
    assert api.get(f"/api/v1/teams/{team_id}").status_code == 200
    assert api.post(f"/api/v1/teams/{team_id}/members", json={"user_id": user_id}).status_code == 201
    assert api.post(f"/api/v1/teams/{team_id}/members", json={"user_id": user_id}).status_code == 200
    assert api.delete(f"/api/v1/teams/{team_id}/members/{user_id}").status_code == 204
    assert api.get("/api/v1/tracks").status_code == 200
    assert api.get("/api/v1/enrollments", query={"limit": 1}).status_code == 200
    enrolled = api.post("/api/v1/enrollments", json={"user_id": newcomer.id, "track": "corto", "start_date": "2026-02-02"})
    assert enrolled.status_code == 201
    assert api.post("/api/v1/enrollments", json={"user_id": newcomer.id, "track": "corto", "start_date": "2026-02-09"}).status_code == 200
    assert api.get(f"/api/v1/enrollments/{enrolled.get_json()['id']}").status_code == 200
    assert api.get("/api/v1/progress", query={"limit": 1}).status_code == 200
    assert api.get("/api/v1/quiz-results", query={"submitted_after": "2026-01-01T00:00:00Z"}).status_code == 200
    assert api.get("/api/v1/roleplay-grades", query={"released_after": "2026-01-01"}).status_code == 200
    assert api.get("/api/v1/certifications", query={"status": "revoked"}).status_code == 200
    assert api.get(f"/api/v1/certifications/{record.id}").status_code == 200
    assert api.get(f"/api/v1/certifications/by-code/{record.code}").status_code == 200

    # conflicts ----------------------------------------------------------------------------------
    assert api.post("/api/v1/users", json={"email": "alta@example.com", "name": "Otra", "role": "agent"}).status_code == 409
    assert api.post("/api/v1/teams", json={"name": "equipo oeste"}).status_code == 409

    # 400, 401, 403 and 404 for every operation ----------------------------------------------------
    document = openapi_document()
    other_scope_token = make_token(scopes=["certifications:read"])
    no_scope_token = make_token(scopes=["users:read"])
    examples = {"{user_id}": str(agent.id), "{team_id}": str(team.id), "{enrollment_id}": "1", "{record_id}": str(record.id),
                "{code}": record.code}
    missing = {"{user_id}": "999999", "{team_id}": "999999", "{enrollment_id}": "999999", "{record_id}": "999999",
               "{code}": "no-existe"}
    for path, method, op in _operations(document):
        url = "/api/v1" + path
        for name, value in examples.items():
            url = url.replace(name, value)
        body = {"json": {"nombre": "desconocido"}} if method in ("post", "patch") else {}
        bad = {"data": "no es json"} if method in ("post", "patch") else {"query": {"desconocido": "1"}}
        responses = op["responses"]
        assert api.request(method.upper(), url, valid_request=False, **bad).status_code == 400, (path, method)
        if "401" in responses:
            assert api.request(method.upper(), url, token=None, valid_request=False, **body).status_code == 401, (path, method)
            assert api.request(method.upper(), url, token="lms_caducado", valid_request=False, **body).status_code == 401, (path, method)
        if "403" in responses:
            scope = op["security"][0]["bearerAuth"][0]
            token = other_scope_token if scope != "certifications:read" else no_scope_token
            assert api.request(method.upper(), url, token=token, valid_request=False, **body).status_code == 403, (path, method)
        if "404" in responses:
            url404 = "/api/v1" + path
            for name, value in missing.items():
                url404 = url404.replace(name, value)
            found_body = {"json": {"user_id": agent.id}} if path.endswith("/members") else ({"json": {"name": "X"}} if method == "patch" else {})
            assert api.request(method.upper(), url404, **found_body).status_code == 404, (path, method)

    assert conftest.EXCHANGES == _documented(document)
