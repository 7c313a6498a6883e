"""The eddsa-rdfc-2022 implementation against the W3C test vector, and its offline, safe JSON-LD processing."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lms.badges import integrity
from tests.badges.conftest import HERE

VECTOR = json.loads((HERE / "vectors" / "eddsa-rdfc-2022.json").read_text())
LOADER = integrity.document_loader(VECTOR["contexts"])
PUBLIC = integrity.public_key_from_multibase(VECTOR["keyPair"]["publicKeyMultibase"])


def test_verifies_the_w3c_test_vector():
    proof = integrity.verify(VECTOR["signed"], lambda method: PUBLIC if method.endswith(VECTOR["keyPair"]["publicKeyMultibase"]) else None, LOADER)
    assert proof["created"] == "2023-02-24T23:36:38Z"


def test_signs_exactly_as_the_w3c_test_vector():
    secret = base58.b58decode(VECTOR["keyPair"]["privateKeyMultibase"][1:])
    assert secret[:2] == b"\x80\x26"  # multicodec ed25519-priv
    key = Ed25519PrivateKey.from_private_bytes(secret[2:])
    assert integrity.public_key_multibase(key.public_key()) == VECTOR["keyPair"]["publicKeyMultibase"]
    unsigned = {k: v for k, v in VECTOR["signed"].items() if k != "proof"}
    signed = integrity.sign(unsigned, key, verification_method=VECTOR["signed"]["proof"]["verificationMethod"],
                            created=datetime(2023, 2, 24, 23, 36, 38, tzinfo=timezone.utc), loader=LOADER)
    assert signed["proof"]["proofValue"] == VECTOR["signed"]["proof"]["proofValue"]


@pytest.mark.parametrize("change, reason", [
    (lambda d: d["credentialSubject"].update(alumniOf="Otra escuela"), "the signature does not match"),
    (lambda d: d["proof"].update(cryptosuite="eddsa-jcs-2022"), "unsupported proof"),
    (lambda d: d["proof"].update(proofPurpose="authentication"), "proof purpose"),
    (lambda d: d["proof"].update(proofValue="u" + d["proof"]["proofValue"][1:]), "base58btc"),
    (lambda d: d["proof"].update(verificationMethod="https://vc.example/issuers/5678#otra"), "unknown verification method"),
    (lambda d: d.pop("proof"), "not signed"),
])
def test_rejects_with_a_reason(change, reason):
    document = json.loads(json.dumps(VECTOR["signed"]))
    change(document)
    keys = {VECTOR["signed"]["proof"]["verificationMethod"]: PUBLIC}
    with pytest.raises(integrity.ProofError, match=reason):
        integrity.verify(document, keys.get, LOADER)


def test_contexts_are_never_fetched():
    document = {"@context": ["https://www.w3.org/ns/credentials/v2", "https://example.org/contexto"], "type": ["VerifiableCredential"]}
    with pytest.raises(integrity.ProofError, match="context https://example.org/contexto is not available offline"):
        integrity.canonicalize(document)
    # the W3C examples context is not bundled with the site either: only the test gives it
    with pytest.raises(integrity.ProofError, match="not available offline"):
        integrity.canonicalize({k: v for k, v in VECTOR["signed"].items() if k != "proof"})


def test_undefined_properties_are_refused_not_silently_unsigned():
    document = {"@context": [integrity.VC_CONTEXT, integrity.OB3_CONTEXT], "type": ["VerifiableCredential", "OpenBadgeCredential"],
                "issuer": "https://example.org/issuer", "validFrom": "2026-01-01T00:00:00Z", "credentialSubject": {"nota": 10}}
    with pytest.raises(integrity.ProofError, match="properties not defined by the document's @context: nota"):
        integrity.sign(document, Ed25519PrivateKey.generate(), verification_method="https://example.org/issuer#k",
                       created=datetime.now(timezone.utc))


def test_multikey_round_trip_and_bad_keys():
    key = Ed25519PrivateKey.generate().public_key()
    encoded = integrity.public_key_multibase(key)
    assert encoded.startswith("z6Mk") and integrity.public_key_from_multibase(encoded) == key
    for bad in ("6Mk", "z" + base58.b58encode(b"\x12\x00" + bytes(32)).decode(), "z0OIl"):
        with pytest.raises(integrity.ProofError):
            integrity.public_key_from_multibase(bad)
