"""Keyset paging with opaque cursors, and lists that issue the same number of queries however long the page."""
from __future__ import annotations

import base64
import json
from contextlib import contextmanager
from datetime import date, datetime, timezone

from sqlalchemy import event

from lms.certification import services as certs
from lms.core.db import get_db
from lms.tracks import services as tracks
from tests.api.helpers import grade, graded_attempt, practice

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)


def walk(api, path, **query):
    """Every page of a list: (ids per page, cursors)."""
    pages, cursors, cursor = [], [], None
    while True:
        body = api.get(path, query=dict(query, **({"cursor": cursor} if cursor else {}))).get_json()
        pages.append([row.get("id", row.get("user_id")) for row in body["data"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages, cursors
        cursors.append(cursor)


def test_pages_cover_every_row_once_in_id_order(api, make_user, team):
    made = [make_user("agent", teams=[team]).id for _ in range(7)]
    pages, cursors = walk(api, "/api/v1/users", role="agent", limit=3)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [i for p in pages for i in p] == sorted(made)
    for cursor in cursors:  # opaque, URL-safe
        assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    # the last page is exactly full: no empty page after it
    assert [len(p) for p in walk(api, "/api/v1/users", role="agent", limit=7)[0]] == [7]


def test_rows_inserted_while_paging_are_neither_duplicated_nor_skipped(api, make_user, team):
    first_ids = [make_user("agent", teams=[team]).id for _ in range(4)]
    first = api.get("/api/v1/users", query={"role": "agent", "limit": 2}).get_json()
    assert [u["id"] for u in first["data"]] == first_ids[:2]
    late = make_user("agent", name="Llega tarde", teams=[team]).id  # inserted between two pages
    seen = [u["id"] for u in first["data"]]
    cursor = first["next_cursor"]
    while cursor:
        body = api.get("/api/v1/users", query={"role": "agent", "limit": 2, "cursor": cursor}).get_json()
        seen += [u["id"] for u in body["data"]]
        cursor = body["next_cursor"]
    assert seen == first_ids + [late]
    # the same cursor gives the same page again (stable)
    again = api.get("/api/v1/users", query={"role": "agent", "limit": 2, "cursor": first["next_cursor"]}).get_json()
    assert [u["id"] for u in again["data"]] == first_ids[2:4]


def test_bad_cursors_and_limits_are_refused(api, make_user, team):
    for _ in range(3):
        make_user("agent", teams=[team])
    cursor = api.get("/api/v1/users", query={"role": "agent", "limit": 1}).get_json()["next_cursor"]

    def problem(query):
        response = api.get("/api/v1/users", query=query, valid_request=False)
        assert response.status_code == 400, query
        return response.get_json()["error"]["details"]

    assert "otros filtros" in problem({"role": "manager", "cursor": cursor})["cursor"]
    assert "Cursor no válido" in problem({"role": "agent", "cursor": "%%%"})["cursor"]
    forged = base64.urlsafe_b64encode(json.dumps({"after": "x"}).encode()).decode()
    assert "Cursor no válido" in problem({"cursor": forged})["cursor"]
    assert "200" in problem({"limit": "201"})["limit"] and "limit" in problem({"limit": "0"})
    assert "limit" in problem({"limit": "diez"})
    assert "Parámetro desconocido" in problem({"page": "2"})["page"]
    assert "repetido" in problem({"role": ["agent", "trainer"]})["role"]
    # a different limit with the same filters keeps the cursor valid
    body = api.get("/api/v1/users", query={"role": "agent", "limit": 5, "cursor": cursor}).get_json()
    assert len(body["data"]) == 2


def test_every_list_pages(api, session, content, make_user, team, admin, trainer):
    agents = [make_user("agent", teams=[team]) for _ in range(3)]
    track = tracks.find_track(session, "corto")
    for agent in agents:
        tracks.enroll(session, actor=admin, agent=agent, track=track, start_date=date(2026, 1, 5), now=T0)
        graded_attempt(session, agent, 1.0, T0)
        grade(session, practice(session, agent, T0), trainer, "release", 3, T0)
        certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Carga", now=T0)
    session.commit()
    for path, size in [("/api/v1/enrollments", 3), ("/api/v1/progress", 3), ("/api/v1/quiz-results", 3),
                       ("/api/v1/roleplay-grades", 3), ("/api/v1/certifications", 3), ("/api/v1/teams", 1)]:
        pages, _ = walk(api, path, limit=2)
        flat = [i for p in pages for i in p]
        assert len(flat) == size and flat == sorted(flat) and len(set(flat)) == size, path


@contextmanager
def counting(app):
    statements: list[str] = []
    engine = get_db(app).engine

    def listener(conn, cursor, statement, *args):
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


LISTS = ["/api/v1/users", "/api/v1/teams", "/api/v1/enrollments", "/api/v1/progress", "/api/v1/quiz-results",
         "/api/v1/roleplay-grades", "/api/v1/certifications", "/api/v1/tracks"]


def _build(session, make_user, make_team, admin, trainer, n: int):
    track = tracks.find_track(session, "corto")
    for _ in range(n):
        team = make_team()
        agent = make_user("agent", teams=[team])
        tracks.enroll(session, actor=admin, agent=agent, track=track, start_date=date(2026, 1, 5), now=T0)
        graded_attempt(session, agent, 1.0, T0)
        grade(session, practice(session, agent, T0), trainer, "release", 3, T0)
        certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Carga", now=T0)
    session.commit()


def _counts(app, api) -> dict[str, int]:
    out = {}
    for path in LISTS:
        api.get(path)  # warm: last_used_at is written at most once a minute
        with counting(app) as statements:
            response = api.get(path)
        assert response.status_code == 200 and response.get_json()["data"], path
        out[path] = len(statements)
    return out


def test_lists_issue_a_fixed_number_of_queries(app, api, session, content, make_user, make_team, admin, trainer):
    _build(session, make_user, make_team, admin, trainer, 1)
    small = _counts(app, api)
    _build(session, make_user, make_team, admin, trainer, 5)
    large = _counts(app, api)
    assert large == small
