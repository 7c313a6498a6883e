"""Blueprints whose views are imported on their first request.

A worker that only ever serves agents' quizzes and lessons never needs the LTI, API, badge, xAPI, reporting or
authoring pages, nor what only they import (their models, services and forms: a few MiB of every worker's memory).
Such a blueprint is registered with :func:`register_blueprint` (``"lms.lti.views:bp"``) instead of
``app.register_blueprint``. Its URL rules, name and template folder come from a manifest checked into the package
(``lms/lazy_blueprints.json``), so ``url_for`` builds its links and the router matches its URLs from the start; the
view functions stand in for the real ones until a request reaches one of them. Then, before anything else of that
request runs, the module is imported and the blueprint registered on a scratch Flask app, and its view functions
and its own hooks (before/after request, error handlers, URL processors, context processors) are copied onto the
application under the blueprint's name: the request, and every later one, runs exactly as if the blueprint had been
registered at start.

A lazy blueprint may not register application-wide hooks (``before_app_request``, ``app_template_filter`` …):
those must work before its first request, so they belong in the domain's ``register``; loading one fails loudly.

The manifest is written by ``python -m lms.lazy_manifest`` from an app that registers every blueprint at once
(``LAZY_BLUEPRINTS = False``, the setting the manifest's test also compares against); a test fails, naming that
command, when a route of a lazy blueprint changes and the manifest was not written again.
"""
from __future__ import annotations

import functools
import json
import threading
from pathlib import Path

from flask import Blueprint, Flask
from werkzeug.utils import import_string

MANIFEST = Path(__file__).resolve().parent.parent / "lazy_blueprints.json"
PACKAGE_ROOT = MANIFEST.parent

#: the app's dicts of per-blueprint hooks, keyed by blueprint name (None: the whole app)
_HOOKS = ("before_request_funcs", "after_request_funcs", "teardown_request_funcs", "url_default_functions",
          "url_value_preprocessors", "template_context_processors")

_LOCK = threading.RLock()


class StaleManifest(RuntimeError):
    """The manifest does not describe a lazy blueprint as its module defines it."""


def register_blueprint(app: Flask, target: str) -> Blueprint:
    """Register the blueprint ``target`` (``"package.module:attribute"``): at once when ``LAZY_BLUEPRINTS`` is off,
    else from the manifest, its module imported on the first request that reaches it. Returns the blueprint the app
    holds (what ``csrf.exempt`` takes)."""
    state = _state(app)
    if not app.config.get("LAZY_BLUEPRINTS", True):
        blueprint = import_string(target)
        app.register_blueprint(blueprint)
        state["targets"].append(target)
        return blueprint
    entry = _manifest().get(target)
    if entry is None:
        raise StaleManifest(f"{target} is not in {MANIFEST.name}: run python -m lms.lazy_manifest")
    name = entry["name"]
    views: dict[str, object] = {}
    stand_in = Blueprint(name, target.partition(":")[0], root_path=str(PACKAGE_ROOT / entry["root"]),
                         template_folder=entry["template_folder"])
    for rule, endpoint, methods, defaults, strict_slashes, automatic_options in entry["rules"]:
        # Flask adds OPTIONS (and answers it) itself where the view did not declare it
        declared = set(methods) - ({"OPTIONS"} if automatic_options else set())
        view = views.setdefault(endpoint, _stand_in_view(app, target, f"{name}.{endpoint}"))
        stand_in.add_url_rule(rule, endpoint, view, methods=declared, defaults=defaults or {},
                              strict_slashes=strict_slashes,
                              provide_automatic_options=None if automatic_options else False)
    app.register_blueprint(stand_in)
    state["pending"][name] = target
    state["targets"].append(target)
    if not state["hooked"]:
        # first of all the request's processing: the blueprint's own URL processors and before-request hooks are in
        # place when Flask looks them up for this same request
        app.url_value_preprocessors.setdefault(None, []).insert(0, lambda endpoint, values: load_for(app, endpoint))
        state["hooked"] = True
    return stand_in


def load_for(app: Flask, endpoint: str | None) -> None:
    """Load the lazy blueprint that ``endpoint`` belongs to, if it is one not loaded yet."""
    pending = _state(app)["pending"]
    if endpoint and pending:
        name = endpoint.rpartition(".")[0]
        if name in pending:
            load(app, name)


def load(app: Flask, name: str) -> None:
    """Import the lazy blueprint ``name`` and put its views and hooks on the app (once; thread-safe)."""
    pending = _state(app)["pending"]
    with _LOCK:
        target = pending.get(name)
        if target is None:
            return
        blueprint = import_string(target)
        scratch = Flask(blueprint.import_name)
        jinja = scratch.jinja_env
        before = {kind: set(getattr(jinja, kind)) for kind in ("filters", "tests", "globals")}
        own = {hook: list(getattr(scratch, hook).get(None, ())) for hook in _HOOKS}  # Flask's own (a context processor)
        scratch.register_blueprint(blueprint)
        app_wide = [hook for hook in _HOOKS if list(getattr(scratch, hook).get(None, ())) != own[hook]]
        app_wide += ["error handlers"] if None in scratch.error_handler_spec else []
        app_wide += [f"template {kind}" for kind, names in before.items() if set(getattr(jinja, kind)) != names]
        if app_wide:
            raise StaleManifest(f"{target} registers application-wide hooks ({', '.join(app_wide)}): register them "
                                "in the domain's register(), not lazily")
        if _rules(scratch, name) != _rules(app, name):
            raise StaleManifest(f"{MANIFEST.name} does not match the routes of {target}: "
                                "run python -m lms.lazy_manifest")
        for endpoint, view in scratch.view_functions.items():
            if endpoint.startswith(name + "."):
                app.view_functions[endpoint] = view
        if name in scratch.error_handler_spec:
            app.error_handler_spec[name] = scratch.error_handler_spec[name]
        for hook in _HOOKS:
            for key, functions in getattr(scratch, hook).items():
                if key is not None:
                    getattr(app, hook)[key].extend(functions)
        del pending[name]


def load_all(app: Flask) -> None:
    """Load every lazy blueprint not loaded yet (what checks over every view function need first)."""
    for name in list(_state(app)["pending"]):
        load(app, name)


def is_loaded(app: Flask, name: str) -> bool:
    return name in app.blueprints and name not in _state(app)["pending"]


def manifest_of(app: Flask) -> dict:
    """The manifest's entries for the lazy blueprints of ``app`` (built with ``LAZY_BLUEPRINTS = False``)."""
    out = {}
    for target in _state(app)["targets"]:
        blueprint: Blueprint = import_string(target)
        root = Path(blueprint.root_path).resolve().relative_to(PACKAGE_ROOT)
        out[target] = {"name": blueprint.name, "root": str(root), "template_folder": blueprint.template_folder,
                       "rules": [[rule, endpoint.partition(".")[2], *rest]
                                 for rule, endpoint, *rest in _rules(app, blueprint.name)]}
    return out


def _rules(app: Flask, name: str) -> list[list]:
    """The URL rules of blueprint ``name`` as the manifest keeps them, sorted."""
    rules = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(name + "."):
            if rule.host or rule.subdomain or rule.redirect_to or not rule.merge_slashes or rule.websocket:
                raise StaleManifest(f"{rule.endpoint}: a lazy blueprint's rule may only set methods, defaults and "
                                    "strict_slashes")
            rules.append([rule.rule, rule.endpoint, sorted(rule.methods or ()), rule.defaults,
                          rule.strict_slashes, bool(getattr(rule, "provide_automatic_options", False))])
    return sorted(rules, key=lambda r: (r[1], r[0], r[2]))


def _stand_in_view(app: Flask, target: str, endpoint: str):
    """Until its blueprint is loaded, the view of ``endpoint``: loads it (if a caller skipped the request's
    processing) and answers as the real view does."""
    def view(**values):
        load(app, endpoint.rpartition(".")[0])
        return app.view_functions[endpoint](**values)

    view.lazy_target = target  # type: ignore[attr-defined]
    view.__name__ = endpoint.rpartition(".")[2]
    return view


def _state(app: Flask) -> dict:
    return app.extensions.setdefault("lms.lazy_blueprints", {"pending": {}, "targets": [], "hooked": False})


@functools.cache
def _manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def manifest_text(entries: dict) -> str:
    """The manifest's file: one line per rule, so that a changed route is a one-line diff."""
    lines = ["{"]
    for n, (target, entry) in enumerate(sorted(entries.items()), start=1):
        head = {key: value for key, value in entry.items() if key != "rules"}
        lines.append(f" {json.dumps(target)}: {json.dumps(head, sort_keys=True)[:-1]}, \"rules\": [")
        lines += [f"  {json.dumps(rule, sort_keys=True)}," for rule in entry["rules"]]
        lines[-1] = lines[-1].rstrip(",")
        lines.append(" ]}" + ("," if n < len(entries) else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"
