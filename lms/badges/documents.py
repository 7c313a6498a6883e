"""The Open Badges documents, as plain dicts: 2.0 (issuer Profile, BadgeClass, hosted Assertion,
RevocationList) and 3.0 (issuer Profile with its keys, Achievement, OpenBadgeCredential, and the
BitstringStatusListCredential that says which credentials are revoked).

Pure functions of the data they are given; every ``id`` is an absolute URL under ``PUBLIC_URL``
(see :class:`Issuer`), so the documents do not depend on the address a request came in by.
Published text is in the content's language (Spanish), like the certificates themselves.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlsplit

from lms.badges.integrity import DID_CONTEXT, MULTIKEY_CONTEXT, OB3_CONTEXT, VC_CONTEXT, timestamp

OB2_CONTEXT = "https://w3id.org/openbadges/v2"
#: the smallest status list (16 KB of bits), so that one credential's index tells nothing about the others
STATUS_LIST_MIN_BITS = 131072


@dataclass(frozen=True)
class Issuer:
    """Who issues the badges and where their documents live (from the configuration)."""

    base_url: str
    name: str
    url: str
    email: str

    @classmethod
    def from_config(cls, config) -> "Issuer":
        base = str(config["PUBLIC_URL"]).rstrip("/")
        return cls(base_url=base, name=str(config.get("BADGES_ISSUER_NAME") or "Academia de Atención"),
                   url=str(config.get("BADGES_ISSUER_URL") or base),
                   email=str(config.get("BADGES_ISSUER_EMAIL") or config.get("MAIL_FROM") or ""))

    # the documents' addresses (routes in lms/badges/views.py)
    @property
    def v2_issuer(self) -> str:
        return f"{self.base_url}/badges/v2/issuer"

    @property
    def v2_revocations(self) -> str:
        return f"{self.base_url}/badges/v2/revocations"

    @property
    def v3_issuer(self) -> str:
        return f"{self.base_url}/badges/v3/issuer"

    @property
    def did(self) -> str:
        """The issuer's ``did:web`` identifier (W3C did:web method): the host (a port as ``%3A``) and any path of
        PUBLIC_URL; its DID document is served at ``/.well-known/did.json`` (or ``<path>/did.json``)."""
        parts = urlsplit(self.base_url)
        segments = [quote(parts.netloc, safe="")] + [quote(p, safe="") for p in parts.path.split("/") if p]
        return "did:web:" + ":".join(segments)

    @property
    def did_document_url(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{self.base_url}/did.json" if parts.path.strip("/") else f"{self.base_url}/.well-known/did.json"

    @property
    def v3_status(self) -> str:
        return f"{self.base_url}/badges/v3/status/revocation"

    def badge_class(self, slug: str) -> str:
        return f"{self.base_url}/badges/v2/classes/{slug}"

    def assertion(self, public_id: str) -> str:
        return f"{self.base_url}/badges/v2/assertions/{public_id}"

    def achievement(self, slug: str) -> str:
        return f"{self.base_url}/badges/v3/achievements/{slug}"

    def image(self, slug: str) -> str:
        return f"{self.base_url}/badges/images/{slug}.svg"

    def criteria(self, slug: str) -> str:
        return f"{self.base_url}/badges/criteria/{slug}"

    def verification_page(self, code: str) -> str:
        return f"{self.base_url}/verify/{code}"

    def verification_method(self, public_key: str) -> str:
        """The key's id in the DID document (what new credentials' proofs name)."""
        return f"{self.did}#{public_key}"

    def profile_verification_method(self, public_key: str) -> str:
        """The key's id in the HTTPS issuer profile (what credentials signed before did:web name)."""
        return f"{self.v3_issuer}#{public_key}"


def recipient_hash(email: str, salt: str) -> str:
    """``sha256$`` + hex SHA-256 of the e-mail (trimmed, lower case) followed by the salt."""
    return "sha256$" + hashlib.sha256(((email or "").strip().lower() + salt).encode()).hexdigest()


def criteria_narrative(definition, requirement_lines: list[str], recertification_lines: list[str]) -> str:
    """What earning the certification takes, in Markdown."""
    text = f"Para obtener «{definition.title}» hay que cumplir todo esto:\n\n" + "".join(f"- {line}\n" for line in requirement_lines)
    text += f"\nLa certificación es válida {definition.validity_months} meses desde su emisión."
    if recertification_lines:
        window = (definition.recertification or {}).get("window_days")
        text += (f" Se renueva con una recertificación que se abre {window} días antes de que caduque:\n\n"
                 + "".join(f"- {line}\n" for line in recertification_lines))
    return text.rstrip() + "\n"


#: where a certification's description turns to the trainers: the house rules, with their passages
_TRAINERS_PART = re.compile(r"^\s*(\*\*|__)?(Reglas de la casa|Regla de la casa|House rules?)\b", re.IGNORECASE | re.MULTILINE)


def public_description(text: str | None) -> str:
    """What a verifier or an employer reads about a certification: its description up to the house rules.

    The rest of the file's description (the house rules, the sources they rest on, quiz ids) is for trainers."""
    text = (text or "").strip()
    match = _TRAINERS_PART.search(text)
    return (text[:match.start()] if match else text).strip()


def _description(issuer: Issuer, definition) -> str:
    return public_description(definition.description) or f"«{definition.title}», certificación otorgada por {issuer.name}."


# Open Badges 2.0 ------------------------------------------------------------------------------

def issuer_profile_v2(issuer: Issuer) -> dict:
    return {"@context": OB2_CONTEXT, "type": "Issuer", "id": issuer.v2_issuer, "name": issuer.name, "url": issuer.url,
            "email": issuer.email, "revocationList": issuer.v2_revocations}


def badge_class(issuer: Issuer, definition, narrative: str) -> dict:
    return {"@context": OB2_CONTEXT, "type": "BadgeClass", "id": issuer.badge_class(definition.slug), "name": definition.title,
            "description": _description(issuer, definition), "image": issuer.image(definition.slug),
            "criteria": {"id": issuer.criteria(definition.slug), "narrative": narrative},
            "issuer": issuer.v2_issuer, "tags": [definition.area]}


def assertion(issuer: Issuer, record, published, email: str) -> dict:
    return {
        "@context": OB2_CONTEXT, "type": "Assertion", "id": issuer.assertion(published.public_id),
        "recipient": {"type": "email", "hashed": True, "salt": published.salt, "identity": recipient_hash(email, published.salt)},
        "badge": issuer.badge_class(record.definition.slug),
        "issuedOn": timestamp(record.issued_at), "expires": timestamp(record.expires_at),
        "verification": {"type": "hosted"},
        "evidence": [{"id": issuer.verification_page(record.code), "name": "Verificación pública del certificado",
                      "narrative": "Página pública de la Academia de Atención que confirma el certificado, su titular y su validez."}],
    }


def revoked_assertion(issuer: Issuer, published, reason: str | None) -> dict:
    """What a revoked hosted assertion answers (with HTTP 410 Gone): only ``id`` and ``revoked`` are required."""
    doc = {"@context": OB2_CONTEXT, "type": "Assertion", "id": issuer.assertion(published.public_id), "revoked": True}
    if reason:
        doc["revocationReason"] = reason
    return doc


def revocation_list(issuer: Issuer, revoked: list[tuple[str, str | None]]) -> dict:
    """``revoked``: (public_id, reason) of every published assertion that is revoked."""
    entries = [{"id": issuer.assertion(public_id), **({"revocationReason": reason} if reason else {})} for public_id, reason in revoked]
    return {"@context": OB2_CONTEXT, "type": "RevocationList", "id": issuer.v2_revocations, "issuer": issuer.v2_issuer,
            "revokedAssertions": entries}


# Open Badges 3.0 ------------------------------------------------------------------------------

def profile_v3(issuer: Issuer) -> dict:
    return {"id": issuer.did, "type": ["Profile"], "name": issuer.name, "url": issuer.url, "email": issuer.email}


def _methods(controller: str, method_id, public_keys: list[str]) -> list[dict]:
    return [{"id": method_id(key), "type": "Multikey", "controller": controller, "publicKeyMultibase": key} for key in public_keys]


def issuer_document_v3(issuer: Issuer, public_keys: list[str], withdrawn: tuple[str, ...] = ()) -> dict:
    """The issuer's HTTPS Profile, also the controller document of its keys under their profile ids (what
    credentials signed before the did:web identifier name). Every key ever used is listed (a rotated key still
    verifies what it signed) but a withdrawn (revoked) one is no assertion method."""
    methods = _methods(issuer.v3_issuer, issuer.profile_verification_method, public_keys)
    return {"@context": [DID_CONTEXT, MULTIKEY_CONTEXT, OB3_CONTEXT], **profile_v3(issuer), "id": issuer.v3_issuer,
            "alsoKnownAs": [issuer.did], "verificationMethod": methods,
            "assertionMethod": [m["id"] for m in methods if m["publicKeyMultibase"] not in withdrawn]}


def did_document(issuer: Issuer, public_keys: list[str], withdrawn: tuple[str, ...] = ()) -> dict:
    """The DID document of the issuer's did:web identifier: its keys as Multikey verification methods, every key ever
    used (rotation keeps the old ones: what they signed still verifies); a withdrawn key is no assertion method."""
    methods = _methods(issuer.did, issuer.verification_method, public_keys)
    return {"@context": [DID_CONTEXT, MULTIKEY_CONTEXT], "id": issuer.did, "alsoKnownAs": [issuer.v3_issuer],
            "verificationMethod": methods,
            "assertionMethod": [m["id"] for m in methods if m["publicKeyMultibase"] not in withdrawn]}


def achievement(issuer: Issuer, definition, narrative: str) -> dict:
    return {"id": issuer.achievement(definition.slug), "type": ["Achievement"], "achievementType": "Certification",
            "name": definition.title, "description": _description(issuer, definition),
            "criteria": {"id": issuer.criteria(definition.slug), "narrative": narrative},
            "image": {"id": issuer.image(definition.slug), "type": "Image"}, "tag": [definition.area]}


def achievement_document(issuer: Issuer, definition, narrative: str) -> dict:
    return {"@context": [VC_CONTEXT, OB3_CONTEXT], **achievement(issuer, definition, narrative)}


def credential_id(issuer: Issuer, published) -> str:
    """A stable urn:uuid per record: the same credential whenever it is downloaded."""
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, issuer.assertion(published.public_id)))


def credential(issuer: Issuer, record, published, email: str, narrative: str) -> dict:
    """The unsigned OpenBadgeCredential of a record (see services.credential_for for the signed one)."""
    definition = record.definition
    return {
        "@context": [VC_CONTEXT, OB3_CONTEXT],
        "id": credential_id(issuer, published),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": definition.title,
        "issuer": profile_v3(issuer),
        "validFrom": timestamp(record.issued_at),
        "validUntil": timestamp(record.expires_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
                            "identityHash": recipient_hash(email, published.salt), "salt": published.salt}],
            "achievement": achievement(issuer, definition, narrative),
        },
        "evidence": [{"id": issuer.verification_page(record.code), "type": ["Evidence"],
                      "name": "Verificación pública del certificado"}],
        "credentialStatus": {"id": f"{issuer.v3_status}#{record.id}", "type": "BitstringStatusListEntry",
                             "statusPurpose": "revocation", "statusListIndex": str(record.id),
                             "statusListCredential": issuer.v3_status},
    }


def encode_status_list(indexes: list[int]) -> str:
    """The Bitstring Status List ``encodedList``: multibase base64url (``u``, no padding) of the GZIP of
    the bits, index 0 being the left-most bit of the first byte."""
    size = STATUS_LIST_MIN_BITS * (max(indexes, default=0) // STATUS_LIST_MIN_BITS + 1)
    bits = bytearray(size // 8)
    for index in indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    return "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bits), mtime=0)).decode().rstrip("=")


def decode_status_list(encoded: str) -> bytes:
    if not encoded.startswith("u"):
        raise ValueError("encodedList must be multibase base64url (start with 'u')")
    data = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))


def status_list_credential(issuer: Issuer, revoked_indexes: list[int], now: datetime) -> dict:
    return {
        "@context": [VC_CONTEXT],
        "id": issuer.v3_status,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer.did,
        "validFrom": timestamp(now),
        "credentialSubject": {"id": f"{issuer.v3_status}#list", "type": "BitstringStatusList", "statusPurpose": "revocation",
                              "encodedList": encode_status_list(revoked_indexes)},
    }
