"""The one way a request goes out to Clever: one keep-alive pool per host, one timeout policy.

Every Clever call in the project (the code exchange, ``/me``, the Data API's pages, the token
list, OIDC discovery and keys) is sent by ``send`` here, so timeouts, TLS trust, proxies and
body limits are decided once:

- Pools are keyed by scheme and host and kept for the process (keep-alive: a login's three calls
  and a sync's pages reuse their connections). The environment (``HTTPS_PROXY`` / ``NO_PROXY``,
  ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE``, else certifi's bundle) is read once per host;
  ``clear_caches()`` makes the next call read it again.
- urllib3 retries nothing and follows no redirect (a user's or district's token is never sent to
  a host we did not choose). A GET is sent again once when its keep-alive connection was dropped
  under it, never after a timeout or an answer; a POST is never sent twice (a code must not be
  redeemed twice). Retry policies beyond that belong to the facades (``data_api``).
- Network failures become ``CleverTransientError`` naming the call and the cause.

Why urllib3 and not ``requests``: these calls sit inside every login, and on the login benchmark
``requests``' own per-call work (settings merges, hooks, cookie jars) cost about 0.4 ms of CPU a
call over the urllib3 pool it wraps, more than a tenth of the callback's CPU.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings

from clever.errors import (
    CleverError,
    CleverNotFound,
    CleverPermanentError,
    CleverRateLimited,
    CleverTransientError,
    CleverUnauthorized,
)

# Identity answers are a few kilobytes; a Data API page of 10,000 records tens of megabytes.
SMALL_BODY_BYTES = 1_000_000
PAGE_BODY_BYTES = 256_000_000

_pools_lock = threading.Lock()
_pools: dict[tuple[str, str], urllib3.PoolManager] = {}
_NO_RETRIES = urllib3.Retry(total=0, read=False, redirect=False, raise_on_status=False)


@dataclass(frozen=True)
class Response:
    """What the facades read of an answer: status, headers, body."""

    status: int
    headers: Mapping[str, str] = field(repr=False)
    content: bytes = field(repr=False)

    def json(self) -> Any:
        return json.loads(self.content)


def _pool_for(url: str) -> urllib3.PoolManager:
    """The keep-alive pool for ``url``'s host: direct, or through the environment's proxy."""
    parts = urlsplit(url)
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
            pool = (
                urllib3.ProxyManager(proxy, **options) if proxy else urllib3.PoolManager(**options)
            )
            _pools[key] = pool
    return pool


def send(
    method: str,
    url: str,
    *,
    where: str,
    headers: Mapping[str, str] | None = None,
    body: str | None = None,
    max_bytes: int = SMALL_BODY_BYTES,
) -> Response:
    """Send one request to Clever through the host's pool; network failures are transient."""
    attempts = 2 if method == "GET" else 1
    for attempt in range(1, attempts + 1):
        try:
            resp = _pool_for(url).request(
                method,
                url,
                body=body,
                headers={"Accept": "application/json", **(headers or {})},
                timeout=urllib3.Timeout(total=float(settings.CLEVER_HTTP_TIMEOUT)),
                retries=_NO_RETRIES,
                redirect=False,
                preload_content=False,
            )
            try:
                content = resp.read(max_bytes + 1)
            finally:
                resp.release_conn()
            break
        except urllib3.exceptions.ProtocolError:
            if attempt == attempts:
                raise CleverTransientError("connection dropped", where=where) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            # Name the cause (SSLError, NewConnectionError, ...), not urllib3's wrapper around it.
            wrapped = isinstance(exc, urllib3.exceptions.MaxRetryError)
            cause = getattr(exc, "reason", None) if wrapped else None
            failure = cause or exc
            # urllib3's NewConnectionError (refused, unreachable) subclasses ConnectTimeoutError.
            timed_out = isinstance(failure, urllib3.exceptions.TimeoutError) and not isinstance(
                failure, urllib3.exceptions.NewConnectionError
            )
            what = "timed out" if timed_out else "connection failed"
            raise CleverTransientError(
                f"{what} ({type(cause or exc).__name__})", where=where
            ) from None
    if len(content) > max_bytes:
        raise CleverTransientError(f"Clever's answer is over {max_bytes} bytes", where=where)
    return Response(status=resp.status, headers=resp.headers, content=content)


def _message(resp: Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return ""
    if not isinstance(body, Mapping):
        return ""
    return str(body.get("message") or body.get("error") or "")[:200]


def status_error(resp: Response, *, where: str) -> CleverError | None:
    """Our exception for an answer's status (None for 2xx/3xx), with Clever's message."""
    status = resp.status
    if status < 400:
        return None
    message = _message(resp)
    detail = f"HTTP {status}" + (f": {message}" if message else "")
    if status == 401:
        return CleverUnauthorized(detail, status=status, where=where)
    if status == 404:
        return CleverNotFound(detail, status=status, where=where)
    if status == 429:
        return CleverRateLimited(f"rate limited ({detail})", status=status, where=where)
    if status == 501 or status < 500:
        return CleverPermanentError(detail, status=status, where=where)
    return CleverTransientError(detail, status=status, where=where)


def json_body(resp: Response, *, where: str) -> Any:
    """The answer's JSON, or our exception: for its status, an HTML page, or a non-JSON body."""
    error = status_error(resp, where=where)
    if error is not None:
        raise error
    if "html" in resp.headers.get("Content-Type", "").lower():
        raise CleverTransientError(
            f"HTTP {resp.status} with an HTML body, not JSON", status=resp.status, where=where
        )
    try:
        return resp.json()
    except UnicodeDecodeError as exc:
        # Reported, never repaired: a replaced byte would be stored as if Clever had sent it.
        raise CleverTransientError(
            f"HTTP {resp.status} with a body that is not valid UTF-8 (byte "
            f"0x{exc.object[exc.start]:02x} at position {exc.start})",
            status=resp.status,
            where=where,
        ) from None
    except ValueError:
        raise CleverTransientError(
            f"HTTP {resp.status} with a body that is not JSON", status=resp.status, where=where
        ) from None


def clear_caches() -> None:
    """Close and forget every pool (tests, or after the environment's proxy/CA changed)."""
    with _pools_lock:
        for pool in _pools.values():
            pool.clear()
        _pools.clear()
