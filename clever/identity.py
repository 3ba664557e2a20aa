"""Logging in with Clever: the authorize URL, the code exchange, ``/me``, the user record, OIDC.

authlib builds the authorize URL and the token request and authenticates it (HTTP Basic);
every request goes out through ``clever.transport``. Results are ``clever.records`` types;
failures are ``clever.errors`` types (``CleverInvalidGrant`` for a used or expired code,
``IdTokenInvalid`` for a token that fails validation).
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from django.conf import settings

from clever import endpoints, transport, usertypes
from clever.errors import (
    CleverInvalidGrant,
    CleverPermanentError,
    CleverTransientError,
    IdTokenInvalid,
)
from clever.records import IdTokenClaims, Me, TokenResponse, UserRecord, parse_user

logger = logging.getLogger(__name__)

with warnings.catch_warnings():
    # authlib.jose announces its move to joserfc; it is the documented authlib API until 2.0.
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebToken, KeySet
    from authlib.jose.errors import JoseError

# Discovery document and JWKS are cached per process; a kid we do not know refetches them.
_METADATA_TTL_SECONDS = 3600.0
# Clock skew allowed when checking the id_token's exp / iat.
_ID_TOKEN_LEEWAY_SECONDS = 60

T = TypeVar("T")
_metadata_lock = threading.Lock()
_metadata_cache: dict[str, tuple[float, Any]] = {}


def _oauth_url(path: str) -> str:
    return settings.CLEVER_OAUTH_BASE_URL + path


def _api_url(path: str) -> str:
    return settings.CLEVER_API_BASE_URL + path


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def authorization_url(
    *, state: str, redirect_uri: str, nonce: str = "", district_id: str = ""
) -> str:
    """Build Clever's authorize URL for the code flow (no HTTP call)."""
    extra: dict[str, str] = {}
    if nonce:
        extra["nonce"] = nonce
    if district_id:
        # Skips Clever's district picker; Clever ignores it when it does not apply.
        extra["district_id"] = district_id
    return prepare_grant_uri(
        _oauth_url(endpoints.AUTHORIZE),
        settings.CLEVER_CLIENT_ID,
        "code",
        redirect_uri=redirect_uri,
        state=state,
        **extra,
    )


def _object(resp: transport.Response, *, where: str) -> dict[str, Any]:
    """A JSON object from Clever, whatever the status; outages and non-JSON are transient."""
    if resp.status == 429 or resp.status >= 500:
        raise CleverTransientError(f"Clever answered HTTP {resp.status}", where=where)
    try:
        data = resp.json()
    except ValueError:
        raise CleverTransientError(
            f"Clever answered HTTP {resp.status}, not JSON", where=where
        ) from None
    if not isinstance(data, dict):
        raise CleverTransientError("Clever answered a non-object JSON body", where=where)
    return data


def exchange_code(*, code: str, redirect_uri: str) -> TokenResponse:
    """POST the code to Clever's token endpoint (HTTP Basic client auth) for the user's token."""
    where = "code exchange"
    url = _oauth_url(endpoints.TOKENS)
    body = prepare_token_request("authorization_code", code=code, redirect_uri=redirect_uri)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    auth = ClientAuth(settings.CLEVER_CLIENT_ID, settings.CLEVER_CLIENT_SECRET)
    url, headers, body = auth.prepare("POST", url, headers, body)
    # Never sent twice: a code must not be posted again, whatever happened to the first.
    resp = transport.send("POST", url, where=where, headers=headers, body=body)
    data = _object(resp, where=where)
    error = data.get("error")
    if error == "invalid_grant":
        raise CleverInvalidGrant("invalid_grant", where=where)
    if error:
        raise CleverPermanentError(_str(error)[:100] or "refused", where=where)
    if resp.status >= 400:
        raise CleverPermanentError(f"Clever answered HTTP {resp.status}", where=where)
    access_token = data.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise CleverPermanentError("no access_token in Clever's answer", where=where)
    return TokenResponse(access_token=access_token, id_token=_str(data.get("id_token")))


def _get(url: str, *, where: str, access_token: str = "") -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
    resp = transport.send("GET", url, where=where, headers=headers)
    data = _object(resp, where=where)
    error = transport.status_error(resp, where=where)
    if error is not None:
        raise error
    return data


def fetch_me(*, access_token: str) -> Me:
    """GET /v3.0/me with the user's token: who logged in, from which district, as what."""
    where = "GET /me"
    body = _get(_api_url(endpoints.ME), access_token=access_token, where=where)
    data = body.get("data")
    if not isinstance(data, dict) or not _str(data.get("id")):
        raise CleverPermanentError("no user id in Clever's answer", where=where)
    canonical = ""
    for link in body.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "canonical":
            canonical = _str(link.get("uri"))
    return Me(
        user_id=data["id"],
        district_id=_str(data.get("district")),
        login_type=usertypes.normalise_user_type(_str(body.get("type")) or _str(data.get("type"))),
        authorized_by=_str(data.get("authorized_by")),
        canonical_path=canonical,
    )


def _user_path(*, user_id: str, canonical_path: str) -> str:
    # Follow Clever's canonical link when it is a path on the API host; never send the user's
    # token to a host we did not configure.
    if canonical_path.startswith("/") and not canonical_path.startswith("//"):
        return canonical_path
    return endpoints.USER.format(id=quote(user_id, safe=""))


def fetch_user(*, access_token: str, user_id: str, canonical_path: str = "") -> UserRecord:
    """GET /v3.0/users/{id} with the user's token: name, email, district and every role."""
    where = "GET /users/{id}"
    path = _user_path(user_id=user_id, canonical_path=canonical_path)
    body = _get(_api_url(path), access_token=access_token, where=where)
    data = body.get("data")
    if not isinstance(data, dict) or not _str(data.get("id")):
        raise CleverPermanentError("no user in Clever's answer", where=where)
    notes: list[tuple[str, str, str]] = []
    record = parse_user(data, where, notes=notes)
    for *_, problem in notes:
        logger.warning("%s: %s", where, problem)
    return record


def _cached(key: str, loader: Callable[[], T], *, refresh: bool = False) -> T:
    now = time.monotonic()
    with _metadata_lock:
        hit = _metadata_cache.get(key)
        if hit and not refresh and now - hit[0] < _METADATA_TTL_SECONDS:
            return hit[1]
    value = loader()
    with _metadata_lock:
        _metadata_cache[key] = (now, value)
    return value


def _discovery(*, refresh: bool = False) -> dict[str, Any]:
    url = _oauth_url(endpoints.OIDC_DISCOVERY)
    return _cached(url, lambda: _get(url, where="OIDC discovery"), refresh=refresh)


def _key_set(*, refresh: bool = False) -> KeySet:
    jwks_uri = _str(_discovery(refresh=refresh).get("jwks_uri"))
    if not jwks_uri:
        raise CleverPermanentError("no jwks_uri", where="OIDC discovery")
    return _cached(
        jwks_uri,
        lambda: JsonWebKey.import_key_set(_get(jwks_uri, where="OIDC JWKS")),
        refresh=refresh,
    )


def _now() -> float:
    """The clock the id_token's expiry is checked against (tests move it)."""
    return time.time()


def validate_id_token(*, id_token: str, nonce: str) -> IdTokenClaims:
    """Check the id_token's signature (JWKS from discovery), issuer, audience, expiry and nonce."""
    jwt = JsonWebToken(["RS256"])
    claims_options = {
        "iss": {"essential": True, "value": settings.CLEVER_OAUTH_BASE_URL},
        "aud": {"essential": True, "value": settings.CLEVER_CLIENT_ID},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
        "nonce": {"essential": True, "value": nonce},
    }
    try:
        try:
            claims = jwt.decode(id_token, _key_set(), claims_options=claims_options)
        except (ValueError, JoseError) as exc:
            # A key rotation shows up as an unknown kid: fetch the keys again, once.
            if "kid" not in str(exc).lower() and "key" not in str(exc).lower():
                raise
            claims = jwt.decode(id_token, _key_set(refresh=True), claims_options=claims_options)
        claims.validate(now=int(_now()), leeway=_ID_TOKEN_LEEWAY_SECONDS)
    except JoseError as exc:
        raise IdTokenInvalid(f"id_token: {exc.error}") from None
    except ValueError as exc:
        raise IdTokenInvalid(f"id_token: {type(exc).__name__}") from None
    # A token with several audiences must also name us as its authorised party.
    aud = claims.get("aud")
    if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != settings.CLEVER_CLIENT_ID:
        raise IdTokenInvalid("id_token: azp is not our client id")
    return IdTokenClaims(
        sub=_str(claims.get("sub")),
        district_id=_str(claims.get("district")),
        login_type=usertypes.normalise_user_type(_str(claims.get("user_type"))),
        email=_str(claims.get("email")),
        given_name=_str(claims.get("given_name")),
        family_name=_str(claims.get("family_name")),
    )


def clear_caches() -> None:
    """Forget the cached discovery document and keys, and the transport's pools."""
    with _metadata_lock:
        _metadata_cache.clear()
    transport.clear_caches()
