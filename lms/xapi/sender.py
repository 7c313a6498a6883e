"""Delivery of queued statements to the LRS: ``PUT {XAPI_ENDPOINT}/statements?statementId=<id>`` (xAPI 1.0.3)."""
from __future__ import annotations

import logging
from typing import Mapping

from lms.core.outbox import Sender, Undeliverable

VERSION = "1.0.3"

log = logging.getLogger(__name__)


def statements_url(endpoint: str) -> str:
    return endpoint.rstrip("/") + "/statements"


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
            # the LRS already holds a statement with this id: ids are derived from the event, so it is this
            # one, sent before (e.g. the answer to an earlier attempt was lost); it is never stored twice
            log.info("xAPI statement %s was already in the LRS", statement["id"])
            return
        detail = " ".join(response.text.split())[:300] or response.reason
        if response.status_code == 400:
            raise Undeliverable(f"the LRS rejected statement {statement['id']} (HTTP 400): {detail}")
        raise RuntimeError(f"the LRS answered HTTP {response.status_code} to statement {statement['id']}: {detail}")

    return send
