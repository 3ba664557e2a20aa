"""Acting as the browser: our product through Django's test client, Clever over real HTTP."""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from django.http import HttpResponse as Response
from django.test import Client


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def at_clever(authorize_url: str, user_id: str, *, as_role: str = "", **override: str) -> str:
    """The person picks their account on Clever's authorize page; returns where Clever sends
    the browser (our callback URL with code and state).

    ``login_as`` is the look-alike's non-interactive stand-in for the person's click; only tests
    and the benchmark use it.
    """
    params = {**query(authorize_url), **override, "login_as": user_id}
    if as_role:
        params["as_role"] = as_role
    base = authorize_url.split("?", 1)[0]
    response = requests.get(f"{base}?{urlencode(params)}", allow_redirects=False, timeout=10)
    assert response.status_code in (302, 303), (response.status_code, response.text[:300])
    return response.headers["Location"]


def start_login(client: Client, **params: str) -> str:
    """Click our "Log in with Clever" button; returns Clever's authorize URL."""
    response = client.get("/sso/clever/login", params)
    assert response.status_code == 302, response.status_code
    return response["Location"]


def button_login(
    client: Client, user_id: str, *, as_role: str = "", **params: str
) -> tuple[Response, str]:
    """A whole button login; returns our callback's response and the callback URL used."""
    callback_url = at_clever(start_login(client, **params), user_id, as_role=as_role)
    return client.get(path_and_query(callback_url)), callback_url


def token_posts(world) -> int:
    return sum(
        1
        for method, path, _ in world.requests
        if method == "POST" and path.endswith("/oauth/tokens")
    )


def text(response: Response) -> str:
    """The page as a person reads it (entities such as &#x27; decoded)."""
    return html.unescape(response.content.decode())
