"""Data Integrity proofs: W3C VC Data Integrity 1.0, cryptosuite ``eddsa-rdfc-2022`` (Ed25519).

A proof signs ``sha256(canonical proof options) || sha256(canonical document)``, where canonical means
RDF Dataset Canonicalization (RDFC-1.0, URDNA2015 in PyLD) in N-Quads.  The JSON-LD processor reads
contexts only from ``data/`` (:data:`CONTEXTS`): it never touches the network, and a document that
names another context cannot be signed or verified.  A property that no context defines is an error
("safe mode"): it would not be part of the canonical form, so it would not be signed.

Keys are Ed25519, published as Multikey: ``publicKeyMultibase`` is ``z`` + base58btc(0xed01 + key).
"""
from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import base58

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
    from pyld.documentloader.frozen import FrozenDocumentLoader

# PyLD (with requests) and the cryptography primitives are imported by the functions that sign or verify:
# a web worker that never touches a credential does not carry them (~12 MiB).

DATA = Path(__file__).resolve().parent / "data"

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"

#: every context the processor may read, and its local copy
CONTEXTS: dict[str, Path] = {
    VC_CONTEXT: DATA / "credentials-v2.jsonld",
    OB3_CONTEXT: DATA / "ob-v3p0-context-3.0.3.json",
    DID_CONTEXT: DATA / "did-v1.jsonld",
    MULTIKEY_CONTEXT: DATA / "multikey-v1.jsonld",
}

CRYPTOSUITE = "eddsa-rdfc-2022"
_ED25519_PUB = b"\xed\x01"  # multicodec ed25519-pub


class ProofError(ValueError):
    """The proof cannot be made or does not verify; the message says why."""


def document_loader(extra: Mapping[str, dict] | None = None) -> FrozenDocumentLoader:
    """A JSON-LD document loader that serves the bundled contexts (plus ``extra``) and nothing else."""
    from pyld.documentloader.frozen import FrozenDocumentLoader

    return FrozenDocumentLoader(documents={**CONTEXTS, **(extra or {})})


@functools.cache
def _default_loader() -> FrozenDocumentLoader:
    return document_loader()


def canonicalize(document: dict, loader: FrozenDocumentLoader | None = None) -> str:
    """The RDFC-1.0 canonical N-Quads of a JSON-LD document; undefined terms are refused."""
    from pyld.jsonld import JsonLdError, JsonLdProcessor

    dropped: list[str] = []
    processor = JsonLdProcessor(on_property_dropped=lambda prop: dropped.append(str(prop)))
    try:
        nquads = processor.normalize(document, {"algorithm": "URDNA2015", "format": "application/n-quads",
                                                "documentLoader": loader or _default_loader()})
    except JsonLdError as exc:
        raise ProofError(f"not valid JSON-LD with the bundled contexts: {_json_ld_reason(exc)}") from None
    if dropped:
        raise ProofError("properties not defined by the document's @context: " + ", ".join(sorted(set(dropped))))
    return nquads


def _json_ld_reason(exc: BaseException) -> str:
    """The innermost JSON-LD error's message (or the context URL that could not be loaded)."""
    from pyld.jsonld import JsonLdError

    while isinstance(exc.__cause__, JsonLdError):
        exc = exc.__cause__
    details = getattr(exc, "details", None)
    if isinstance(details, dict) and details.get("url"):
        return f"context {details['url']} is not available offline"
    return str(exc.args[0]) if exc.args else type(exc).__name__


def public_key_multibase(key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return "z" + base58.b58encode(_ED25519_PUB + key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def public_key_from_multibase(value: str) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("publicKeyMultibase must be base58btc (start with 'z')")
    try:
        raw = base58.b58decode(value[1:])
    except ValueError:
        raise ProofError("publicKeyMultibase is not valid base58") from None
    if len(raw) != 34 or not raw.startswith(_ED25519_PUB):
        raise ProofError("publicKeyMultibase is not an Ed25519 public key")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def timestamp(moment: datetime) -> str:
    """An XML Schema dateTime in UTC, to the second: 2026-11-22T10:00:00Z."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _hash_data(unsecured: dict, options: dict, loader) -> bytes:
    config = {**options, "@context": unsecured.get("@context")}
    return (hashlib.sha256(canonicalize(config, loader).encode()).digest()
            + hashlib.sha256(canonicalize(unsecured, loader).encode()).digest())


def sign(document: dict, key: Ed25519PrivateKey, *, verification_method: str, created: datetime,
         loader: FrozenDocumentLoader | None = None) -> dict:
    """``document`` with an ``eddsa-rdfc-2022`` DataIntegrityProof (proof purpose: assertionMethod)."""
    if "proof" in document:
        raise ProofError("the document already has a proof")
    options = {"type": "DataIntegrityProof", "cryptosuite": CRYPTOSUITE, "created": timestamp(created),
               "verificationMethod": verification_method, "proofPurpose": "assertionMethod"}
    signature = key.sign(_hash_data(document, options, loader))
    return {**document, "proof": {**options, "proofValue": "z" + base58.b58encode(signature).decode()}}


def verify(document: dict, resolve_key: Callable[[str], Ed25519PublicKey | None],
           loader: FrozenDocumentLoader | None = None) -> dict:
    """Check the document's single ``eddsa-rdfc-2022`` proof; returns the proof, raises :class:`ProofError`.

    ``resolve_key(verification_method)`` gives the public key of a verification method this verifier
    trusts, or None.
    """
    if not isinstance(document, dict):
        raise ProofError("a credential is a JSON object")
    proof = document.get("proof")
    if isinstance(proof, list) and len(proof) == 1:
        proof = proof[0]
    if not isinstance(proof, dict):
        raise ProofError("no proof (or more than one)" if proof else "no proof: the credential is not signed")
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(f"unsupported proof: {proof.get('type')} / {proof.get('cryptosuite')} (expected DataIntegrityProof / {CRYPTOSUITE})")
    if proof.get("proofPurpose") != "assertionMethod":
        raise ProofError(f"proof purpose is {proof.get('proofPurpose')!r}, expected 'assertionMethod'")
    if "@context" in proof:
        raise ProofError("a proof with its own @context is not supported")
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("proofValue must be base58btc (start with 'z')")
    try:
        signature = base58.b58decode(value[1:])
    except ValueError:
        raise ProofError("proofValue is not valid base58") from None
    if len(signature) != 64:
        raise ProofError("proofValue is not an Ed25519 signature")
    method = proof.get("verificationMethod")
    key = resolve_key(method) if isinstance(method, str) else None
    if key is None:
        raise ProofError(f"unknown verification method {method!r}: not a key this issuer published")
    from cryptography.exceptions import InvalidSignature

    options = {k: v for k, v in proof.items() if k != "proofValue"}
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    try:
        key.verify(signature, _hash_data(unsecured, options, loader))
    except InvalidSignature:
        raise ProofError("the signature does not match: the credential was changed after it was signed") from None
    return proof
