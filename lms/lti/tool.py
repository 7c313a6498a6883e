"""pylti1p3 wired to the database: the tool configuration, the launch data storage (shared by every
worker), nonces used once, and platform keysets cached and refetched when the platform rotates its key.

Every JWT and OIDC check is pylti1p3's; this module only supplies where the data lives.
"""
from __future__ import annotations

import hashlib
import time
from datetime import datetime, timedelta, timezone

import jwt
import requests
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest, FlaskSessionService
from pylti1p3.deployment import Deployment
from pylti1p3.exception import LtiException, LtiMessageValidationException
from pylti1p3.launch_data_storage.cache import CacheDataStorage
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.lti.models import LtiPlatform, LtiStoredValue

HTTP_TIMEOUT = 10  # seconds, for the platform's keyset, token and service endpoints


class TimeoutSession(requests.Session):
    """pylti1p3 calls the platform without a timeout; never hang a worker on a slow platform."""

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        return super().request(method, url, **kwargs)


def http_session() -> requests.Session:
    s = TimeoutSession()
    s.headers["User-Agent"] = "academia-lti/1.0"
    return s


class CachingServiceConnector(ServiceConnector):
    """Access tokens cached per process, per (issuer, client_id, scopes), until they expire."""

    _tokens: dict[str, tuple[str, float]] = {}

    def _scope_key(self, scopes) -> str:
        return super()._scope_key(list(scopes) + ["client:" + str(self._registration.get_client_id())])

    def _get_cached_access_token(self, scope_key: str):
        token = self._tokens.get(scope_key)
        return token[0] if token and token[1] > time.time() + 30 else None

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float):
        self._tokens[scope_key] = (access_token, time.time() + float(expires_in or 0))


# -- storage -------------------------------------------------------------------------------------
class DatabaseCache:
    """The key/value cache interface pylti1p3's CacheDataStorage expects, on ``lti_stored_values``."""

    def __init__(self, session: Session, now: datetime):
        self.session = session
        self.now = now

    def get(self, key: str):
        row = self.session.get(LtiStoredValue, key)
        if row is None or (row.expires_at is not None and row.expires_at <= self.now):
            return None
        return row.value

    def set(self, key: str, value, exp: int | None = None) -> None:
        expires = self.now + timedelta(seconds=exp) if exp else None
        row = self.session.get(LtiStoredValue, key)
        if row is None:
            try:
                with self.session.begin_nested():  # another worker may insert the same key (a platform keyset)
                    self.session.add(LtiStoredValue(key=key, value=value, expires_at=expires))
                return
            except IntegrityError:
                row = self.session.get(LtiStoredValue, key, populate_existing=True)
        row.value, row.expires_at = value, expires
        self.session.flush()

    def consume(self, key: str) -> bool:
        """Delete the key; True when it existed and had not expired (only one caller ever gets True)."""
        result = self.session.execute(
            delete(LtiStoredValue).where(LtiStoredValue.key == key)
            .where((LtiStoredValue.expires_at.is_(None)) | (LtiStoredValue.expires_at > self.now)))
        return result.rowcount == 1

    def purge_expired(self) -> int:
        result = self.session.execute(delete(LtiStoredValue).where(LtiStoredValue.expires_at <= self.now))
        return result.rowcount


class DatabaseLaunchDataStorage(CacheDataStorage):
    """pylti1p3's cache launch data storage with the database as the cache (several workers)."""

    def __init__(self, cache: DatabaseCache):
        super().__init__()
        self._cache = cache

    def consume(self, key: str) -> bool:
        return self._cache.consume(self._prepare_key(key))


class SessionService(FlaskSessionService):
    """A nonce is good for one launch: checking it uses it up (replays are refused)."""

    def check_nonce(self, nonce: str) -> bool:
        storage = self.data_storage
        if isinstance(storage, DatabaseLaunchDataStorage):
            return storage.consume(self._get_key("nonce", nonce))
        return super().check_nonce(nonce)


# -- configuration -------------------------------------------------------------------------------
class PlatformRegistration(Registration):
    """pylti1p3's Registration plus the platform row and an optional pasted public key."""

    platform: LtiPlatform
    pasted_public_key: str | None = None


class DatabaseToolConf(ToolConfAbstract):
    """Registrations and deployments read from ``lti_platforms`` / ``lti_deployments``; one issuer may
    have several client ids."""

    def __init__(self, session: Session, private_key_pem: str, public_key_pem: str):
        super().__init__()
        self.session = session
        self.private_key_pem = private_key_pem
        self.public_key_pem = public_key_pem

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def _platform(self, iss: str, client_id: str | None) -> LtiPlatform | None:
        query = select(LtiPlatform).where(LtiPlatform.issuer == iss)
        if client_id:
            return self.session.scalar(query.where(LtiPlatform.client_id == client_id))
        found = self.session.scalars(query.limit(2)).all()
        return found[0] if len(found) == 1 else None  # without client_id only an unambiguous issuer

    def _registration(self, platform: LtiPlatform) -> PlatformRegistration:
        reg = PlatformRegistration()
        reg.platform = platform
        reg.pasted_public_key = platform.public_key_pem or None
        reg.set_issuer(platform.issuer).set_client_id(platform.client_id)
        reg.set_auth_login_url(platform.auth_login_url).set_auth_token_url(platform.auth_token_url)
        reg.set_key_set_url(platform.key_set_url)
        if platform.auth_audience:
            reg.set_auth_audience(platform.auth_audience)
        reg.set_tool_private_key(self.private_key_pem).set_tool_public_key(self.public_key_pem)
        return reg

    def find_registration_by_issuer(self, iss: str, *args, **kwargs):
        return self.find_registration_by_params(iss, None)

    def find_registration_by_params(self, iss: str, client_id: str | None, *args, **kwargs):
        platform = self._platform(iss, client_id)
        return self._registration(platform) if platform else None

    def find_deployment(self, iss: str, deployment_id: str):
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(self, iss: str, deployment_id: str, client_id: str | None, *args, **kwargs):
        platform = self._platform(iss, client_id)
        if platform and any(d.deployment_id == deployment_id for d in platform.deployments):
            return Deployment().set_deployment_id(deployment_id)
        return None


# -- the two steps -------------------------------------------------------------------------------
class OIDCLogin(FlaskOIDCLogin):
    cookie_check_template_name = "lti/cookies_check.html"


class TokenRefused(LtiMessageValidationException):
    """An id_token claim check failed; ``reason`` says which: missing-claim, audience, azp, clock, expired."""

    def __init__(self, reason: str, message: str, claim: str | None = None):
        super().__init__(message)
        self.reason, self.claim = reason, claim


DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


class MessageLaunch(FlaskMessageLaunch):
    """Platform keysets are cached in the database; a token signed with a key the cached set lacks
    makes one fresh fetch (the platform rotated its key) unless the cache is younger than
    ``min_refetch`` seconds. A pasted platform key is used as is.

    The id_token checks go beyond pylti1p3's (OpenID Connect Core 3.1.3.7, LTI 1.3 §5.1.3): ``exp`` and ``iat``
    are required, ``aud`` must contain our client id (with several audiences ``azp`` must be present and name
    it), times are checked with ``leeway`` seconds of tolerated clock difference, and each failure says what
    failed (:class:`TokenRefused`)."""

    def __init__(self, request, tool_conf, storage: DatabaseLaunchDataStorage, *, keyset_lifetime: int, min_refetch: int,
                 leeway: int = 60):
        super().__init__(request, tool_conf, session_service=SessionService(request), launch_data_storage=storage,
                         requests_session=http_session())
        self._storage = storage
        self._keyset_lifetime = keyset_lifetime
        self._min_refetch = min_refetch
        self._leeway = leeway
        self._keyset_fetched_at: float | None = None
        self._force_fetch = False

    def get_client_id(self) -> str:
        body = self._get_jwt_body()
        aud = body.get("aud")
        audiences = [aud] if isinstance(aud, str) else [a for a in aud or [] if isinstance(a, str)] if isinstance(aud, list) else []
        if not audiences:
            raise TokenRefused("audience", "The id_token has no audience (aud).", "aud")
        azp = body.get("azp")
        if azp is None:
            if len(audiences) > 1:
                raise TokenRefused("azp", "The id_token names several audiences (aud) but no authorized party (azp).", "azp")
            return audiences[0]
        if azp not in audiences:
            raise TokenRefused("azp", f"The id_token's authorized party (azp) {azp!r} is not one of its audiences {audiences!r}.",
                               "azp")
        return azp

    def validate_jwt_signature(self):
        """The signature with the platform's key, then the claims: exp and iat required, aud contains our client id."""
        id_token = self._get_id_token()
        public_key, key_alg = self.get_public_key()
        try:
            jwt.decode(id_token, public_key, algorithms=[key_alg], audience=self.get_client_id(), leeway=self._leeway,
                       options={"require": ["exp", "iat"], "verify_aud": True, "verify_iat": True})
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRefused("missing-claim", f"The id_token has no {exc.claim!r} claim.", exc.claim) from exc
        except jwt.ExpiredSignatureError as exc:
            raise TokenRefused("expired", f"The id_token has expired (exp, {self._leeway} s of clock leeway).", "exp") from exc
        except jwt.ImmatureSignatureError as exc:
            raise TokenRefused("clock", f"The id_token is dated in the future beyond {self._leeway} s of clock leeway: {exc}",
                               "iat") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenRefused("audience", f"The id_token's audience (aud) does not name this tool: {exc}", "aud") from exc
        except jwt.InvalidTokenError as exc:
            raise LtiMessageValidationException(f"Can't decode id_token: {exc}") from exc
        return self

    def validate_message(self):
        """pylti1p3 refuses a deep linking request whose accept_types lack ltiResourceLink; we offer plain links
        too and tell the person when nothing we offer is accepted (the view does)."""
        body = self._get_jwt_body()
        settings = body.get(DL_SETTINGS)
        if isinstance(settings, dict) and isinstance(settings.get("accept_types"), list) \
                and "ltiResourceLink" not in settings["accept_types"]:
            saved = self._jwt
            patched = dict(body, **{DL_SETTINGS: dict(settings, accept_types=[*settings["accept_types"], "ltiResourceLink"])})
            self._jwt = dict(saved, body=patched)
            try:
                return super().validate_message()
            finally:
                self._jwt = saved
        return super().validate_message()

    @property
    def registration(self) -> PlatformRegistration | None:
        return self._registration

    def fetch_public_key(self, key_set_url: str):
        key = "keyset-" + hashlib.sha256(key_set_url.encode()).hexdigest()
        cache = self._storage._get_cache()
        entry = cache.get(key)
        if entry and not self._force_fetch:
            self._keyset_fetched_at = entry["fetched_at"]
            return entry["keyset"]
        keyset = super().fetch_public_key(key_set_url)  # no library caching configured: a real fetch
        if not isinstance(keyset, dict) or not isinstance(keyset.get("keys"), list):
            raise LtiException(f"The platform's keyset at {key_set_url} is not a JWKS (no \"keys\" list).")
        self._keyset_fetched_at = time.time()
        cache.set(key, {"fetched_at": self._keyset_fetched_at, "keyset": keyset}, self._keyset_lifetime)
        return keyset

    def get_public_key(self):
        reg = self._registration
        if isinstance(reg, PlatformRegistration) and reg.pasted_public_key:
            return reg.pasted_public_key, "RS256"
        try:
            return super().get_public_key()
        except LtiException:
            fetched = self._keyset_fetched_at
            if self._force_fetch or fetched is None or time.time() - fetched < self._min_refetch:
                raise
            self._force_fetch = True
            reg.set_key_set(None)
            return super().get_public_key()


def make_storage(session: Session, request: FlaskRequest, now: datetime | None = None) -> DatabaseLaunchDataStorage:
    storage = DatabaseLaunchDataStorage(DatabaseCache(session, now or datetime.now(timezone.utc)))
    storage.set_request(request)
    return storage
