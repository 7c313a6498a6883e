"""Bad input anywhere in the site gets a clear 4xx, never a 500: a form over the size limit (413, and the error page
does not read the body again), ids past what an id column holds in page URLs (404), a lone surrogate escape or
deeply nested JSON (400)."""
from __future__ import annotations

import json

import pytest

from tests.conftest import make_test_app


@pytest.fixture
def production_client(database_url, tmp_path):
    """The site as served (TESTING off: a fault of ours would be a real 500 page, not a raised exception)."""
    app = make_test_app(database_url, tmp_path / "instance", TESTING=False)
    return app, app.test_client()


def test_a_form_over_the_size_limit_answers_413_signed_in_or_not(app, client, auth, admin, session):
    session.commit()
    limit = app.config["MAX_CONTENT_LENGTH"]
    anonymous = client.post("/login", data={"email": "x" * (limit + 1), "password": "y"})
    assert anonymous.status_code == 413 and "demasiado grande" in anonymous.get_data(as_text=True)
    auth.login_as(admin)
    for url in ("/admin/users/import", "/admin/users", "/logout"):
        response = client.post(url, data={"csrf_token": "x", "campo": "x" * (limit + 1)})
        assert response.status_code == 413, url
        assert "demasiado grande" in response.get_data(as_text=True), url
    upload = client.post("/admin/users/import", data={"file": (__import__("io").BytesIO(b"x" * (limit + 1)), "u.csv")},
                         content_type="multipart/form-data")
    assert upload.status_code == 413


@pytest.mark.parametrize("number", [2 ** 31, 2 ** 63, 10 ** 30])
def test_ids_past_what_an_id_column_holds_in_page_urls_are_not_found(client, auth, admin, session, number):
    session.commit()
    auth.login_as(admin)
    for url in (f"/attempts/{number}", f"/admin/users/{number}", f"/attempts/{number}/review"):
        response = client.get(url)
        assert response.status_code == 404, url


def test_a_lone_surrogate_or_deep_nesting_in_json_is_a_400(client, auth, admin, session):
    session.commit()
    auth.login_as(admin)
    surrogate = client.post("/login", data='{"email": "\\ud800"}', content_type="application/json")
    assert surrogate.status_code == 400 and "sustituto" in surrogate.get_data(as_text=True)
    deep = client.post("/login", data="[" * 50_000 + "]" * 50_000, content_type="application/json")
    assert deep.status_code == 400 and "anidado" in deep.get_data(as_text=True)
    api = client.post("/api/v1/teams", data=json.dumps({"name": "\ud800"}), content_type="application/json")
    assert api.status_code == 400 and api.get_json()["error"]["code"] == "validation_failed"
    api = client.post("/api/v1/teams", data="{\"a\":" * 10_000 + "1" + "}" * 10_000, content_type="application/json")
    assert api.status_code == 400 and "anidado" in api.get_json()["error"]["message"]


def test_the_same_bad_input_is_a_4xx_in_production_mode(production_client):
    app, client = production_client
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert client.post("/login", data={"email": "x" * (limit + 1)}).status_code == 413
    assert client.get(f"/attempts/{2 ** 64}").status_code in (302, 404)  # signed out: to the login page, or not found
    assert client.post("/login", data='["\\udfff"]', content_type="application/json").status_code == 400
    assert client.post("/login", data="[" * 100_000, content_type="application/json").status_code == 400
