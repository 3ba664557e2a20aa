"""Small HTTP helpers for the look-alike's tests (real requests over loopback)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import requests

CLIENT = ("test-client-id", "test-client-secret")
REDIRECT_URI = "http://testserver/sso/clever/callback/"


def api(clever, token: str, path: str, **params: str) -> requests.Response:
    """GET a look-alike path with a bearer token."""
    return requests.get(
        clever.base_url + path,
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def authorize(clever, **params: str) -> requests.Response:
    """GET /oauth/authorize without following the redirect."""
    base = {"response_type": "code", "client_id": CLIENT[0], "redirect_uri": REDIRECT_URI}
    return requests.get(
        clever.base_url + "/oauth/authorize",
        params={**base, **params},
        allow_redirects=False,
        timeout=10,
    )


def query_of(location: str) -> dict[str, str]:
    """The query parameters of a redirect Location."""
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


def exchange(clever, code: str, *, auth=CLIENT, redirect_uri: str = REDIRECT_URI):
    """POST the code to /oauth/tokens with HTTP Basic."""
    return requests.post(
        clever.base_url + "/oauth/tokens",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        auth=auth,
        timeout=10,
    )


def login(clever, user_id: str, **params: str) -> dict:
    """The token response for a non-interactive login of ``user_id``."""
    response = authorize(clever, login_as=user_id, state="s", **params)
    assert response.status_code == 302, response.text
    token = exchange(clever, query_of(response.headers["Location"])["code"])
    assert token.status_code == 200, token.text
    return token.json()
