"""Clever's Data API (v3.0), the district-token list and events: pages of typed records.

Built for Clever's documented behaviour: ``limit`` pages followed through ``links`` ``rel: next``
(relative to the API base; an absolute link is followed only on the configured API host, so a
district's token never leaves it), stopping when there is no next link *or* the page is empty,
and refusing a next link that does not advance. 429s are waited out until ``X-RateLimit-Reset``
(at most ``CLEVER_RATE_LIMIT_MAX_WAIT``); transient failures are retried
``CLEVER_HTTP_MAX_RETRIES`` times with exponential backoff and jitter. Every request goes out
through ``clever.transport``.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from authlib.oauth2.auth import ClientAuth
from django.conf import settings

from clever import endpoints, transport
from clever.errors import (
    CleverError,
    CleverMalformedError,
    CleverPermanentError,
    CleverRateLimited,
    CleverTransientError,
)
from clever.records import DistrictRecord, DistrictToken, Page, parse_district

logger = logging.getLogger(__name__)

# Longest single backoff between retries, whatever the attempt.
_MAX_BACKOFF_SECONDS = 30.0


def _backoff(attempt: int) -> float:
    """Exponential backoff with jitter for retry number ``attempt`` (0-based)."""
    ceiling = min(_MAX_BACKOFF_SECONDS, settings.CLEVER_HTTP_BACKOFF_BASE * (2**attempt))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _rate_limit_wait(resp: transport.Response) -> float:
    reset = resp.headers.get("X-RateLimit-Reset", "")
    try:
        # Plus a little, so we arrive after the window turned, not just before.
        return max(0.0, float(reset) - time.time()) + 0.05
    except ValueError:
        return 1.0


class _Api:
    """One base URL and one credential: GETs JSON with the Data API's retry policy."""

    def __init__(self, base_url: str, *, authorization: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": authorization}
        self.host = urlsplit(self.base_url).netloc

    def url(self, path_or_uri: str, params: Mapping[str, Any] | None, *, where: str) -> str:
        # Clever's links are relative to the API base ("/v3.0/users?starting_after=..."), so
        # they are appended to the base (which may carry a path), not resolved against the host.
        if path_or_uri.startswith(("http://", "https://", "//")):
            if urlsplit(path_or_uri).netloc != self.host:
                raise CleverMalformedError(
                    f"a link leads off the Clever API host ({path_or_uri[:120]})", where=where
                )
            url = path_or_uri
        else:
            url = self.base_url + "/" + path_or_uri.lstrip("/")
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        return url

    def get_json(
        self, path_or_uri: str, params: Mapping[str, Any] | None = None, *, where: str
    ) -> Any:
        """GET ``path_or_uri`` and return its JSON body, retrying what is worth retrying."""
        url = self.url(path_or_uri, params, where=where)
        retries = 0
        waited = 0.0
        while True:
            try:
                resp = transport.send(
                    "GET",
                    url,
                    where=where,
                    headers=self.headers,
                    max_bytes=transport.PAGE_BODY_BYTES,
                )
                return transport.json_body(resp, where=where)
            except CleverRateLimited as exc:
                wait = _rate_limit_wait(resp)
                max_wait = settings.CLEVER_RATE_LIMIT_MAX_WAIT
                if waited + wait > max_wait:
                    exc.message = (
                        f"rate limited (429); the window resets in {wait:.0f}s, longer than "
                        f"CLEVER_RATE_LIMIT_MAX_WAIT ({max_wait:g}s)"
                    )
                    raise
                logger.info("Clever rate limit on %s; waiting %.1fs", where, wait)
                waited += wait
                _sleep(wait)
                continue
            except CleverTransientError as exc:
                error: CleverError = exc
            if retries >= settings.CLEVER_HTTP_MAX_RETRIES:
                error.message += f" (gave up after {retries + 1} attempts)"
                raise error
            delay = _backoff(retries)
            logger.warning("Clever %s failed (%s); retry in %.2fs", where, error.message, delay)
            retries += 1
            _sleep(delay)


def _next_uri(body: Mapping[str, Any]) -> str:
    for link in body.get("links") or []:
        if isinstance(link, Mapping) and link.get("rel") == "next" and link.get("uri"):
            return str(link["uri"])
    return ""


def _cursor(uri: str) -> str:
    values = parse_qs(urlsplit(uri).query).get("starting_after") or [""]
    return values[0]


def _paginate(
    api: _Api, path: str, params: Mapping[str, Any], *, wrapped: bool = True
) -> Iterator[Page]:
    """Pages of ``path``: follow rel=next until none or an empty page; refuse a stalled link."""
    uri: str = path
    query: Mapping[str, Any] | None = params
    number = 0
    seen: set[str] = set()
    last_cursor = ""
    while True:
        number += 1
        where = f"GET {path} page {number}"
        body = api.get_json(uri, query, where=where)
        if not isinstance(body, Mapping) or not isinstance(body.get("data"), list):
            raise CleverMalformedError("the response has no 'data' list", where=where)
        items = []
        for position, item in enumerate(body["data"], start=1):
            inner = item.get("data") if isinstance(item, Mapping) else None
            if not wrapped and inner is None and isinstance(item, Mapping):
                inner = item
            if not isinstance(inner, Mapping):
                raise CleverMalformedError(
                    f"item {position} is not wrapped as {{'data': {{...}}}}", where=where
                )
            items.append(inner)
        if not items:
            return
        yield Page(number=number, where=where, items=items)
        next_uri = _next_uri(body)
        if not next_uri:
            return
        cursor = _cursor(next_uri)
        if next_uri in seen or (cursor and cursor == last_cursor):
            raise CleverPermanentError(
                f"the next link does not advance ({next_uri[:120]})", where=where
            )
        seen.add(next_uri)
        last_cursor = cursor
        uri, query = next_uri, None


def _basic(client_id: str, client_secret: str) -> str:
    # The same HTTP Basic header authlib builds for the code exchange.
    _, headers, _ = ClientAuth(client_id, client_secret, "client_secret_basic").prepare(
        "GET", endpoints.TOKENS, {}, ""
    )
    return headers["Authorization"]


def list_district_tokens(
    *, client_id: str, client_secret: str, district_id: str | None = None
) -> list[DistrictToken]:
    """GET /oauth/tokens?owner_type=district with the app credentials: the districts' tokens."""
    api = _Api(settings.CLEVER_OAUTH_BASE_URL, authorization=_basic(client_id, client_secret))
    params: dict[str, Any] = {"owner_type": "district"}
    if district_id:
        params["district"] = district_id
    tokens: dict[str, DistrictToken] = {}
    # Data API lists wrap items as {"data": {...}}; the token list's items are documented bare.
    # Accept either.
    for page in _paginate(api, endpoints.TOKENS, params, wrapped=False):
        for position, item in enumerate(page.items, start=1):
            token = _parse_token(item, where=f"{page.where} item {position}")
            if token is not None:
                tokens[token.district_id] = token
    result = list(tokens.values())
    if district_id:
        # Whether Clever honours ?district= is not certain: narrow here as well.
        result = [t for t in result if t.district_id == district_id]
    return result


def _parse_token(item: Mapping[str, Any], *, where: str) -> DistrictToken | None:
    owner = item.get("owner")
    if not isinstance(owner, Mapping) or owner.get("type") != "district":
        return None
    district_id, token = owner.get("id"), item.get("access_token")
    if not isinstance(district_id, str) or not district_id:
        raise CleverMalformedError("token entry has no owner.id", where=where)
    if not isinstance(token, str) or not token:
        raise CleverMalformedError(
            f"token entry for district {district_id} has no access_token", where=where
        )
    scopes = item.get("scopes")
    return DistrictToken(
        district_id=district_id,
        access_token=token,
        created=str(item.get("created") or ""),
        scopes=tuple(s for s in scopes if isinstance(s, str)) if isinstance(scopes, list) else (),
    )


class DataApiClient:
    """Clever's Data API with one district-app token: typed records, page by page."""

    def __init__(self, token: str, *, base_url: str | None = None) -> None:
        self._api = _Api(base_url or settings.CLEVER_API_BASE_URL, authorization=f"Bearer {token}")

    def close(self) -> None:
        """Nothing to release: connections stay in the transport's keep-alive pool."""

    def __enter__(self) -> DataApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def district(self, district_id: str) -> DistrictRecord:
        """GET /v3.0/districts/{id}: the district's record."""
        path = endpoints.DISTRICT.format(id=quote(district_id, safe=""))
        where = f"GET {path}"
        body = self._api.get_json(path, where=where)
        if not isinstance(body, Mapping):
            raise CleverMalformedError("the response is not an object", where=where)
        return parse_district(body.get("data"), where)

    def pages(self, path: str, **params: Any) -> Iterator[Page]:
        """GET a list endpoint page by page (limit=CLEVER_SYNC_PAGE_SIZE), raw items."""
        query = {"limit": settings.CLEVER_SYNC_PAGE_SIZE, **params}
        return _paginate(self._api, path, query)

    def user_sections(self, user_id: str) -> Iterator[Page]:
        """GET /v3.0/users/{id}/sections: the sections a user is a student or teacher of."""
        return self.pages(endpoints.USER_SECTIONS.format(id=quote(user_id, safe="")))

    def events(self, *, starting_after: str = "") -> Iterator[Page]:
        """GET /v3.0/events after ``starting_after``, oldest first, page by page."""
        params = {"starting_after": starting_after} if starting_after else {}
        return self.pages(endpoints.EVENTS, **params)

    def latest_event_id(self) -> str:
        """GET /v3.0/events page by page: the newest event id ("" when there are none)."""
        # Events are ascending; the newest is the last one of the last page. Clever documents
        # no "newest first" flag, so read forward and keep only the last id (events are kept
        # 30 days, so this stays bounded).
        last = ""
        for page in self.events():
            last = str(page.items[-1].get("id") or last)
        return last
