"""Narrow client cases for sso.clever_oauth (error codes, headers) with `responses`."""

from __future__ import annotations

import base64

import pytest
import requests
import responses

from sso import clever_oauth

OAUTH = "https://clever.com"
API = "https://api.clever.com"


@pytest.fixture(autouse=True)
def clever_settings(settings):
    settings.CLEVER_OAUTH_BASE_URL = OAUTH
    settings.CLEVER_API_BASE_URL = API
    settings.CLEVER_CLIENT_ID = "cid"
    settings.CLEVER_CLIENT_SECRET = "csecret"
    settings.CLEVER_HTTP_TIMEOUT = 3


def test_authorization_url_carries_state_redirect_and_district_hint():
    url = clever_oauth.authorization_url(
        state="s1", redirect_uri="https://app.example.com/cb/", district_id="d1", nonce="n1"
    )
    assert url.startswith(f"{OAUTH}/oauth/authorize?")
    for part in (
        "response_type=code",
        "client_id=cid",
        "state=s1",
        "district_id=d1",
        "nonce=n1",
        "redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb%2F",
    ):
        assert part in url


@responses.activate
def test_exchange_uses_http_basic_and_returns_the_token():
    responses.post(f"{OAUTH}/oauth/tokens", json={"access_token": "tok", "token_type": "bearer"})
    result = clever_oauth.exchange_code(code="c1", redirect_uri="https://app/cb/")
    assert result.access_token == "tok"
    request = responses.calls[0].request
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"cid:csecret").decode()
    assert "grant_type=authorization_code" in request.body and "code=c1" in request.body
    assert "client_secret" not in request.body
    assert "tok" not in repr(result)


@responses.activate
def test_invalid_grant_is_its_own_error():
    responses.post(f"{OAUTH}/oauth/tokens", status=400, json={"error": "invalid_grant"})
    with pytest.raises(clever_oauth.CleverInvalidGrant):
        clever_oauth.exchange_code(code="c1", redirect_uri="https://app/cb/")


@responses.activate
def test_invalid_client_is_permanent_not_invalid_grant():
    responses.post(f"{OAUTH}/oauth/tokens", status=401, json={"error": "invalid_client"})
    with pytest.raises(clever_oauth.CleverRejected) as excinfo:
        clever_oauth.exchange_code(code="c1", redirect_uri="https://app/cb/")
    assert not isinstance(excinfo.value, clever_oauth.CleverInvalidGrant)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"status": 503, "json": {"error": "down"}},
        {"status": 502, "body": "<html>bad gateway</html>"},
        {"status": 200, "body": "<html>maintenance</html>"},
        {"status": 429, "json": {}},
        {"body": requests.exceptions.ConnectTimeout()},
    ],
)
@responses.activate
def test_outages_on_exchange_are_transient(kwargs):
    responses.post(f"{OAUTH}/oauth/tokens", **kwargs)
    with pytest.raises(clever_oauth.CleverUnavailable):
        clever_oauth.exchange_code(code="c1", redirect_uri="https://app/cb/")


@responses.activate
def test_me_follows_the_canonical_link_and_normalises_the_type():
    responses.get(
        f"{API}/v3.0/me",
        json={
            "type": "district admin",
            "data": {"id": "u1", "district": "d1", "type": "user", "authorized_by": "district"},
            "links": [
                {"rel": "self", "uri": "/me"},
                {"rel": "canonical", "uri": "/v3.0/users/u1"},
            ],
        },
    )
    me = clever_oauth.fetch_me(access_token="tok")
    assert (me.user_id, me.district_id, me.login_type) == ("u1", "d1", "district_admin")
    assert responses.calls[0].request.headers["Authorization"] == "Bearer tok"
    responses.get(
        f"{API}/v3.0/users/u1",
        json={
            "data": {
                "id": "u1",
                "district": "d1",
                "name": {"first": "Ana", "last": "Ruiz"},
                "roles": {
                    "teacher": {"sis_id": "T1", "school": "s1"},
                    "staff": {"credentials": {"district_username": "aruiz"}},
                },
            }
        },
    )
    user = clever_oauth.fetch_user(
        access_token="tok", user_id=me.user_id, canonical_path=me.canonical_path
    )
    assert user.email == "" and user.first_name == "Ana"
    assert user.role("teacher").sis_id == "T1"
    assert user.role("staff").district_username == "aruiz"


@responses.activate
def test_user_token_is_never_sent_to_a_foreign_canonical_host():
    responses.get(f"{API}/v3.0/users/u1", json={"data": {"id": "u1", "district": "d1"}})
    clever_oauth.fetch_user(
        access_token="tok", user_id="u1", canonical_path="https://evil.example/v3.0/users/u1"
    )
    assert responses.calls[0].request.url == f"{API}/v3.0/users/u1"


@responses.activate
def test_unknown_token_on_me_is_permanent():
    responses.get(f"{API}/v3.0/me", status=401, json={"message": "invalid token"})
    with pytest.raises(clever_oauth.CleverRejected):
        clever_oauth.fetch_me(access_token="tok")


def test_environment_proxy_is_read_once_for_clevers_hosts(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "api.clever.com")
    monkeypatch.setattr(clever_oauth, "_local", type(clever_oauth._local)())
    session = clever_oauth._session()
    assert session.trust_env is False
    assert session.proxies == {"https://clever.com": "http://proxy.example:3128"}
    assert clever_oauth._session() is session
