"""What a production LRS showed: a 409 is not proof of delivery (the stored statement is fetched and compared),
statement ids are unique to this installation, the site's extension IRIs resolve, and statements carry their
version. Against the local LRS stand-in over real HTTP (tests/xapi/lrs.py)."""
from __future__ import annotations

import copy

from lms.tracks import services as tracks
from lms.xapi import site_from
from lms.xapi.statements import Site, statement_id
from tests.xapi.helpers import SITE, T0, deliver, queued, statements


def _complete(session, agent, slug="a-uno"):
    tracks.complete_lesson(session, agent, tracks.get_lesson(session, slug), now=T0)
    session.commit()


def test_a_409_for_the_same_statement_is_delivered(app, session, xapi, enrolled):
    _complete(session, enrolled)
    (ours,) = statements(session)
    xapi.statements[ours["id"]] = copy.deepcopy(ours)  # stored before (the answer to an earlier PUT was lost)
    assert deliver(app, session) == (1, 0)
    (message,) = queued(session)
    assert message.status == "sent" and message.last_error is None
    assert ("GET /xapi/statements", ours["id"]) in xapi.requests  # it was checked, not assumed


def test_a_409_for_another_statement_is_a_visible_failure(app, session, client, auth, admin, xapi, enrolled):
    _complete(session, enrolled)
    (ours,) = statements(session)
    other = copy.deepcopy(ours)
    other["actor"] = {"objectType": "Agent", "name": "Otra instalación", "account": {"homePage": "https://otra.example", "name": "9"}}
    xapi.statements[ours["id"]] = other  # another statement already holds our id
    assert deliver(app, session) == (0, 1)
    (message,) = queued(session)
    assert message.status == "failed" and "different statement" in message.last_error
    session.commit()
    auth.login_as(admin)
    page = client.get("/manage/xapi/").get_data(as_text=True)
    assert ours["id"] in page and "different statement" in page


def test_statement_ids_are_unique_to_the_installation(app, session, xapi, enrolled, tmp_path):
    one, two = Site(base_url=SITE, installation="a" * 32), Site(base_url=SITE, installation="b" * 32)
    assert statement_id(one, "lesson-completed:1:1") != statement_id(two, "lesson-completed:1:1")
    assert statement_id(one, "lesson-completed:1:1") == statement_id(Site(base_url=SITE, installation="a" * 32), "lesson-completed:1:1")
    site = site_from(app.config)
    assert site.installation and len(site.installation) >= 32
    assert site_from(app.config).installation == site.installation  # stable across calls (kept in the instance folder)
    _complete(session, enrolled)
    (ours,) = statements(session)
    assert ours["id"] == statement_id(site, f"lesson-completed:{enrolled.id}:{tracks.get_lesson(session, 'a-uno').id}")


def test_extension_iris_resolve_and_statements_carry_their_version(app, session, client, xapi, enrolled):
    _complete(session, enrolled)
    (ours,) = statements(session)
    assert ours["version"] == "1.0.3"
    assert deliver(app, session) == (1, 0) and xapi.rejected == []
    site = site_from(app.config)
    for name in ("expires-at", "verification-url", "renewal"):
        iri = site.extension(name)
        assert iri.startswith(SITE + "/")
        response = client.get(iri.removeprefix(SITE), headers={"Accept": "application/ld+json"})
        assert response.status_code == 200, iri
        document = response.get_json(force=True)
        assert document["@id"] == iri and document["name"]["es"] and document["description"]["en"]
    assert client.get("/xapi/extensions/no-existe").status_code == 404
