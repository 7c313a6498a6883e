"""Fixtures for the Open Badges tests, and an independent verifier of the 3.0 credentials.

The independent verifier shares no code with lms.badges: it fetches the issuer document over HTTP
(the test client), finds the verification method there, decodes the Multikey itself, canonicalizes
with PyLD using PyLD's own copy of the VC 2.0 context, and checks the Ed25519 signature with PyNaCl
(libsodium) where the site signs with `cryptography` (OpenSSL).
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

import base58
import jsonschema
import nacl.exceptions
import nacl.signing
import pytest
from pyld import jsonld
from pyld.documentloader.frozen import BUNDLED_CONTEXTS, FrozenDocumentLoader

from lms.certification import services as certs

HERE = Path(__file__).resolve().parent
OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
#: the Open Badges 3.0 context is a published document: both sides read the same copy of it
_LOADER = FrozenDocumentLoader(documents={**BUNDLED_CONTEXTS, OB3_CONTEXT: HERE.parent.parent / "lms/badges/data/ob-v3p0-context-3.0.3.json"})
#: a month ago: the records issued then are valid today
T0 = (datetime.now(timezone.utc) - timedelta(days=30)).replace(microsecond=0)


def schema_errors(document: dict, name: str) -> list[str]:
    schema = json.loads((HERE / "schemas" / name).read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def path_of(url: str) -> str:
    return urlsplit(url).path


class IndependentVerifier:
    """Verifies an eddsa-rdfc-2022 DataIntegrityProof the way a third party would."""

    def __init__(self, client):
        self.client = client

    @staticmethod
    def resolve(issuer_id: str) -> str:
        """The URL of an issuer's document: a did:web identifier by the did:web method (W3C CCG), else the id itself."""
        if not issuer_id.startswith("did:web:"):
            return issuer_id
        host, *path = issuer_id.removeprefix("did:web:").split(":")
        host = unquote(host)
        return f"https://{host}/{'/'.join(unquote(p) for p in path)}/did.json" if path else f"https://{host}/.well-known/did.json"

    def issuer_document(self, issuer_id: str) -> dict:
        response = self.client.get(path_of(self.resolve(issuer_id)), headers={"Accept": "application/ld+json"})
        assert response.status_code == 200, response.status_code
        return response.get_json(force=True)

    def public_key(self, method_id: str, controller: str) -> bytes:
        document = self.issuer_document(controller)
        method = next((m for m in document.get("verificationMethod", []) if m["id"] == method_id), None)
        if method is None or method_id not in document.get("assertionMethod", []):
            raise AssertionError(f"{method_id} is not an assertion method of {controller}")
        assert method["type"] == "Multikey" and method["controller"] == controller
        raw = base58.b58decode(method["publicKeyMultibase"][1:])
        assert method["publicKeyMultibase"][0] == "z" and raw[:2] == b"\xed\x01" and len(raw) == 34
        return raw[2:]

    @staticmethod
    def _canonical_hash(document: dict) -> bytes:
        nquads = jsonld.normalize(document, {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": _LOADER})
        return hashlib.sha256(nquads.encode()).digest()

    def verify(self, credential: dict) -> bool:
        proof = credential["proof"]
        if proof["type"] != "DataIntegrityProof" or proof["cryptosuite"] != "eddsa-rdfc-2022":
            return False
        issuer = credential["issuer"]["id"] if isinstance(credential["issuer"], dict) else credential["issuer"]
        key = nacl.signing.VerifyKey(self.public_key(proof["verificationMethod"], issuer))
        options = {k: v for k, v in proof.items() if k != "proofValue"}
        options["@context"] = credential["@context"]
        unsecured = {k: v for k, v in credential.items() if k != "proof"}
        signed = self._canonical_hash(options) + self._canonical_hash(unsecured)
        try:
            key.verify(signed, base58.b58decode(proof["proofValue"][1:]))
        except nacl.exceptions.BadSignatureError:
            return False
        return True


@pytest.fixture
def verifier(client):
    return IndependentVerifier(client)


@pytest.fixture
def record(session, content, agent, admin):
    record = certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Prueba", now=T0)
    session.commit()
    return record


@pytest.fixture
def outsider_manager(make_user, make_team):
    return make_user("manager", name="Otro Gerente", teams=[make_team("Equipo Sur")])
