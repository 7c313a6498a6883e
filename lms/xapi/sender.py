"""Delivery of queued statements to the LRS: ``PUT {XAPI_ENDPOINT}/statements?statementId=<id>`` (xAPI 1.0.3)."""
from __future__ import annotations

import logging
from typing import Mapping

from lms.core.outbox import Sender, Undeliverable

VERSION = "1.0.3"

log = logging.getLogger(__name__)


def statements_url(endpoint: str) -> str:
    return endpoint.rstrip("/") + "/statements"


#: what the LRS adds to a statement it stores (xAPI 1.0.3 Data 2.4): not part of the comparison
LRS_PROPERTIES = ("stored", "authority", "version")


def _comparable(value, key: str | None = None):
    """A statement as compared for sameness (xAPI 1.0.3 Data 2.3.1 "Statement Comparison Requirements"): the
    properties the LRS sets left out, timestamps compared as instants, objects key by key."""
    from datetime import datetime

    if isinstance(value, dict):
        return {k: _comparable(v, k) for k, v in value.items() if not (key is None and k in LRS_PROPERTIES)}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    if key == "timestamp" and isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return value
    return value


def same_statement(stored: dict, ours: dict) -> bool:
    return _comparable(stored) == _comparable(ours)


def lrs_sender(config: Mapping) -> Sender | None:
    """The outbox sender of kind ``xapi``, or None while no LRS is configured (the statements then wait, pending)."""
    endpoint = config.get("XAPI_ENDPOINT")
    if not endpoint:
        return None
    import requests  # ~5 MiB: only the outbox worker of a site with an LRS needs it, not a web worker

    url, timeout = statements_url(endpoint), float(config.get("XAPI_TIMEOUT") or 10)
    http = requests.Session()
    http.headers.update({"X-Experience-API-Version": VERSION, "Content-Type": "application/json"})
    if config.get("XAPI_TOKEN"):
        http.headers["Authorization"] = f"Bearer {config['XAPI_TOKEN']}"
    elif config.get("XAPI_USERNAME"):
        http.auth = (config["XAPI_USERNAME"], config.get("XAPI_PASSWORD") or "")

    def _stored(statement_id: str) -> dict | None:
        try:
            answer = http.get(url, params={"statementId": statement_id}, timeout=timeout)
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise ConnectionError(f"the LRS answered 409 and then could not be asked for statement {statement_id}: {exc}") from None
        if answer.status_code != 200:
            return None
        try:
            data = answer.json()
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def send(payload: dict) -> None:
        statement = payload["statement"]
        try:
            response = http.put(url, params={"statementId": statement["id"]}, json=statement, timeout=timeout)
        except requests.Timeout:
            raise TimeoutError(f"the LRS at {url} did not answer within {timeout:g} s") from None
        except requests.ConnectionError as exc:
            reason = getattr(exc.args[0], "reason", exc) if exc.args else exc  # urllib3's, without the retry wrapper
            raise ConnectionError(f"cannot reach the LRS at {url}: {str(reason).split('): ', 1)[-1]}") from None
        if response.status_code in (200, 204):
            return
        if response.status_code == 409:
            # the LRS already holds a statement with this id (xAPI 1.0.3 Communication 2.1.1): ours sent before (the
            # answer to an earlier attempt was lost), or another statement. Only the stored one can tell.
            stored = _stored(statement["id"])
            if stored is not None and same_statement(stored, statement):
                log.info("xAPI statement %s was already in the LRS", statement["id"])
                return
            what = "cannot be read back" if stored is None else "is a different statement"
            raise Undeliverable(f"the LRS answered 409 Conflict: the statement it holds with id {statement['id']} {what} "
                                "(a different statement already has this id; ours was not stored)")
        detail = " ".join(response.text.split())[:300] or response.reason
        if response.status_code == 400:
            raise Undeliverable(f"the LRS rejected statement {statement['id']} (HTTP 400): {detail}")
        raise RuntimeError(f"the LRS answered HTTP {response.status_code} to statement {statement['id']}: {detail}")

    return send
