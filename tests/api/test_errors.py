"""Under /api every answer is JSON in one shape, for URLs and methods the description does not have too."""
from __future__ import annotations

from lms.api.views import openapi_document
from tests.conftest import make_test_app


def _error(response) -> dict:
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:200]
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]) <= {"code", "message", "details"}
    return body["error"]


def test_unknown_urls_under_api_answer_json_404(client, make_token):
    headers = {"Authorization": f"Bearer {make_token()}"}
    for url in ("/api/v1/nada", "/api/v2/users", "/api/", "/api/v1/users/abc", "/api/v1/users/"):
        response = client.get(url, headers=headers)
        assert response.status_code == 404 and _error(response)["code"] == "not_found", url
    assert client.post("/api/v1/nada", json={}).status_code == 404


def test_a_known_url_with_another_method_answers_json_405_with_allow(client, agent):
    response = client.delete("/api/v1/users")
    assert response.status_code == 405 and _error(response)["code"] == "method_not_allowed"
    assert response.headers["Allow"] == "GET, POST"
    response = client.put(f"/api/v1/users/{agent.id}", json={})
    assert response.status_code == 405 and response.headers["Allow"] == "GET, PATCH"
    assert client.post("/api/v1/openapi.json").headers["Allow"] == "GET"


def test_a_body_over_the_limit_answers_json_413(client, make_token, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/api/v1/teams", data="x" * (limit + 1), content_type="application/json",
                           headers={"Authorization": f"Bearer {make_token()}"})
    assert response.status_code == 413 and _error(response)["code"] == "payload_too_large"


def test_a_fault_of_ours_answers_json_500(tmp_path):
    """A real fault (the database is unreachable) in production mode: JSON, not the HTML error page."""
    app = make_test_app(f"sqlite:///{tmp_path}/no/such/dir/lms.sqlite3", tmp_path, TESTING=False)
    response = app.test_client().get("/api/v1/users", headers={"Authorization": "Bearer lms_x"})
    assert response.status_code == 500 and _error(response)["code"] == "internal_error"


def test_every_error_code_is_in_the_description():
    codes = set(openapi_document()["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"])
    assert {"invalid_json", "validation_failed", "unauthorized", "invalid_token", "insufficient_scope", "not_found",
            "method_not_allowed", "conflict", "payload_too_large", "internal_error"} <= codes
