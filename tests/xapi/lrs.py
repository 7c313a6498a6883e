"""A tiny Learning Record Store on 127.0.0.1 for the tests: real HTTP, strict about what it accepts.

It implements ``PUT /xapi/statements?statementId=…`` as xAPI 1.0.3 (Communication §2.1) describes it:
Basic auth, the ``X-Experience-API-Version`` header, a JSON statement whose id matches the parameter,
valid by the spec's data rules (checked with Ralph's xAPI models plus the rules they leave out);
204 when stored, 409 when the id is already taken (the same statement re-sent, or another one),
400 with the reason when the statement is invalid; ``GET /xapi/statements?statementId=…`` answers the stored
statement with the properties an LRS adds (``stored``, ``authority``, ``version`` when it had none).
"""
from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
import uuid
from datetime import datetime

from pydantic import ValidationError
from ralph.models.xapi.base.statements import BaseXapiStatement
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

USERNAME, PASSWORD = "clave-lrs", "secreto-lrs"
ISO_DURATION = re.compile(r"^P(?:\d+Y)?(?:\d+M)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spec_problems(statement: dict) -> list[str]:
    """The xAPI 1.0.3 data rules a statement from an LMS must meet (beyond the JSON structure Ralph checks)."""
    problems = []
    try:
        BaseXapiStatement(**statement)
    except ValidationError as exc:
        problems += [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
    for name in ("id", "actor", "verb", "object", "timestamp"):
        if name not in statement:
            problems.append(f"{name} is missing")
    for name in ("stored", "authority"):
        if name in statement:
            problems.append(f"{name} is set by the LRS, not the LMS")
    if "version" in statement and not str(statement["version"]).startswith("1.0."):
        problems.append("version must be 1.0.x")
    try:
        if uuid.UUID(statement.get("id", "")).version not in (4, 5):
            problems.append("id is not a UUID of version 4 or 5")
    except ValueError:
        problems.append("id is not a UUID")
    stamp = statement.get("timestamp", "")
    try:
        if datetime.fromisoformat(stamp.replace("Z", "+00:00")).tzinfo is None:
            problems.append("timestamp has no time zone")
    except (AttributeError, ValueError):
        problems.append("timestamp is not ISO 8601")
    actor = statement.get("actor", {})
    if sum(k in actor for k in ("mbox", "mbox_sha1sum", "openid", "account")) != 1:
        problems.append("the actor must have exactly one inverse functional identifier")
    obj = statement.get("object", {})
    if obj.get("objectType", "Activity") == "Activity":
        if not re.match(r"^https?://", obj.get("id", "")):
            problems.append("activity id is not an absolute IRI")
    result = statement.get("result", {})
    score = result.get("score")
    if score is not None:
        if not -1 <= score.get("scaled", 0) <= 1:
            problems.append("score.scaled outside -1..1")
        if "raw" in score and not score.get("min", score["raw"]) <= score["raw"] <= score.get("max", score["raw"]):
            problems.append("score.raw outside min..max")
    if "duration" in result and not ISO_DURATION.match(result["duration"]):
        problems.append("duration is not an ISO 8601 duration")
    context = statement.get("context", {})
    if obj.get("objectType") == "StatementRef" and ("platform" in context or "revision" in context):
        problems.append("platform/revision only for activities")
    if statement.get("verb", {}).get("id") == "http://adlnet.gov/expapi/verbs/voided" and obj.get("objectType") != "StatementRef":
        problems.append("a voiding statement must point at a StatementRef")
    return problems


class LRS:
    """Statements by id, every request seen, and what was rejected (and why)."""

    def __init__(self, port: int | None = None, duplicate_status: int = 409):
        self.port = port or free_port()
        self.duplicate_status = duplicate_status
        self.statements: dict[str, dict] = {}
        self.requests: list[tuple[str, str | None]] = []  # (method path, statementId)
        self.rejected: list[tuple[str | None, str]] = []
        self.voided: set[str] = set()
        self.delay = 0.0  # seconds before answering (a slow LRS)
        self._server = None
        self._thread = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/xapi/"

    def start(self) -> "LRS":
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def _reject(self, status: int, statement_id: str | None, why: str) -> Response:
        self.rejected.append((statement_id, why))
        return Response(json.dumps({"error": why}), status=status, mimetype="application/json")

    @Request.application
    def app(self, request: Request) -> Response:
        statement_id = request.args.get("statementId")
        time.sleep(self.delay)
        self.requests.append((f"{request.method} {request.path}", statement_id))
        auth = request.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        if auth != expected:
            return Response("unauthorized", status=401, headers={"WWW-Authenticate": 'Basic realm="LRS"'})
        if not request.headers.get("X-Experience-API-Version", "").startswith("1.0."):
            return self._reject(400, statement_id, "missing or unsupported X-Experience-API-Version")
        if request.path == "/xapi/statements" and request.method == "GET" and statement_id:
            stored = self.statements.get(statement_id)
            if stored is None:
                return Response(json.dumps({"error": "no such statement"}), status=404, mimetype="application/json")
            answer = {"version": "1.0.0", **stored, "stored": "2026-01-10T00:00:00.000Z",
                      "authority": {"objectType": "Agent", "account": {"homePage": "http://lrs.example", "name": USERNAME}}}
            return Response(json.dumps(answer), mimetype="application/json")
        if request.path != "/xapi/statements" or request.method != "PUT":
            return self._reject(405 if request.path == "/xapi/statements" else 404, statement_id, f"{request.method} {request.path}")
        if not request.mimetype == "application/json":
            return self._reject(400, statement_id, "Content-Type must be application/json")
        try:
            statement = json.loads(request.get_data(as_text=True))
        except ValueError:
            return self._reject(400, statement_id, "the body is not JSON")
        if not statement_id or statement.get("id", statement_id) != statement_id:
            return self._reject(400, statement_id, "statementId does not match the statement's id")
        problems = spec_problems(statement)
        if problems:
            return self._reject(400, statement_id, "; ".join(problems))
        if statement_id in self.statements:
            # the spec lets the LRS answer 204 or 409 to the same statement re-sent; never stores it twice
            return Response(status=self.duplicate_status if statement == self.statements[statement_id] else 409)
        self.statements[statement_id] = statement
        if statement["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided":
            self.voided.add(statement["object"]["id"])
        return Response(status=204)

    def puts(self, statement_id: str | None = None) -> int:
        return sum(1 for what, sid in self.requests if what.startswith("PUT") and (statement_id is None or sid == statement_id))

    def live(self) -> list[dict]:
        """What a report on the LRS would count: stored statements, less the voided and the voiding ones."""
        return [s for sid, s in self.statements.items() if sid not in self.voided and s["verb"]["id"] != "http://adlnet.gov/expapi/verbs/voided"]
