"""Open Badges for certification records: publishing, signing keys, signed credentials, verification.

A record is *published* (:func:`publish`) the first time its badge is asked for: that fixes the opaque
id of its hosted 2.0 assertion and the salt of its hashed recipient.  Open Badges 3.0 credentials are
signed on demand with the active Ed25519 key (:func:`active_key`, generated on first use, encrypted
with the application's SECRET_KEY); :func:`rotate_key` retires it and every retired key stays published;
:func:`revoke_key` withdraws a compromised one. The issuer is ``did:web`` (:func:`did_document`, served at
/.well-known/did.json) so that standard verifiers find its keys; see docs/verifying-credentials.md.
Revocation is the record's: a revoked record's 2.0 assertion answers 410 Gone, it appears in the 2.0
revocation list, and its bit is set in the 3.0 Bitstring Status List (index = the record's id).
"""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from lms.accounts import services as accounts
from lms.badges import documents, integrity
from lms.badges.documents import Issuer
from lms.badges.integrity import timestamp
from lms.badges.models import BadgeAssertion, BadgeSigningKey, BadgeStatusList
from lms.certification import services as certification
from lms.certification.models import CertificationRecord
from lms.core.errors import Conflict, InvalidInput, NotFound

if TYPE_CHECKING:
    # cryptography's OpenSSL binding (~10 MiB) is imported by the functions that use a key
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

log = logging.getLogger(__name__)


# Publishing ---------------------------------------------------------------------------------

def publish(session: Session, record: CertificationRecord, *, now: datetime) -> BadgeAssertion:
    """The record's badge (created the first time; the same one ever after, even with two requests at once)."""
    published = session.get(BadgeAssertion, record.id)
    if published is not None:
        return published
    published = BadgeAssertion(record_id=record.id, public_id=secrets.token_urlsafe(16), salt=secrets.token_hex(16), created_at=now)
    try:
        with session.begin_nested():
            session.add(published)
            session.flush()
    except IntegrityError:  # published by another request at the same moment
        published = session.scalar(select(BadgeAssertion).where(BadgeAssertion.record_id == record.id))
    return published


def by_public_id(session: Session, public_id: str) -> BadgeAssertion | None:
    if not public_id or len(public_id) > 40:
        return None
    return session.scalar(select(BadgeAssertion).where(BadgeAssertion.public_id == public_id)
                          .options(selectinload(BadgeAssertion.record).selectinload(CertificationRecord.definition)))


def revoked(session: Session) -> list[tuple[BadgeAssertion, CertificationRecord]]:
    """Every published badge whose record is revoked, oldest first."""
    rows = session.execute(select(BadgeAssertion, CertificationRecord).join(BadgeAssertion.record)
                           .where(CertificationRecord.status == "revoked").order_by(CertificationRecord.id))
    return [(published, record) for published, record in rows]


def criteria_narrative(session: Session, definition) -> str:
    """The certification's requirements (and its recertification's), with titles rather than slugs."""
    names = certification.requirement_names(session)

    def describe(req: dict) -> str:
        if req.get("modules"):
            req = {**req, "modules": [names["module"].get(slug, slug) for slug in req["modules"]]}
        return certification.describe_requirement(req, names)

    recertification = (definition.recertification or {}).get("requirements") or []
    return documents.criteria_narrative(definition, [describe(r) for r in definition.requirements], [describe(r) for r in recertification])


def recipient_email(session: Session, record: CertificationRecord) -> str:
    return accounts.get_user(session, record.user_id).email


def assertion_document(session: Session, issuer: Issuer, published: BadgeAssertion) -> tuple[dict, int]:
    """The hosted 2.0 assertion and its HTTP status: 410 Gone once the record is revoked."""
    record = published.record
    if record.status == "revoked":
        return documents.revoked_assertion(issuer, published, record.revoked_reason), 410
    return documents.assertion(issuer, record, published, recipient_email(session, record)), 200


# Signing keys -------------------------------------------------------------------------------

def published_keys(session: Session) -> list[BadgeSigningKey]:
    """Every signing key, the oldest first (retired keys included: they still verify what they signed)."""
    return list(session.scalars(select(BadgeSigningKey).order_by(BadgeSigningKey.id)))


@lru_cache(maxsize=8)
def _decrypt(pem: str, secret: str) -> Ed25519PrivateKey | None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(pem.encode(), password=secret.encode())
    except (ValueError, TypeError):
        return None
    return key if isinstance(key, Ed25519PrivateKey) else None


def _create_key(session: Session, *, secret: str, now: datetime) -> BadgeSigningKey | None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        BestAvailableEncryption,
        Encoding,
        PrivateFormat,
    )

    key = Ed25519PrivateKey.generate()
    row = BadgeSigningKey(public_key=integrity.public_key_multibase(key.public_key()), created_at=now, active_marker=1,
                          private_key_pem=key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8,
                                                            BestAvailableEncryption(secret.encode())).decode())
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return None  # another worker created the active key at the same moment
    return row


def _retire(session: Session, row: BadgeSigningKey, *, now: datetime) -> bool:
    moved = session.execute(update(BadgeSigningKey).where(BadgeSigningKey.id == row.id, BadgeSigningKey.active_marker == 1)
                            .values(active_marker=None, retired_at=now).execution_options(synchronize_session="fetch")).rowcount
    return moved == 1


def active_key(session: Session, *, secret: str, now: datetime) -> tuple[BadgeSigningKey, Ed25519PrivateKey]:
    """The key that signs now: generated on first use.  If it cannot be decrypted (SECRET_KEY changed),
    it is retired and a new one takes its place; what the old one signed still verifies."""
    for _attempt in range(3):
        row = session.scalar(select(BadgeSigningKey).where(BadgeSigningKey.active_marker == 1))
        if row is None:
            row = _create_key(session, secret=secret, now=now)
            if row is None:
                continue
        key = _decrypt(row.private_key_pem, secret)
        if key is not None:
            return row, key
        log.warning("badge signing key %s cannot be decrypted with the current SECRET_KEY: rotating it", row.public_key)
        _retire(session, row, now=now)
    raise Conflict(_("No se pudo preparar la clave de firma de las credenciales; inténtalo de nuevo."))


def rotate_key(session: Session, *, secret: str, now: datetime) -> BadgeSigningKey:
    """Retire the active key (it stays published) and make a new one active."""
    current = session.scalar(select(BadgeSigningKey).where(BadgeSigningKey.active_marker == 1))
    if current is not None and not _retire(session, current, now=now):
        raise Conflict(_("La clave de firma cambió mientras se rotaba; vuelve a intentarlo."))
    row = _create_key(session, secret=secret, now=now)
    if row is None:
        raise Conflict(_("La clave de firma cambió mientras se rotaba; vuelve a intentarlo."))
    return row


def revoke_key(session: Session, public_key: str, *, since: datetime, secret: str, now: datetime) -> BadgeSigningKey:
    """Withdraw a compromised key: what it signed from ``since`` on fails verification, it is no assertion method
    of the issuer any more, and (when it was the active key) a new key signs from now on. What it signed before
    ``since`` still verifies here; holders download their credential again to have it signed with the new key."""
    row = session.scalar(select(BadgeSigningKey).where(BadgeSigningKey.public_key == public_key))
    if row is None:
        raise NotFound(_("No hay ninguna clave de firma %(key)s.", key=public_key))
    if since > now:
        raise InvalidInput(_("El momento desde el que la clave está comprometida no puede ser futuro."))
    row.revoked_at = now
    row.compromised_since = min(since, row.compromised_since) if row.compromised_since else since
    if row.active_marker == 1:
        _retire(session, row, now=now)
        if _create_key(session, secret=secret, now=now) is None:
            raise Conflict(_("La clave de firma cambió mientras se retiraba; vuelve a intentarlo."))
    session.flush()
    return row


def withdrawn_keys(session: Session) -> tuple[str, ...]:
    return tuple(session.scalars(select(BadgeSigningKey.public_key).where(BadgeSigningKey.revoked_at.is_not(None))))


def issuer_document(session: Session, issuer: Issuer) -> dict:
    return documents.issuer_document_v3(issuer, [row.public_key for row in published_keys(session)], withdrawn_keys(session))


def did_document(session: Session, issuer: Issuer) -> dict:
    return documents.did_document(issuer, [row.public_key for row in published_keys(session)], withdrawn_keys(session))


def _key_resolver(session: Session, issuer: Issuer):
    keys = {}
    for row in published_keys(session):
        keys[issuer.verification_method(row.public_key)] = row.public_key
        keys[issuer.profile_verification_method(row.public_key)] = row.public_key  # credentials signed before did:web

    def resolve(method: str) -> Ed25519PublicKey | None:
        return integrity.public_key_from_multibase(keys[method]) if method in keys else None

    return resolve


# Open Badges 3.0 credentials ----------------------------------------------------------------

def _sign(session: Session, document: dict, *, secret: str, issuer: Issuer, now: datetime) -> dict:
    row, key = active_key(session, secret=secret, now=now)
    return integrity.sign(document, key, verification_method=issuer.verification_method(row.public_key), created=now)


def credential_for(session: Session, record: CertificationRecord, *, issuer: Issuer, secret: str, now: datetime) -> dict:
    """The record's OpenBadgeCredential, signed now with the active key.  A revoked record has none."""
    if record.status == "revoked":
        raise Conflict(_("Este certificado fue revocado: no tiene credencial."))
    published = publish(session, record, now=now)
    unsigned = documents.credential(issuer, record, published, recipient_email(session, record),
                                    criteria_narrative(session, record.definition))
    return _sign(session, unsigned, secret=secret, issuer=issuer, now=now)


def status_list(session: Session, *, issuer: Issuer, secret: str, now: datetime) -> BadgeStatusList:
    """The signed BitstringStatusListCredential (the bit of every revoked record is set), signed only when it changes:
    the set of revoked records, the issuer, or a withdrawn signing key. Its ``validFrom`` stays the moment it was
    signed, so a verifier whose clock is a little behind accepts it, and it is cached (ETag) like any document."""
    indexes = sorted(record.id for _published, record in revoked(session))
    digest = hashlib.sha256(json.dumps([issuer.did, indexes]).encode()).hexdigest()
    stored = session.scalar(select(BadgeStatusList).order_by(BadgeStatusList.id.desc()).limit(1))
    if stored is not None and stored.digest == digest:
        signer = json.loads(stored.document).get("proof", {}).get("verificationMethod", "").rpartition("#")[2]
        if signer not in withdrawn_keys(session):
            return stored
    document = _sign(session, documents.status_list_credential(issuer, indexes, now), secret=secret, issuer=issuer, now=now)
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    if stored is None:
        stored = BadgeStatusList(digest=digest, document=text, signed_at=now)
        session.add(stored)
    else:
        stored.digest, stored.document, stored.signed_at = digest, text, now
    session.flush()
    return stored


@dataclass
class Verdict:
    """What :func:`verify_credential` found: valid, or the reasons it is not."""

    problems: list[str] = field(default_factory=list)
    record: CertificationRecord | None = None
    proof: dict | None = None

    @property
    def valid(self) -> bool:
        return not self.problems


def _moment(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def verify_credential(session: Session, document, *, issuer: Issuer, now: datetime) -> Verdict:
    """Verify an OpenBadgeCredential issued by this site: its shape, its proof (with the published keys),
    its validity dates and its revocation status.  Other issuers' credentials are reported as such."""
    verdict = Verdict()
    if not isinstance(document, dict):
        verdict.problems.append("not a credential: the JSON is not an object")
        return verdict
    contexts = document.get("@context")
    types = document.get("type") or []
    if not isinstance(contexts, list) or contexts[:1] != [integrity.VC_CONTEXT]:
        verdict.problems.append(f"@context must start with {integrity.VC_CONTEXT}")
    if not isinstance(types, list) or "VerifiableCredential" not in types or not {"OpenBadgeCredential", "AchievementCredential"} & set(types):
        verdict.problems.append("type must include VerifiableCredential and OpenBadgeCredential")
    issuer_id = document.get("issuer", {}).get("id") if isinstance(document.get("issuer"), dict) else document.get("issuer")
    if issuer_id not in (issuer.did, issuer.v3_issuer):
        verdict.problems.append(f"issued by {issuer_id!r}, not by this site ({issuer.did})")
    if verdict.problems:
        return verdict
    try:
        verdict.proof = integrity.verify(document, _key_resolver(session, issuer))
    except integrity.ProofError as exc:
        verdict.problems.append(f"proof: {exc}")
        return verdict
    key = session.scalar(select(BadgeSigningKey).where(
        BadgeSigningKey.public_key == str(verdict.proof.get("verificationMethod", "")).rpartition("#")[2]))
    signed_at = _moment(verdict.proof.get("created"))
    if key is not None and key.compromised_since is not None and (signed_at is None or signed_at >= key.compromised_since):
        verdict.problems.append(f"proof: signed with a withdrawn (compromised) key on {verdict.proof.get('created')}; "
                                f"the key is not trusted for signatures from {timestamp(key.compromised_since)} on")
        return verdict
    valid_from, valid_until = _moment(document.get("validFrom")), _moment(document.get("validUntil"))
    if valid_from is None:
        verdict.problems.append("validFrom is missing or not a date-time with a time zone")
    elif valid_from > now:
        verdict.problems.append(f"not valid yet: valid from {document['validFrom']}")
    if "validUntil" in document and valid_until is None:
        verdict.problems.append("validUntil is not a date-time with a time zone")
    elif valid_until is not None and valid_until <= now:
        verdict.problems.append(f"expired on {document['validUntil']}")
    status = document.get("credentialStatus")
    if not isinstance(status, dict) or status.get("statusListCredential") != issuer.v3_status or status.get("statusPurpose") != "revocation":
        verdict.problems.append("credentialStatus does not point to this site's revocation list")
        return verdict
    try:
        verdict.record = certification.get_record(session, int(status.get("statusListIndex")))
    except (TypeError, ValueError, NotFound):
        verdict.problems.append(f"statusListIndex {status.get('statusListIndex')!r} is not a certificate of this site")
        return verdict
    if verdict.record.status == "revoked":
        reason = f": {verdict.record.revoked_reason}" if verdict.record.revoked_reason else ""
        verdict.problems.append(f"revoked by the issuer{reason}")
    return verdict
