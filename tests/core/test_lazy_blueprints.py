"""Blueprints imported on their first request (lms/core/lazy.py): the manifest, the routes, the first request."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import types

import pytest
from flask import Blueprint

from lms.core import lazy
from tests.conftest import PROJECT, make_test_app


def _signature(app) -> list:
    return sorted((r.rule, r.endpoint, sorted(r.methods or ()), r.defaults, r.strict_slashes,
                   bool(getattr(r, "provide_automatic_options", False))) for r in app.url_map.iter_rules())


@pytest.fixture(scope="module")
def eager(database_url, tmp_path_factory):
    return make_test_app(database_url, tmp_path_factory.mktemp("eager"), LAZY_BLUEPRINTS=False)


def test_the_manifest_describes_the_lazy_blueprints_as_their_modules_define_them(eager):
    text = lazy.MANIFEST.read_text(encoding="utf-8")
    written = json.loads(text)
    assert written == lazy.manifest_of(eager), "the routes of a lazy blueprint changed: run python -m lms.lazy_manifest"
    assert text == lazy.manifest_text(written)
    assert {"lms.lti.views:bp", "lms.api.views:bp", "lms.authoring.views:bp", "lms.reporting.views:bp",
            "lms.badges.views:bp", "lms.xapi.views:bp"} <= set(written)


def test_a_lazy_app_routes_and_builds_every_url_as_the_eager_one_does(app, eager, database_url, tmp_path):
    fresh = make_test_app(database_url, tmp_path)
    assert _signature(fresh) == _signature(eager)
    assert set(fresh.blueprints) == set(eager.blueprints)
    for name, blueprint in eager.blueprints.items():
        assert getattr(fresh.blueprints[name].jinja_loader, "searchpath", None) == \
            getattr(blueprint.jinja_loader, "searchpath", None)
    with fresh.test_request_context():
        from flask import url_for

        assert url_for("reporting.dashboard") == "/manage/dashboard/"
        assert url_for("lti.login") == "/lti/login"


def test_a_worker_imports_a_lazy_blueprint_on_its_first_request_only(tmp_path):
    """In a fresh interpreter (this one has imported everything): create_app imports none of the lazy modules,
    nor LTI's or the API's models, nor (on SQLite) PostgreSQL's dialect; the first request to the managers' dashboard imports it, not the others."""
    script = textwrap.dedent(f"""
        import json, sys
        from lms import create_app
        app = create_app({{"DATABASE_URL": "sqlite:///{tmp_path}/w.sqlite3", "SECRET_KEY": "k" * 40}})
        watched = ["lms.lti.views", "lms.lti.models", "lms.lti.grades", "lms.api.views", "lms.api.models",
                   "lms.authoring.views", "lms.authoring.models", "lms.reporting.views", "lms.badges.views",
                   "lms.badges.models", "lms.xapi.views", "lms.xapi.services",
                   "sqlalchemy.dialects.postgresql"]  # (a SQLite worker has no use for PostgreSQL's dialect: 2 MiB)
        before = [m for m in watched if m in sys.modules]
        response = app.test_client().get("/manage/dashboard/")
        after = [m for m in watched if m in sys.modules]
        print(json.dumps([before, after, response.status_code, response.headers.get("Location", "")]))
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=PROJECT, capture_output=True, text=True, check=True)
    before, after, status, location = json.loads(out.stdout.strip().splitlines()[-1])
    assert before == []
    assert after == ["lms.reporting.views"]
    assert status == 302 and "/login" in location  # the dashboard's own role check ran


def test_the_first_request_runs_the_blueprints_own_hooks_and_error_handlers(database_url, tmp_path, eager):
    """The API's after-request hook (no-store) and its JSON error handlers answer the very first request."""
    fresh = make_test_app(database_url, tmp_path)
    assert not lazy.is_loaded(fresh, "api")
    first = fresh.test_client().get("/api/v1/users")
    assert lazy.is_loaded(fresh, "api") and not lazy.is_loaded(fresh, "lti")
    expected = eager.test_client().get("/api/v1/users")
    assert (first.status_code, first.headers["Cache-Control"], first.get_json()) == \
        (expected.status_code, expected.headers["Cache-Control"], expected.get_json())
    assert first.status_code == 401 and first.headers["Cache-Control"] == "no-store"


def test_a_view_called_directly_loads_its_blueprint(database_url, tmp_path):
    fresh = make_test_app(database_url, tmp_path)
    stand_in = fresh.view_functions["badges.issuer_v2"]
    assert stand_in.lazy_target == "lms.badges.views:bp"
    lazy.load_all(fresh)
    assert lazy.is_loaded(fresh, "badges") and lazy.is_loaded(fresh, "api")
    assert fresh.view_functions["badges.issuer_v2"].__module__ == "lms.badges.views"


def _fake_module(monkeypatch, blueprint: Blueprint) -> str:
    module = types.ModuleType("tests_lazy_fake")
    module.bp = blueprint  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tests_lazy_fake", module)
    return "tests_lazy_fake:bp"


def _lazy_app(monkeypatch, database_url, tmp_path, fake: Blueprint, rule: str = "/fake"):
    """An app with ``fake`` registered lazily, the manifest giving it one rule (``rule``, endpoint ``page``)."""
    target = _fake_module(monkeypatch, fake)
    entries = dict(lazy._manifest())
    entries[target] = {"name": fake.name, "root": "core", "template_folder": None,
                       "rules": [[rule, "page", ["GET", "HEAD", "OPTIONS"], None, None, True]]}
    monkeypatch.setattr(lazy, "_manifest", lambda: entries)
    app = make_test_app(database_url, tmp_path)
    lazy.register_blueprint(app, target)
    return app


def test_a_lazy_blueprint_that_registers_application_wide_hooks_is_refused(monkeypatch, database_url, tmp_path):
    fake = Blueprint("fake", __name__)
    fake.add_url_rule("/fake", "page", lambda: "real")
    fake.before_app_request(lambda: None)
    app = _lazy_app(monkeypatch, database_url, tmp_path, fake)
    with pytest.raises(lazy.StaleManifest, match="application-wide"):
        lazy.load(app, "fake")


def test_a_stale_manifest_is_refused_when_the_blueprint_loads(monkeypatch, database_url, tmp_path):
    fake = Blueprint("fake", __name__)
    fake.add_url_rule("/fake", "page", lambda: "real")
    fake.add_url_rule("/fake/new", "new", lambda: "new")  # not in the manifest
    app = _lazy_app(monkeypatch, database_url, tmp_path, fake)
    with pytest.raises(lazy.StaleManifest, match="python -m lms.lazy_manifest"):
        lazy.load(app, "fake")


def test_a_blueprint_missing_from_the_manifest_is_refused_at_start(database_url, tmp_path):
    app = make_test_app(database_url, tmp_path)
    with pytest.raises(lazy.StaleManifest, match="not in lazy_blueprints.json"):
        lazy.register_blueprint(app, "lms.nowhere.views:bp")


def test_the_first_request_runs_the_loaded_blueprints_view_and_hooks(monkeypatch, database_url, tmp_path):
    calls = []
    fake = Blueprint("fake", __name__)
    fake.add_url_rule("/fake/<int:n>", "page", lambda n: calls.append("view") or f"real {n}")
    fake.before_request(lambda: calls.append("before"))
    fake.after_request(lambda response: (response.headers.__setitem__("X-Fake", "1"), response)[1])
    app = _lazy_app(monkeypatch, database_url, tmp_path, fake, rule="/fake/<int:n>")
    assert not lazy.is_loaded(app, "fake")
    response = app.test_client().get("/fake/7")
    assert response.get_data(as_text=True) == "real 7" and response.headers["X-Fake"] == "1"
    assert calls == ["before", "view"] and lazy.is_loaded(app, "fake")


def test_the_senders_and_loaders_named_by_path_are_the_modules_own(app):
    """The outbox kinds registered by name are those the modules send under; each content loader, once imported,
    bears the name it was registered with."""
    from lms.content import registry
    from lms.core import outbox
    from lms.lti.grades import KIND as LTI_SCORES
    from lms.reporting.jobs import KIND as EXPORTS
    from lms.xapi.services import KIND as STATEMENTS

    targets = {kind: getattr(outbox.SENDER_FACTORIES[kind], "target", None) for kind in (LTI_SCORES, EXPORTS, STATEMENTS)}
    assert targets == {LTI_SCORES: "lms.lti.grades:sender_factory", EXPORTS: "lms.reporting.jobs:sender_factory",
                       STATEMENTS: "lms.xapi.sender:lrs_sender"}
    assert outbox.SENDER_FACTORIES[STATEMENTS]({"XAPI_ENDPOINT": ""}) is None  # imported and called: not configured
    names = [loader.name for loader in registry.registered_loaders()]
    assert set(names) == {"reference", "roleplays", "quizzes", "tracks", "progress", "certification"}
    assert names.index("reference") < names.index("quizzes") < names.index("tracks") < names.index("certification")
