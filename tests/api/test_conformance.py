"""What fuzzing the API from its own OpenAPI document found: no 500 for big integers, team names unique whatever
their accents and capitals, every answer under /api/ in the documented error shape, and a description that says
exactly what the code accepts."""
from __future__ import annotations

import pytest

from lms.accounts import services as accounts
from lms.api.views import openapi_document

BIG = 2 ** 31  # one past the largest id an id column holds (PostgreSQL integer)
LONG = 2 ** 63  # past 64 bits (SQLite's limit)
HUGE = 10 ** 30


def _error(response) -> dict:
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]) <= {"code", "message", "details"}
    codes = openapi_document()["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
    assert body["error"]["code"] in codes, body
    return body["error"]


@pytest.fixture
def auth(make_token):
    return {"Authorization": f"Bearer {make_token()}"}


@pytest.mark.parametrize("number", [BIG, LONG, HUGE])
def test_integers_beyond_what_an_id_column_holds_are_a_clear_4xx_everywhere(client, auth, team, number):
    for url in (f"/api/v1/users/{number}", f"/api/v1/teams/{number}", f"/api/v1/enrollments/{number}",
                f"/api/v1/certifications/{number}", f"/api/v1/users/{number}/progress",
                f"/api/v1/teams/{team.id}/members/{number}"):
        method = client.delete if url.endswith(f"/members/{number}") else client.get
        response = method(url, headers=auth)
        assert response.status_code == 404 and _error(response)["code"] == "not_found", url
    for url in (f"/api/v1/users?team={number}", f"/api/v1/progress?team={number}", f"/api/v1/enrollments?user_id={number}",
                f"/api/v1/quiz-results?user_id={number}", f"/api/v1/users?limit={number}"):
        response = client.get(url, headers=auth)
        assert response.status_code == 400 and _error(response)["code"] == "validation_failed", url
    for url, body in ((f"/api/v1/teams/{team.id}/members", {"user_id": number}),
                      ("/api/v1/enrollments", {"user_id": number, "track": "corto", "start_date": "2026-01-05"}),
                      ("/api/v1/users", {"email": "big@example.com", "name": "Big", "role": "agent", "teams": [number]})):
        response = client.post(url, json=body, headers=auth)
        assert response.status_code == 400 and _error(response)["code"] == "validation_failed", url


def test_an_integral_number_is_an_integer_id(client, auth, team, agent):
    response = client.post(f"/api/v1/teams/{team.id}/members", json={"user_id": float(agent.id)}, headers=auth)
    assert response.status_code in (200, 201), response.get_json()
    assert client.post(f"/api/v1/teams/{team.id}/members", json={"user_id": agent.id + 0.5},
                       headers=auth).status_code == 400


def test_team_names_are_unique_whatever_their_accents_and_capitals(client, auth, session):
    first = client.post("/api/v1/teams", json={"name": "Equipo Ñandú"}, headers=auth)
    assert first.status_code == 201
    for clash in ("EQUIPO ÑANDÚ", "equipo ñandu", "Equipo  Nandú ", "EQUIPO NANDU"):
        response = client.post("/api/v1/teams", json={"name": clash}, headers=auth)
        assert response.status_code == 409 and _error(response)["code"] == "conflict", clash
    assert accounts.find_team_by_name(session, "equipo nandu").name == "Equipo Ñandú"
    listed = client.get("/api/v1/teams", query_string={"name": "EQUIPO ÑANDU"}, headers=auth).get_json()["data"]
    assert [t["name"] for t in listed] == ["Equipo Ñandú"]
    assert client.post("/api/v1/teams", json={"name": "x" * 201}, headers=auth).status_code == 400


def test_every_answer_under_api_is_in_the_documented_error_shape(client, auth, app):
    nul = client.get("/api/v1/users?email=a%00b", headers=auth)
    assert nul.status_code == 400
    error = _error(nul)
    assert error["code"] == "validation_failed" and "nulo" in error["message"]

    for method in ("TRACE", "PROPFIND", "CONNECT"):
        response = client.open("/api/v1/users", method=method, headers=auth)
        assert response.status_code == 405 and _error(response)["code"] == "method_not_allowed", method
        assert response.headers["Allow"] == "GET, POST", method
    response = client.open("/api/v1/teams/1/members/2", method="TRACE", headers=auth)
    assert response.status_code == 405 and response.headers["Allow"] == "DELETE"

    for path in ("/api/v1/users%0A", "/api/v1/%0Ausers", "/api/v1/users/1%0A", "/api/%0D%0A"):
        response = client.get(path, headers=auth)
        assert response.status_code == 404 and _error(response)["code"] == "not_found", path


def test_patch_users_refuses_null_for_name_and_role(client, auth, agent):
    for field in ("name", "role"):
        response = client.patch(f"/api/v1/users/{agent.id}", json={field: None}, headers=auth)
        assert response.status_code == 400 and field in _error(response)["details"], field
    assert client.patch(f"/api/v1/users/{agent.id}", json={"locale": None}, headers=auth).status_code == 200


def test_the_description_states_the_limits_the_code_applies():
    doc = openapi_document()
    params = doc["components"]["parameters"]
    for name in ("TeamFilter", "UserIdFilter", "UserId", "TeamId"):
        assert params[name]["schema"]["maximum"] == 2 ** 31 - 1, name
    users = doc["paths"]["/users"]
    email = next(p for p in users["get"]["parameters"] if p.get("name") == "email")["schema"]
    assert email["minLength"] == 1 and email["maxLength"] == 254
    create = doc["components"]["schemas"]["UserCreate"]["properties"]["email"]
    assert create["format"] == "email" and create["minLength"] >= 3
    for path, op in (("/enrollments", "get"), ("/quiz-results", "get"), ("/roleplay-grades", "get"), ("/certifications", "get"),
                     ("/teams", "get")):
        for param in doc["paths"][path][op]["parameters"]:
            schema = param.get("schema") or {}
            if schema.get("type") == "string" and param.get("name") != "cursor":
                assert schema.get("minLength") == 1 and schema.get("maxLength"), (path, param["name"])
