"""Clever's OAuth 2.0 / OpenID Connect endpoints and the user-token reads SSO needs.

The only module that knows Clever's OAuth URLs, ``/me`` and ``/users/{id}``. Every call goes
through one keep-alive connection pool with a timeout; Clever's failures come back as our
exceptions: ``CleverUnavailable`` (transient: try again later), ``CleverInvalidGrant`` (the code
was used, expired or is unknown), ``CleverRejected`` (any other permanent refusal) and
``IdTokenInvalid``. Results are plain dataclasses; nothing here touches the ORM.

Why urllib3 and not ``requests`` (which the Data API client uses): these three calls sit inside
every login, and on the login benchmark ``requests``' own per-call work (settings merges, hooks,
cookie jars, protocol checks) cost about 0.4 ms of CPU a call over the urllib3 pool it wraps,
more than a tenth of the callback's CPU. authlib still builds the code exchange, authenticates
it (HTTP Basic) and reads Clever's answer; ``_Transport`` is the one method of a session it needs.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
import warnings
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import certifi
import urllib3
from authlib.integrations.base_client import OAuthError
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.client import OAuth2Client
from django.conf import settings

with warnings.catch_warnings():
    # authlib.jose announces its move to joserfc; it is the documented authlib API until 2.0.
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebToken, KeySet
    from authlib.jose.errors import JoseError

AUTHORIZE_PATH = "/oauth/authorize"
TOKENS_PATH = "/oauth/tokens"
DISCOVERY_PATH = "/.well-known/openid-configuration"
ME_PATH = "/v3.0/me"
USER_PATH = "/v3.0/users/{id}"

# Discovery document and JWKS are cached per process; a kid we do not know refetches them.
_METADATA_TTL_SECONDS = 3600.0
# Clock skew allowed when checking the id_token's exp / iat.
_ID_TOKEN_LEEWAY_SECONDS = 60


class CleverError(Exception):
    """Base class: something about talking to Clever went wrong."""


class CleverUnavailable(CleverError):
    """Transient: Clever timed out, refused the connection, or answered 429 / 5xx / non-JSON."""


class CleverRejected(CleverError):
    """Permanent: Clever refused the request (4xx other than invalid_grant) or sent bad data."""


class CleverInvalidGrant(CleverRejected):
    """The authorization code was already used, expired, or never issued (400 invalid_grant)."""


class IdTokenInvalid(CleverRejected):
    """The OIDC id_token failed validation (signature, issuer, audience, expiry or nonce)."""


@dataclass(frozen=True)
class TokenResponse:
    access_token: str = field(repr=False)
    id_token: str = field(default="", repr=False)


@dataclass(frozen=True)
class Me:
    """What ``GET /v3.0/me`` says about the logged-in user."""

    user_id: str
    district_id: str
    login_type: str
    authorized_by: str
    # The canonical link to the user record, relative to the API host, when Clever sent one.
    canonical_path: str


@dataclass(frozen=True)
class IdTokenClaims:
    sub: str
    district_id: str
    login_type: str
    email: str
    given_name: str
    family_name: str


@dataclass(frozen=True)
class CleverRole:
    """One role of a Clever user, with the fields we match accounts on."""

    role: str
    sis_id: str = ""
    district_username: str = ""


@dataclass(frozen=True)
class CleverUser:
    """``GET /v3.0/users/{id}``: one person with all their roles."""

    id: str
    district_id: str
    email: str
    first_name: str
    middle_name: str
    last_name: str
    roles: tuple[CleverRole, ...]

    def role(self, name: str) -> CleverRole | None:
        return next((r for r in self.roles if r.role == name), None)


def normalise_user_type(value: str) -> str:
    """Clever spells the admin type "district admin" in id_tokens and "district_admin" in v3."""
    return value.strip().lower().replace(" ", "_").replace("-", "_")


_metadata_lock = threading.Lock()
_metadata_cache: dict[str, tuple[float, Any]] = {}
_pools_lock = threading.Lock()
_pools: dict[tuple[str, str], urllib3.PoolManager] = {}
# urllib3 retries nothing itself. A code exchange is never retried (a code must not be posted
# twice); a read (GET) is sent again once when the connection was dropped under it (a keep-alive
# connection Clever's side closed as we sent on it), never after a timeout or an answer.
_NO_RETRIES = urllib3.Retry(total=0, read=False, redirect=False, raise_on_status=False)
# Clever's answers here are a few kilobytes; refuse to hold more than this of one in memory.
_MAX_BODY_BYTES = 1_000_000


def _pool_for(url: str) -> urllib3.PoolManager:
    """The keep-alive pool for ``url``'s host: direct, or through the environment's proxy."""
    parts = urlsplit(url)
    # The environment (proxy, CA bundle) is read once per host, not on every call:
    # clear_caches() makes the next call read it again.
    key = (parts.scheme, parts.hostname or "")
    pool = _pools.get(key)
    if pool is not None:
        return pool
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            proxy = urllib.request.getproxies().get(parts.scheme)
            if proxy and urllib.request.proxy_bypass(parts.hostname or ""):
                proxy = None
            options: dict[str, Any] = {
                "maxsize": 16,
                "ca_certs": (
                    os.environ.get("REQUESTS_CA_BUNDLE")
                    or os.environ.get("CURL_CA_BUNDLE")
                    or certifi.where()
                ),
                "retries": _NO_RETRIES,
            }
            if proxy:
                pool = urllib3.ProxyManager(proxy, **options)
            else:
                pool = urllib3.PoolManager(**options)
            _pools[key] = pool
    return pool


@dataclass(frozen=True)
class _Response:
    """What authlib and this module read of an HTTP response."""

    status_code: int
    content: bytes = field(repr=False)

    def json(self) -> Any:
        return json.loads(self.content)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise CleverRejected(f"Clever answered HTTP {self.status_code}")


def _request(
    method: str, url: str, *, what: str, headers: dict[str, str], body: str | None = None
) -> _Response:
    """Send one request to Clever through the host's pool; network failures are transient."""
    attempts = 2 if method == "GET" else 1
    for attempt in range(1, attempts + 1):
        try:
            resp = _pool_for(url).request(
                method,
                url,
                body=body,
                headers={"Accept": "application/json", **headers},
                timeout=urllib3.Timeout(total=_timeout()),
                retries=_NO_RETRIES,
                redirect=False,
                preload_content=False,
            )
            try:
                content = resp.read(_MAX_BODY_BYTES + 1)
            finally:
                resp.release_conn()
            break
        except urllib3.exceptions.ProtocolError:
            if attempt == attempts:
                raise CleverUnavailable(f"{what}: connection dropped") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            # Name the cause (SSLError, NewConnectionError, ...), not urllib3's wrapper around it.
            wrapped = isinstance(exc, urllib3.exceptions.MaxRetryError)
            cause = getattr(exc, "reason", None) if wrapped else None
            raise CleverUnavailable(f"{what}: {type(cause or exc).__name__}") from None
    if len(content) > _MAX_BODY_BYTES:
        raise CleverUnavailable(f"{what}: Clever's answer is over {_MAX_BODY_BYTES} bytes")
    return _Response(status_code=resp.status, content=content)


class _Transport:
    """The one method of a requests session that authlib's OAuth2Client calls here (``post``)."""

    def post(
        self,
        url: str,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        auth: ClientAuth | None = None,
        **_: Any,
    ) -> _Response:
        body = urlencode(data or {})
        headers = dict(headers or {})
        if auth is not None:
            url, headers, body = auth.prepare("POST", url, headers, body)
        return _request("POST", url, what="code exchange", headers=headers, body=body)


class _OAuthClient(OAuth2Client):
    """authlib's OAuth 2 client over ``_Transport``."""

    client_auth_class = ClientAuth
    oauth_error_class = OAuthError


def _timeout() -> float:
    return float(settings.CLEVER_HTTP_TIMEOUT)


def _oauth_url(path: str) -> str:
    return settings.CLEVER_OAUTH_BASE_URL + path


def _api_url(path: str) -> str:
    return settings.CLEVER_API_BASE_URL + path


def _json_or_unavailable(resp: _Response, what: str) -> dict[str, Any]:
    if resp.status_code == 429 or resp.status_code >= 500:
        raise CleverUnavailable(f"{what}: Clever answered HTTP {resp.status_code}")
    try:
        data = resp.json()
    except ValueError:
        raise CleverUnavailable(
            f"{what}: Clever answered HTTP {resp.status_code}, not JSON"
        ) from None
    if not isinstance(data, dict):
        raise CleverUnavailable(f"{what}: Clever answered a non-object JSON body")
    return data


def _oauth_client(*, redirect_uri: str) -> _OAuthClient:
    # Made per call: it holds the user's token after an exchange, and is cheap.
    return _OAuthClient(
        _Transport(),
        client_id=settings.CLEVER_CLIENT_ID,
        client_secret=settings.CLEVER_CLIENT_SECRET,
        token_endpoint_auth_method="client_secret_basic",
        redirect_uri=redirect_uri,
    )


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
    oauth = _oauth_client(redirect_uri=redirect_uri)
    url, _ = oauth.create_authorization_url(_oauth_url(AUTHORIZE_PATH), state=state, **extra)
    return url


def _token_response_hook(resp: _Response) -> _Response:
    # authlib parses whatever JSON comes back; turn Clever outages into our transient error first.
    data = _json_or_unavailable(resp, "code exchange")
    if resp.status_code >= 400 and "error" not in data:
        raise CleverRejected(f"code exchange: Clever answered HTTP {resp.status_code}")
    return resp


def exchange_code(*, code: str, redirect_uri: str) -> TokenResponse:
    """POST the code to Clever's token endpoint (HTTP Basic client auth) for the user's token."""
    oauth = _oauth_client(redirect_uri=redirect_uri)
    oauth.register_compliance_hook("access_token_response", _token_response_hook)
    try:
        token = oauth.fetch_token(
            _oauth_url(TOKENS_PATH),
            grant_type="authorization_code",
            code=code,
            redirect_uri=redirect_uri,
        )
    except OAuthError as exc:
        if exc.error == "invalid_grant":
            raise CleverInvalidGrant("code exchange: invalid_grant") from None
        raise CleverRejected(f"code exchange: {exc.error}") from None
    access_token = token.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise CleverRejected("code exchange: no access_token in Clever's answer")
    id_token = token.get("id_token") or ""
    return TokenResponse(access_token=access_token, id_token=str(id_token))


def _get(url: str, *, what: str, access_token: str = "") -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
    resp = _request("GET", url, what=what, headers=headers)
    data = _json_or_unavailable(resp, what)
    if resp.status_code >= 400:
        raise CleverRejected(f"{what}: Clever answered HTTP {resp.status_code}")
    return data


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def fetch_me(*, access_token: str) -> Me:
    """GET /v3.0/me with the user's token: who logged in, from which district, as what."""
    body = _get(_api_url(ME_PATH), access_token=access_token, what="GET /me")
    data = body.get("data")
    if not isinstance(data, dict) or not _str(data.get("id")):
        raise CleverRejected("GET /me: no user id in Clever's answer")
    canonical = ""
    for link in body.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "canonical":
            canonical = _str(link.get("uri"))
    return Me(
        user_id=data["id"],
        district_id=_str(data.get("district")),
        login_type=normalise_user_type(_str(body.get("type")) or _str(data.get("type"))),
        authorized_by=_str(data.get("authorized_by")),
        canonical_path=canonical,
    )


def _user_path(*, user_id: str, canonical_path: str) -> str:
    # Follow Clever's canonical link when it is a path on the API host; never send the user's
    # token to a host we did not configure.
    if canonical_path.startswith("/") and not canonical_path.startswith("//"):
        return canonical_path
    return USER_PATH.format(id=quote(user_id, safe=""))


def fetch_user(*, access_token: str, user_id: str, canonical_path: str = "") -> CleverUser:
    """GET /v3.0/users/{id} with the user's token: name, email and every role."""
    path = _user_path(user_id=user_id, canonical_path=canonical_path)
    body = _get(_api_url(path), access_token=access_token, what="GET /users/{id}")
    data = body.get("data")
    if not isinstance(data, dict) or not _str(data.get("id")):
        raise CleverRejected("GET /users/{id}: no user in Clever's answer")
    name = data.get("name") if isinstance(data.get("name"), dict) else {}
    roles: list[CleverRole] = []
    for role_name, role in (data.get("roles") or {}).items():
        if not isinstance(role, dict):
            continue
        credentials = role.get("credentials") if isinstance(role.get("credentials"), dict) else {}
        roles.append(
            CleverRole(
                role=normalise_user_type(role_name),
                sis_id=_str(role.get("sis_id")),
                district_username=_str(credentials.get("district_username")),
            )
        )
    return CleverUser(
        id=data["id"],
        district_id=_str(data.get("district")),
        email=_str(data.get("email")).strip(),
        first_name=_str(name.get("first")),
        middle_name=_str(name.get("middle")),
        last_name=_str(name.get("last")),
        roles=tuple(roles),
    )


def _cached(key: str, loader: Any, *, refresh: bool = False) -> Any:
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
    url = _oauth_url(DISCOVERY_PATH)
    return _cached(url, lambda: _get(url, what="OIDC discovery"), refresh=refresh)


def _key_set(*, refresh: bool = False) -> KeySet:
    jwks_uri = _str(_discovery(refresh=refresh).get("jwks_uri"))
    if not jwks_uri:
        raise CleverRejected("OIDC discovery: no jwks_uri")
    return _cached(
        jwks_uri,
        lambda: JsonWebKey.import_key_set(_get(jwks_uri, what="OIDC JWKS")),
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
        login_type=normalise_user_type(_str(claims.get("user_type"))),
        email=_str(claims.get("email")),
        given_name=_str(claims.get("given_name")),
        family_name=_str(claims.get("family_name")),
    )


def clear_caches() -> None:
    """Forget the cached discovery document, keys and connection pools (tests, settings changes)."""
    with _metadata_lock:
        _metadata_cache.clear()
    with _pools_lock:
        for pool in _pools.values():
            pool.clear()
        _pools.clear()
