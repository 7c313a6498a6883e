"""The API's write endpoints honour ``Idempotency-Key``: a repeat gets the first answer, not a second write."""
from __future__ import annotations

from sqlalchemy import func, select

from lms.accounts.models import Team


def test_a_repeated_create_with_its_key_answers_the_same_and_creates_once(client, session, make_token):
    token = make_token(scopes=["teams:write", "teams:read", "enrollments:write"])
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "alta-equipo-0001"}
    first = client.post("/api/v1/teams", json={"name": "Equipo Idempotente"}, headers=headers)
    assert first.status_code == 201, first.get_json()
    again = client.post("/api/v1/teams", json={"name": "Equipo Idempotente"}, headers=headers)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"] and again.headers["Idempotent-Replayed"] == "true"
    assert session.scalar(select(func.count()).select_from(Team).where(Team.name == "Equipo Idempotente")) == 1
    # another token cannot replay it: the key is unknown to it
    other = make_token(scopes=["teams:write"], name="Otra integración")
    fresh = client.post("/api/v1/teams", json={"name": "Equipo de otra"}, headers={"Authorization": f"Bearer {other}",
                                                                                "Idempotency-Key": "alta-equipo-0001"})
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh.headers
    # the same key on another endpoint is refused
    reused = client.post("/api/v1/enrollments", json={}, headers=headers)
    assert reused.status_code == 422 and reused.get_json()["error"] == "idempotency_key_reused"
    bad = client.post("/api/v1/teams", json={"name": "X"}, headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "no"})
    assert bad.status_code == 400 and bad.get_json()["error"] == "invalid_idempotency_key"
