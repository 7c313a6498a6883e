"""Every resource of the API, reads and writes, over real HTTP and a real database (responses checked against the description)."""
from __future__ import annotations

from datetime import timedelta

from lms.accounts import services as accounts
from lms.certification import services as certs
from lms.core.clock import now_utc
from lms.roleplays import services as roleplays
from lms.tracks import services as tracks
from tests.api.helpers import T0


# Users -------------------------------------------------------------------------------------------

def test_users_list_filters(api, org, session):
    agent, other, team = org["agent"], org["other"], org["team"]
    everyone = api.get("/api/v1/users").get_json()
    assert {agent.id, other.id, org["admin"].id} <= {u["id"] for u in everyone["data"]} and everyone["next_cursor"] is None
    agents = api.get("/api/v1/users", query={"role": "agent"}).get_json()["data"]
    assert {u["id"] for u in agents} == {agent.id, other.id}
    in_team = api.get("/api/v1/users", query={"team": team.id}).get_json()["data"]
    assert {u["id"] for u in in_team} == {agent.id, org["manager"].id, org["trainer"].id}
    (found,) = api.get("/api/v1/users", query={"email": agent.email.upper()}).get_json()["data"]
    assert found == {
        "id": agent.id, "email": agent.email, "name": "Lucía Agente", "role": "agent", "active": True, "locale": None,
        "created_at": agent.created_at.isoformat(), "last_login_at": None,
        "teams": [{"id": team.id, "name": "Equipo Norte", "membership": "agent"}],
    }
    accounts.change_user(session, other, is_active=False)
    session.commit()
    inactive = api.get("/api/v1/users", query={"active": "false"}).get_json()["data"]
    assert [u["id"] for u in inactive] == [other.id]


def test_get_user_and_not_found(api, org):
    body = api.get(f"/api/v1/users/{org['other'].id}").get_json()
    assert body["name"] == "Óscar Sur" and body["teams"] == [{"id": org["other_team"].id, "name": "Equipo Sur", "membership": "agent"}]
    missing = api.get("/api/v1/users/999999")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_create_user_provisions_an_agent_who_can_sign_in(api, org, session, auth):
    response = api.post("/api/v1/users", json={
        "email": " Nueva.Agente@Example.com ", "name": "Nueva Agente", "role": "agent", "teams": [org["team"].id],
        "password": "una frase bien larga", "locale": "en",
    })
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/users/{body['id']}")
    assert body["email"] == "nueva.agente@example.com" and body["locale"] == "en" and body["active"] is True
    assert body["teams"] == [{"id": org["team"].id, "name": "Equipo Norte", "membership": "agent"}]
    assert "password" not in body
    assert auth.login("nueva.agente@example.com", "una frase bien larga").status_code == 302
    user = accounts.find_user_by_email(session, "nueva.agente@example.com")
    assert user.role == "agent" and accounts.can_supervise(session, org["manager"], user)


def test_create_user_inactive_and_without_password(api, org, session):
    body = api.post("/api/v1/users", json={"email": "baja@example.com", "name": "Baja", "role": "trainer", "active": False}).get_json()
    assert body["active"] is False and body["role"] == "trainer" and body["teams"] == []
    assert accounts.get_user(session, body["id"]).password_hash is None


def test_create_user_validation_reports_every_field(api, org):
    response = api.post("/api/v1/users", json={
        "email": "no-es-correo", "role": "jefe", "teams": [999999], "password": "123", "color": "rojo",
    }, valid_request=False)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert set(error["details"]) == {"email", "name", "role", "teams", "password", "color"}
    assert "no es una dirección de correo válida" in error["details"]["email"]
    assert error["details"]["name"] == "Campo obligatorio."
    assert "agent, trainer, manager, admin" in error["details"]["role"]
    assert "999999" in error["details"]["teams"]
    assert "al menos 8" in error["details"]["password"]
    assert "Campo desconocido" in error["details"]["color"]


def test_create_user_conflict_and_admin_teams(api, org):
    response = api.post("/api/v1/users", json={"email": org["agent"].email, "name": "Otra", "role": "agent"})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "conflict"
    assert org["agent"].email in response.get_json()["error"]["message"]
    response = api.post("/api/v1/users", json={"email": "jefa@example.com", "name": "Jefa", "role": "admin", "teams": [org["team"].id]})
    assert response.status_code == 400 and "administradores" in response.get_json()["error"]["details"]["teams"]


def test_malformed_json_body(api, org):
    for kwargs in ({"data": "{no es json"}, {"data": "[1, 2]"}, {"data": "email=a", "content_type": "application/x-www-form-urlencoded"}):
        response = api.post("/api/v1/users", valid_request=False, **kwargs)
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_json", kwargs


def test_update_user_changes_only_what_is_given_and_deactivation_ends_sessions(api, org, session, auth, client):
    agent = org["agent"]
    auth.login_as(agent)
    assert client.get("/").status_code == 200
    body = api.patch(f"/api/v1/users/{agent.id}", json={"name": "Lucía Pérez", "locale": "es"}).get_json()
    assert body["name"] == "Lucía Pérez" and body["role"] == "agent" and body["active"] is True and body["locale"] == "es"
    body = api.patch(f"/api/v1/users/{agent.id}", json={"active": False, "locale": None}).get_json()
    assert body["active"] is False and body["name"] == "Lucía Pérez" and body["locale"] is None
    assert client.get("/").status_code == 302  # the agent's browser session ended
    assert api.patch(f"/api/v1/users/{agent.id}", json={"active": True}).get_json()["active"] is True
    bad = api.patch(f"/api/v1/users/{agent.id}", json={"role": "jefe", "email": "x@example.com", "active": "sí"}, valid_request=False)
    assert bad.status_code == 400 and set(bad.get_json()["error"]["details"]) == {"role", "email", "active"}
    assert api.patch("/api/v1/users/999999", json={"name": "X"}).status_code == 404


# Teams -------------------------------------------------------------------------------------------

def test_teams_list_get_create(api, org):
    names = [t["name"] for t in api.get("/api/v1/teams").get_json()["data"]]
    assert names == ["Equipo Norte", "Equipo Sur"]
    (found,) = api.get("/api/v1/teams", query={"name": "equipo sur"}).get_json()["data"]
    assert found["id"] == org["other_team"].id
    detail = api.get(f"/api/v1/teams/{org['team'].id}").get_json()
    assert [(m["membership"], m["name"]) for m in detail["members"]] == [
        ("agent", "Lucía Agente"), ("manager", "Marta Gerente"), ("trainer", "Tomás Formador")]
    created = api.post("/api/v1/teams", json={"name": "  Equipo Este "})
    assert created.status_code == 201 and created.get_json()["name"] == "Equipo Este" and created.get_json()["members"] == []
    assert api.get(created.headers["Location"]).get_json()["name"] == "Equipo Este"
    duplicate = api.post("/api/v1/teams", json={"name": "equipo este"})
    assert duplicate.status_code == 409
    empty = api.post("/api/v1/teams", json={"name": "  "}, valid_request=False)
    assert empty.status_code == 400 and "name" in empty.get_json()["error"]["details"]
    assert api.get("/api/v1/teams/999999").status_code == 404


def test_team_members_add_and_remove(api, org, session):
    team, other = org["team"], org["other"]
    added = api.post(f"/api/v1/teams/{team.id}/members", json={"user_id": other.id})
    assert added.status_code == 201 and added.get_json() == {"team_id": team.id, "user_id": other.id, "membership": "agent"}
    again = api.post(f"/api/v1/teams/{team.id}/members", json={"user_id": other.id})
    assert again.status_code == 200 and again.get_json() == added.get_json()
    assert other.id in {m["id"] for m in api.get(f"/api/v1/teams/{team.id}").get_json()["members"]}
    assert accounts.can_supervise(session, org["manager"], other)
    assert api.delete(f"/api/v1/teams/{team.id}/members/{other.id}").status_code == 204
    assert other.id not in {m["id"] for m in api.get(f"/api/v1/teams/{team.id}").get_json()["members"]}
    gone = api.delete(f"/api/v1/teams/{team.id}/members/{other.id}")
    assert gone.status_code == 404 and "no es miembro" in gone.get_json()["error"]["message"]
    admin = api.post(f"/api/v1/teams/{team.id}/members", json={"user_id": org["admin"].id})
    assert admin.status_code == 400 and "user_id" in admin.get_json()["error"]["details"]
    nobody = api.post(f"/api/v1/teams/{team.id}/members", json={"user_id": 999999})
    assert nobody.status_code == 400 and "999999" in nobody.get_json()["error"]["details"]["user_id"]
    assert api.post("/api/v1/teams/999999/members", json={"user_id": other.id}).status_code == 404


# Tracks and enrollments --------------------------------------------------------------------------

def test_tracks_catalogue(api, org):
    body = api.get("/api/v1/tracks").get_json()
    corto = next(t for t in body["data"] if t["slug"] == "corto")
    assert corto["duration_days"] == 12 and [m["slug"] for m in corto["modules"]] == ["semana-a", "semana-b"]
    assert body["next_cursor"] is None


def test_enrollments_list_and_create(api, org, session, make_user):
    agent, other = org["agent"], org["other"]
    listed = api.get("/api/v1/enrollments").get_json()["data"]
    assert {(e["user_id"], e["track"]["slug"], e["start_date"]) for e in listed} == {
        (agent.id, "corto", "2026-01-05"), (other.id, "corto", "2026-01-05")}
    only_team = api.get("/api/v1/enrollments", query={"team": org["other_team"].id}).get_json()["data"]
    assert [e["user_id"] for e in only_team] == [other.id]
    assert api.get("/api/v1/enrollments", query={"track": "largo"}).get_json()["data"] == []
    newcomer = make_user("agent", teams=[org["team"]])
    created = api.post("/api/v1/enrollments", json={"user_id": newcomer.id, "track": "largo", "start_date": "2026-02-02"})
    assert created.status_code == 201
    body = created.get_json()
    assert body["track"] == {"slug": "largo", "title": "Itinerario largo"} and body["enrolled_by_id"] is None
    assert api.get(created.headers["Location"]).get_json() == body
    assert [e.track.slug for e in tracks.enrollments_of(session, newcomer)] == ["largo"]
    same = api.post("/api/v1/enrollments", json={"user_id": newcomer.id, "track": "largo", "start_date": "2026-02-02"})
    assert same.status_code == 200 and same.get_json()["id"] == body["id"]
    moved = api.post("/api/v1/enrollments", json={"user_id": newcomer.id, "track": "largo", "start_date": "2026-03-02"})
    assert moved.status_code == 200 and moved.get_json()["start_date"] == "2026-03-02"
    assert api.get(f"/api/v1/users/{newcomer.id}/progress").get_json()["tracks"][0]["start_date"] == "2026-03-02"


def test_enrollment_validation(api, org):
    response = api.post("/api/v1/enrollments", json={"user_id": org["manager"].id, "track": "nada", "start_date": "02/02/2026"},
                        valid_request=False)
    assert response.status_code == 400
    details = response.get_json()["error"]["details"]
    assert set(details) == {"user_id", "track", "start_date"}
    assert "no es agente" in details["user_id"] and "nada" in details["track"] and "AAAA-MM-DD" in details["start_date"]
    far = api.post("/api/v1/enrollments", json={"user_id": org["agent"].id, "track": "largo", "start_date": "1999-01-01"})
    assert far.status_code == 400 and "fuera de rango" in far.get_json()["error"]["message"]
    assert api.get("/api/v1/enrollments/999999").status_code == 404


# Progress ----------------------------------------------------------------------------------------

def test_progress_of_one_agent_and_of_a_team(api, org, monkeypatch):
    agent = org["agent"]
    body = api.get(f"/api/v1/users/{agent.id}/progress").get_json()
    assert body["user_id"] == agent.id and body["email"] == agent.email
    (track,) = body["tracks"]
    assert track["track"]["slug"] == "corto" and track["start_date"] == "2026-01-05" and track["end_date"] == "2026-01-16"
    assert track["state"] == body["state"] and track["state"] in ("overdue", "completed")
    assert track["done"] == 1 and track["total"] > 1 and track["percent"] == int(100 / track["total"])  # the passed quiz
    assert track["last_activity_at"] == (T0 + timedelta(minutes=2)).isoformat() == body["last_activity_at"]
    assert [m["slug"] for m in track["modules"]] == ["semana-a", "semana-b"] and track["modules"][0]["due_date"] == "2026-01-09"
    page = api.get("/api/v1/progress", query={"team": org["other_team"].id}).get_json()
    assert [a["user_id"] for a in page["data"]] == [org["other"].id] and page["data"][0]["state"] == "overdue"
    everyone = api.get("/api/v1/progress").get_json()["data"]
    assert {a["user_id"] for a in everyone} == {agent.id, org["other"].id}
    staff = api.get(f"/api/v1/users/{org['manager'].id}/progress").get_json()
    assert staff["state"] == "not_enrolled" and staff["tracks"] == []


# Results -----------------------------------------------------------------------------------------

def test_quiz_results_with_filters(api, org):
    passed, failed = org["passed"], org["failed"]
    rows = api.get("/api/v1/quiz-results").get_json()["data"]
    assert [r["id"] for r in rows] == [passed.id, failed.id]
    first = rows[0]
    assert first["user_id"] == org["agent"].id and first["quiz"] == {"slug": "evaluacion-a", "title": "Evaluación de la semana A"}
    assert first["state"] == "graded" and first["passed"] is True and first["percent"] == 100 and first["pass_mark"] == 80
    assert first["number"] == 1 and first["submitted_at"] == (T0 + timedelta(minutes=2)).isoformat()
    assert rows[1]["passed"] is False
    def ids(**query):
        return [r["id"] for r in api.get("/api/v1/quiz-results", query=query).get_json()["data"]]
    assert ids(passed="false") == [failed.id]
    assert ids(user_id=org["agent"].id) == [passed.id]
    assert ids(team=org["other_team"].id) == [failed.id]
    assert ids(submitted_after="2026-01-10") == [failed.id]
    assert ids(submitted_after="2026-01-09T09:01:00+00:00") == [passed.id, failed.id]
    assert ids(quiz="repaso") == [] and ids(state="abandoned") == []
    bad = api.get("/api/v1/quiz-results", query={"state": "hecho", "submitted_after": "ayer", "passed": "1"}, valid_request=False)
    assert bad.status_code == 400 and set(bad.get_json()["error"]["details"]) == {"state", "submitted_after", "passed"}


def test_roleplay_grades_only_released(api, org, session):
    rows = api.get("/api/v1/roleplay-grades").get_json()["data"]
    released = org["released"]
    assert [r["id"] for r in rows] == [released.id]  # the draft is not there
    (row,) = rows
    assert row["user_id"] == org["agent"].id and row["scenario"]["slug"] == "chat-retraso" and row["passed"] is True
    assert row["score"] == 100 and row["grader_id"] == org["trainer"].id and row["overall_comment"] == "Bien."
    assert row["criteria"] == [{"id": "tiempo", "title": row["criteria"][0]["title"], "level": 4, "comment": "Rápida."}]
    assert row["released_at"] == (T0 + timedelta(hours=3)).isoformat()
    # releasing the draft makes it appear
    submission = roleplays.get_submission(session, org["draft"].submission_id)
    roleplays.save_grade(session, submission, actor=org["trainer"], levels={"tiempo": 1}, comments={}, overall="", inline=[],
                         action="release", expected_revision=org["draft"].revision, now=T0 + timedelta(days=2))
    session.commit()
    later = api.get("/api/v1/roleplay-grades", query={"released_after": "2026-01-10"}).get_json()["data"]
    assert [(r["id"], r["passed"]) for r in later] == [(org["draft"].id, False)]
    assert [r["id"] for r in api.get("/api/v1/roleplay-grades", query={"passed": "true", "scenario": "chat-retraso"}).get_json()["data"]] == [released.id]


# Certifications ------------------------------------------------------------------------------------

def test_certifications_list_get_and_by_code(api, org, session, admin):
    record = org["record"]
    (row,) = api.get("/api/v1/certifications").get_json()["data"]
    assert row["id"] == record.id and row["user_id"] == org["agent"].id and row["code"] == record.code
    assert row["certification"]["slug"] == "proceso" and row["issued_by_id"] == admin.id and row["issue_reason"] == "Migración"
    assert row["verification_url"] == f"http://127.0.0.1:5000/verify/{record.code}"
    assert row["issued_at"] == T0.isoformat() and row["status"] in ("active", "expired")
    assert api.get(f"/api/v1/certifications/{record.id}").get_json() == row
    assert api.get(f"/api/v1/certifications/by-code/{record.code}").get_json() == row
    assert api.get("/api/v1/certifications/by-code/no-existe").status_code == 404
    assert api.get("/api/v1/certifications/999999").status_code == 404
    status = certs.effective_status(record, now_utc())
    assert [r["id"] for r in api.get("/api/v1/certifications", query={"status": status}).get_json()["data"]] == [record.id]
    certs.revoke(session, record, actor=admin, reason="Error de carga", now=now_utc())
    session.commit()
    revoked = api.get("/api/v1/certifications", query={"status": "revoked", "user_id": org["agent"].id}).get_json()["data"]
    assert [(r["id"], r["status"], r["revoked_reason"]) for r in revoked] == [(record.id, "revoked", "Error de carga")]
    assert api.get("/api/v1/certifications", query={"status": "active"}).get_json()["data"] == []
    assert api.get("/api/v1/certifications", query={"team": org["other_team"].id}).get_json()["data"] == []
    assert api.get("/api/v1/certifications", query={"issued_after": "2026-01-10"}).get_json()["data"] == []
    assert api.get("/api/v1/certifications", query={"certification": "proceso"}).get_json()["data"] != []


def test_an_active_record_past_its_date_is_listed_as_expired(api, org, session, admin):
    record = org["record"]
    record.expires_at = now_utc() - timedelta(days=1)  # the expiry job has not run yet
    session.commit()
    assert api.get(f"/api/v1/certifications/{record.id}").get_json()["status"] == "expired"
    assert [r["id"] for r in api.get("/api/v1/certifications", query={"status": "expired"}).get_json()["data"]] == [record.id]
    assert api.get("/api/v1/certifications", query={"status": "active"}).get_json()["data"] == []


def test_progress_is_read_on_each_agents_own_day(api, org, session, monkeypatch):
    """At 02:00 UTC it is still yesterday evening in Bogotá: an agent there is not yet overdue on what falls due
    in their own day, while one in Madrid (03:00, the next day) already is."""
    from datetime import date, datetime, timezone

    from lms.api import views

    other = org["other"]
    def state_on(day):
        (row,) = tracks.team_overview(session, [other], day)
        return row.state
    day = next(d for d in (date(2026, 1, 5) + timedelta(days=n) for n in range(14)) if state_on(d) != state_on(d + timedelta(days=1)))
    monkeypatch.setattr(views, "now_utc", lambda: datetime.combine(day + timedelta(days=1), datetime.min.time(), timezone.utc) + timedelta(hours=2))
    madrid = api.get(f"/api/v1/users/{other.id}/progress").get_json()["state"]
    accounts.get_user(session, other.id).time_zone = "America/Bogota"
    session.commit()
    bogota = api.get(f"/api/v1/users/{other.id}/progress").get_json()["state"]
    listed = {a["user_id"]: a["state"] for a in api.get("/api/v1/progress").get_json()["data"]}
    assert (madrid, bogota) == (state_on(day + timedelta(days=1)), state_on(day)) and madrid != bogota
    assert listed[other.id] == bogota
