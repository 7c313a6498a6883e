"""Static security checks over lms/: bandit, plus local rules bandit does not know.

Every exception is written down with its reason: a ``# nosec BXXX  # reason`` on the
line for bandit (bandit reads every word up to the next ``#`` as a rule name, so the
reason sits in its own comment), or an entry of the allow-lists below.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
import subprocess
import sys
import textwrap
import types
from functools import lru_cache
from pathlib import Path

import yaml

from tests.conftest import PROJECT

LMS = PROJECT / "lms"
MIGRATIONS = LMS / "migrations"


def _python_files() -> list[Path]:
    return sorted(p for p in LMS.rglob("*.py") if MIGRATIONS not in p.parents)


def _templates() -> list[Path]:
    return sorted(p for p in LMS.rglob("*.html") if "templates" in p.parts)


def _rel(path: Path) -> str:
    return str(path.relative_to(PROJECT))


@lru_cache(maxsize=None)
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _call_name(node: ast.Call) -> str:
    """``eval`` for ``eval(…)``, ``yaml.load`` for ``yaml.load(…)``, ``.load`` for ``x().load(…)``."""
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return f"{func.value.id}.{func.attr}" if isinstance(func.value, ast.Name) else f".{func.attr}"
    return ""


# -- bandit -----------------------------------------------------------------------------------

def test_bandit_reports_nothing():
    bandit = Path(sys.executable).parent / "bandit"
    result = subprocess.run([str(bandit), "-q", "-r", "lms", "-c", "pyproject.toml", "-f", "json"],
                            cwd=PROJECT, capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout)
    assert not report["errors"], report["errors"]
    findings = [f"{r['filename']}:{r['line_number']}: {r['test_id']} {r['issue_text']}" for r in report["results"]]
    assert not findings, ("bandit findings: fix them, or justify each on its line with "
                          "'# nosec BXXX  # reason':\n" + "\n".join(findings))
    assert result.returncode == 0, result.stderr[-2000:]


NOSEC = re.compile(r"#\s*nosec\b(?P<rest>.*)$")
JUSTIFIED_NOSEC = re.compile(r"^ (B\d{3})(, ?B\d{3})*  # \S.{9,}$")


def test_every_nosec_names_its_rule_and_gives_a_reason():
    bad = []
    for path in _python_files():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = NOSEC.search(line)
            if match and not JUSTIFIED_NOSEC.match(match["rest"]):
                bad.append(f"{_rel(path)}:{n}: {line.strip()}")
    assert not bad, "write '# nosec BXXX  # a real reason' (the rule and why it does not apply):\n" + "\n".join(bad)


# -- (a) markup that bypasses autoescaping -----------------------------------------------------

#: files allowed to build ``Markup`` from a string: each one reviewed, with why it is safe
MARKUP_ALLOWED = {
    "lms/core/markdown.py": "Markdown rendered to HTML is sanitised by nh3 (allow-listed tags, attributes, URL schemes) first",
    "lms/core/i18n.py": "template translations from the project's own catalogs, marked safe and %-formatted with escaped "
                        "values exactly as Jinja's newstyle gettext wrapper does (it replaces that wrapper, one call less)",
    "lms/quizzes/versions.py": "a question version's HTML as lms.core.markdown stored it (sanitised by nh3 when the version "
                               "was written), with the drawn numbers (int or float, formatted) put in its placeholders",
    "lms/reporting/charts.py": "server-side SVG charts built from html.escape()d labels, numbers and constant colours",
    "lms/reporting/table.py": "the dashboard's rows: constant markup around markupsafe.escape()d values (byte-identical to the "
                              "autoescaped template loop it replaced, tests/reporting/test_dashboard_table.py)",
}
#: templates allowed to use ``|safe`` / ``Markup`` / ``autoescape false`` (none today)
TEMPLATE_RAW_ALLOWED: dict[str, str] = {}
TEMPLATE_RAW = re.compile(r"\|\s*safe\b|\bMarkup\b|autoescape\s+false", re.IGNORECASE)


def _markup_uses(path: Path) -> list[int]:
    return [node.lineno for node in ast.walk(_tree(path))
            if isinstance(node, ast.Call) and _call_name(node).split(".")[-1] == "Markup"]


def test_markup_only_in_reviewed_files():
    users = {_rel(path): lines for path in _python_files() if (lines := _markup_uses(path))}
    unreviewed = [f"{path}:{line}" for path, lines in users.items() if path not in MARKUP_ALLOWED for line in lines]
    assert not unreviewed, ("Markup() turns a string into HTML that is not escaped. Escape instead, or review the code "
                            "and add the file to MARKUP_ALLOWED with the reason:\n" + "\n".join(unreviewed))
    stale = set(MARKUP_ALLOWED) - set(users)
    assert not stale, f"MARKUP_ALLOWED lists files that no longer use Markup(): {sorted(stale)}"


def test_templates_do_not_bypass_autoescaping():
    found = []
    for path in _templates():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if TEMPLATE_RAW.search(line) and _rel(path) not in TEMPLATE_RAW_ALLOWED:
                found.append(f"{_rel(path)}:{n}: {line.strip()}")
    assert not found, ("'|safe', Markup or 'autoescape false' in a template: let Jinja escape, or review it "
                       "and add the template to TEMPLATE_RAW_ALLOWED with the reason:\n" + "\n".join(found))


# -- (b) state changes: forms carry the CSRF token, GET routes do not write ---------------------

FORM = re.compile(r"<form\b(?P<attrs>[^>]*)>(?P<body>.*?)</form>", re.IGNORECASE | re.DOTALL)
POST = re.compile(r"""\bmethod\s*=\s*["']?post\b""", re.IGNORECASE)


#: POST forms whose action is another site's: our CSRF token must not be sent there
EXTERNAL_POST_FORMS = {
    "lms/lti/templates/lti/deep_link_return.html": "auto-posts the signed deep-linking response to the LTI platform",
}


def test_every_post_form_carries_the_csrf_token():
    missing = []
    for path in (p for p in _templates() if _rel(p) not in EXTERNAL_POST_FORMS):
        text = path.read_text(encoding="utf-8")
        for form in FORM.finditer(text):
            if POST.search(form["attrs"]) and "csrf_token" not in form["body"]:
                line = text.count("\n", 0, form.start()) + 1
                missing.append(f"{_rel(path)}:{line}: <form{form['attrs']}>")
    assert not missing, "a POST form without {{ form.csrf_token }} (or csrf_token()):\n" + "\n".join(missing)


#: GET endpoints that write, each for a reason that the protocol imposes
GET_WRITES_ALLOWED = {
    "lti.register_invitation": "LTI dynamic registration: the platform opens the URL by GET; the one-time "
                               "invitation token in the path is the proof, and it records the platform",
    "lti.jwks": "the tool's public keys: the first signing key is created when first needed",
    "badges.credential": "a record's signed credential is published (and the signing key made) when first fetched",
    "badges.open_badge": "a record's badge assertion is published when first fetched",
    "badges.status_list": "the signed revocation list: the signing key is created when first needed",
}
SESSION_WRITES = {"add", "add_all", "delete", "flush", "commit", "merge", "bulk_save_objects", "bulk_insert_mappings"}
SQL_WRITES = {"insert", "update", "delete"}


def _receiver_is_session(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return "session" in node.id.lower()
    if isinstance(node, ast.Attribute):
        return "session" in node.attr.lower()
    return isinstance(node, ast.Call) and _call_name(node).split(".")[-1] == "get_session"


def _writes_directly(call: ast.Call) -> bool:
    func = call.func
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr in SESSION_WRITES and _receiver_is_session(func.value):
        return True
    if func.attr == "execute" and _receiver_is_session(func.value) and call.args:
        stmt = call.args[0]
        while isinstance(stmt, ast.Call) and isinstance(stmt.func, ast.Attribute) and not (
                isinstance(stmt.func.value, ast.Name) and stmt.func.value.id in {"sa", "sqlalchemy"}):
            stmt = stmt.func.value  # update(X).where(…).values(…) -> update(X)
        return isinstance(stmt, ast.Call) and _call_name(stmt).split(".")[-1] in SQL_WRITES
    return func.attr == "set" and isinstance(func.value, ast.Name) and func.value.id == "write_intent"


def _functions(module: types.ModuleType) -> dict[str, ast.FunctionDef]:
    """Top-level functions of an lms module, by name (from its source)."""
    path = Path(module.__file__)
    return {node.name: node for node in _tree(path).body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _callee(module: types.ModuleType, call: ast.Call) -> tuple[str, str] | None:
    """(module, function) that a call in ``module`` reaches, when it is one of our top-level functions."""
    func = call.func
    target = None
    if isinstance(func, ast.Name):
        target = module.__dict__.get(func.id)
    elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        owner = module.__dict__.get(func.value.id)
        if isinstance(owner, types.ModuleType):
            target = getattr(owner, func.attr, None)
    target = inspect.unwrap(target) if callable(target) else None
    if isinstance(target, types.FunctionType) and target.__module__.startswith("lms"):
        return target.__module__, target.__name__
    return None


@lru_cache(maxsize=1)
def _writers() -> frozenset[tuple[str, str]]:
    """Every top-level lms function that writes, directly or through the functions it calls."""
    graph: dict[tuple[str, str], set[tuple[str, str]]] = {}
    writes: set[tuple[str, str]] = set()
    for path in _python_files():
        name = ".".join(path.relative_to(PROJECT).with_suffix("").parts).removesuffix(".__init__")
        module = importlib.import_module(name)
        for fname, node in _functions(module).items():
            key = (name, fname)
            calls = [c for c in ast.walk(node) if isinstance(c, ast.Call)]
            if any(_writes_directly(c) for c in calls):
                writes.add(key)
            graph[key] = {callee for c in calls if (callee := _callee(module, c))}
    changed = True
    while changed:
        changed = False
        for key, callees in graph.items():
            if key not in writes and callees & writes:
                writes.add(key)
                changed = True
    return frozenset(writes)


def _view_writes(view) -> list[str]:
    view = inspect.unwrap(view)
    module = sys.modules[view.__module__]
    node = ast.parse(textwrap.dedent(inspect.getsource(view))).body[0]
    node.decorator_list = []  # the decorators run around the view (the API's token check records its use apart)
    found = []
    for call in (c for c in ast.walk(node) if isinstance(c, ast.Call)):
        callee = _callee(module, call)
        if _writes_directly(call) or (callee and callee in _writers()):
            found.append(f"{ast.unparse(call.func)}() at {view.__module__}:{view.__code__.co_firstlineno + call.lineno - 1}")
    return found


def test_get_routes_do_not_write(app):
    from lms.core import lazy

    lazy.load_all(app)  # the real view functions of the blueprints imported on their first request
    offenders, writing = [], set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or (rule.methods or set()) - {"HEAD", "OPTIONS"} != {"GET"}:
            continue
        writes = _view_writes(app.view_functions[rule.endpoint])
        if writes:
            writing.add(rule.endpoint)
        if writes and rule.endpoint not in GET_WRITES_ALLOWED:
            offenders.append(f"{rule.endpoint} ({rule.rule}): " + "; ".join(writes))
    assert not offenders, ("GET routes that change state (make them POST forms with a CSRF token, or add them "
                           "to GET_WRITES_ALLOWED with the reason):\n" + "\n".join(offenders))
    stale = set(GET_WRITES_ALLOWED) - writing
    assert not stale, f"GET_WRITES_ALLOWED lists endpoints that no longer write on GET: {sorted(stale)}"


def test_the_write_detector_sees_a_service_write():
    """The check above must be able to fail: a known writing service is recognised."""
    assert ("lms.tracks.services", "complete_lesson") in _writers()


# -- (c) dangerous calls ------------------------------------------------------------------------

BANNED_CALLS = {
    "eval": "evaluates a string as Python",
    "exec": "executes a string as Python",
    "render_template_string": "renders a template from a string (server-side template injection)",
    "os.system": "runs a shell",
    "os.popen": "runs a shell",
    "yaml.unsafe_load": "builds arbitrary Python objects",
    "yaml.full_load": "builds Python objects",
    "pickle.loads": "unpickling runs code",
    "pickle.load": "unpickling runs code",
    "marshal.loads": "untrusted bytecode",
}
BANNED_MODULES = {"pickle", "cPickle", "dill", "shelve", "marshal"}
SAFE_LOADERS = {"SafeLoader", "CSafeLoader"}
#: YAML loaders of ours, checked below to derive from SafeLoader
OWN_SAFE_LOADERS = {("lms/content/files.py", "_Loader"): ("lms.content.files", "_Loader")}


def _loader_name(node: ast.expr) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def _problems(rel: str, node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [f"import {a.name}" for a in node.names if a.name.split(".")[0] in BANNED_MODULES]
    if isinstance(node, ast.ImportFrom):
        banned = [f"from {node.module} import …"] if (node.module or "").split(".")[0] in BANNED_MODULES else []
        return banned + [f"import {a.name}" for a in node.names if a.name in BANNED_CALLS]
    if not isinstance(node, ast.Call):
        return []
    found, name = [], _call_name(node)
    short = name.split(".")[-1]
    if name in BANNED_CALLS or short == "render_template_string":
        found.append(f"{name}(): {BANNED_CALLS.get(name) or BANNED_CALLS[short]}")
    elif name in {"yaml.load", "yaml.load_all"}:
        loader = next((k.value for k in node.keywords if k.arg == "Loader"), node.args[1] if len(node.args) > 1 else None)
        lname = _loader_name(loader) if loader is not None else ""
        if lname not in SAFE_LOADERS and (rel, lname) not in OWN_SAFE_LOADERS:
            found.append(f"{name}() without a SafeLoader (use yaml.safe_load)")
    if any(k.arg == "shell" and not (isinstance(k.value, ast.Constant) and k.value.value is False) for k in node.keywords):
        found.append(f"{name}(shell=…): pass an argument list instead")
    return found


def _dangerous(path: Path) -> list[str]:
    rel = _rel(path)
    return [f"{rel}:{node.lineno}: {problem}" for node in ast.walk(_tree(path)) for problem in _problems(rel, node)]


def test_no_dangerous_calls():
    found = [f for path in _python_files() for f in _dangerous(path)]
    assert not found, "\n".join(found)


def test_our_yaml_loaders_are_safe():
    for (_, _), (module, name) in OWN_SAFE_LOADERS.items():
        loader = getattr(importlib.import_module(module), name)
        assert issubclass(loader, yaml.SafeLoader), f"{module}.{name} must derive from yaml.SafeLoader"
        python_tags = [tag for tag in loader.yaml_constructors if tag and "python/" in tag]
        assert not python_tags, f"{module}.{name} constructs Python objects: {python_tags}"


def test_quiz_attempts_are_seeded_from_secrets():
    """Questions are drawn and shuffled with ``random`` (not a security boundary), but the seed of each
    attempt comes from ``secrets``, so one attempt's order does not predict another's."""
    path = LMS / "quizzes" / "services.py"
    function = next(node for node in _tree(path).body
                    if isinstance(node, ast.FunctionDef) and node.name == "start_attempt")
    rngs = [c for c in ast.walk(function) if isinstance(c, ast.Call) and _call_name(c) == "random.Random"]
    assert len(rngs) == 1 and isinstance(rngs[0].args[0], ast.Name), "start_attempt seeds one random.Random"
    seed = rngs[0].args[0].id
    sources = [a.value for a in ast.walk(function) if isinstance(a, ast.Assign)
               and any(isinstance(t, ast.Name) and t.id == seed for t in a.targets)]
    assert len(sources) == 1 and isinstance(sources[0], ast.Call) and _call_name(sources[0]).startswith("secrets."), \
        f"the attempt's seed must come from secrets, not {ast.unparse(sources[0]) if sources else 'nowhere'}"
