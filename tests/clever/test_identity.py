"""Narrow cases for clever.identity and clever.transport (error codes, headers, TLS, proxies).

Over real HTTP on loopback: a scripted server (tests/clever/scripted.py) stands in for Clever;
each test says what it answers and reads back exactly what the client sent.
"""

from __future__ import annotations

import base64
import socket

import pytest

from clever import errors, identity, transport


@pytest.fixture(autouse=True)
def clever_settings(settings, server):
    settings.CLEVER_OAUTH_BASE_URL = server.base
    settings.CLEVER_API_BASE_URL = server.base
    settings.CLEVER_CLIENT_ID = "cid"
    settings.CLEVER_CLIENT_SECRET = "csecret"
    settings.CLEVER_HTTP_TIMEOUT = 1


def test_authorization_url_carries_state_redirect_and_district_hint(server):
    url = identity.authorization_url(
        state="s1", redirect_uri="https://app.example.com/cb/", district_id="d1", nonce="n1"
    )
    assert url.startswith(f"{server.base}/oauth/authorize?")
    for part in (
        "response_type=code",
        "client_id=cid",
        "state=s1",
        "district_id=d1",
        "nonce=n1",
        "redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb%2F",
    ):
        assert part in url


def test_exchange_uses_http_basic_and_returns_the_token(server):
    server.answer("POST", "/oauth/tokens", body={"access_token": "tok", "token_type": "bearer"})
    result = identity.exchange_code(code="c1", redirect_uri="https://app/cb/")
    assert result.access_token == "tok"
    (sent,) = server.received
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(b"cid:csecret").decode()
    assert sent.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert "grant_type=authorization_code" in sent.body and "code=c1" in sent.body
    assert "redirect_uri=https%3A%2F%2Fapp%2Fcb%2F" in sent.body
    assert "client_secret" not in sent.body
    assert "tok" not in repr(result)


def test_invalid_grant_is_its_own_error(server):
    server.answer("POST", "/oauth/tokens", 400, body={"error": "invalid_grant"})
    with pytest.raises(errors.CleverInvalidGrant):
        identity.exchange_code(code="c1", redirect_uri="https://app/cb/")
    assert len(server.received) == 1  # a code is never posted twice


def test_invalid_client_is_permanent_not_invalid_grant(server):
    server.answer("POST", "/oauth/tokens", 401, body={"error": "invalid_client"})
    with pytest.raises(errors.CleverPermanentError) as excinfo:
        identity.exchange_code(code="c1", redirect_uri="https://app/cb/")
    assert not isinstance(excinfo.value, errors.CleverInvalidGrant)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (503, {"error": "down"}),
        (502, "<html>bad gateway</html>"),
        (200, "<html>maintenance</html>"),
        (200, "[1, 2]"),
        (429, {}),
    ],
)
def test_outages_on_exchange_are_transient(server, status, body):
    server.answer("POST", "/oauth/tokens", status, body=body)
    with pytest.raises(errors.CleverTransientError):
        identity.exchange_code(code="c1", redirect_uri="https://app/cb/")
    assert len(server.received) == 1


def test_a_slow_token_endpoint_times_out_once_without_a_second_post(server):
    server.answer("POST", "/oauth/tokens", body={"access_token": "tok"}, delay=2.5)
    with pytest.raises(errors.CleverTransientError, match=r"code exchange: .*Timeout"):
        identity.exchange_code(code="c1", redirect_uri="https://app/cb/")
    assert len(server.received) == 1


def test_nothing_listening_is_transient(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.CLEVER_OAUTH_BASE_URL = f"http://127.0.0.1:{port}"
    with pytest.raises(
        errors.CleverTransientError,
        match=r"code exchange: connection failed \(NewConnectionError\)",
    ):
        identity.exchange_code(code="c1", redirect_uri="https://app/cb/")


def test_a_read_is_retried_once_on_a_dropped_connection(server):
    server.answer("GET", "/v3.0/me", body={"data": {"id": "u1"}})
    server.drop_next = 1
    assert identity.fetch_me(access_token="tok").user_id == "u1"
    assert [sent.path for sent in server.received] == ["/v3.0/me", "/v3.0/me"]


def test_a_read_dropped_twice_is_transient(server):
    server.answer("GET", "/v3.0/me", body={"data": {"id": "u1"}})
    server.drop_next = 2
    with pytest.raises(errors.CleverTransientError, match="GET /me"):
        identity.fetch_me(access_token="tok")
    assert len(server.received) == 2


def test_a_read_that_times_out_is_not_sent_again(server):
    server.answer("GET", "/v3.0/me", body={"data": {"id": "u1"}}, delay=1.5)
    with pytest.raises(errors.CleverTransientError, match=r"GET /me: .*Timeout"):
        identity.fetch_me(access_token="tok")
    assert len(server.received) == 1


def test_a_code_exchange_is_never_posted_twice_even_on_a_dropped_connection(server):
    server.answer("POST", "/oauth/tokens", body={"access_token": "tok"})
    server.drop_next = 1
    with pytest.raises(errors.CleverTransientError, match="code exchange"):
        identity.exchange_code(code="c1", redirect_uri="https://app/cb/")
    assert len(server.received) == 1


def test_me_follows_the_canonical_link_and_normalises_the_type(server):
    server.answer(
        "GET",
        "/v3.0/me",
        body={
            "type": "district admin",
            "data": {"id": "u1", "district": "d1", "type": "user", "authorized_by": "district"},
            "links": [
                {"rel": "self", "uri": "/me"},
                {"rel": "canonical", "uri": "/v3.0/users/u1"},
            ],
        },
    )
    me = identity.fetch_me(access_token="tok")
    assert (me.user_id, me.district_id, me.login_type) == ("u1", "d1", "district_admin")
    assert server.received[0].headers["Authorization"] == "Bearer tok"
    assert server.received[0].headers["Accept"] == "application/json"
    server.answer(
        "GET",
        "/v3.0/users/u1",
        body={
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
    user = identity.fetch_user(
        access_token="tok", user_id=me.user_id, canonical_path=me.canonical_path
    )
    assert server.received[1].path == "/v3.0/users/u1"
    assert user.email == "" and user.first_name == "Ana"
    assert user.role("teacher").sis_id == "T1"
    assert user.role("staff").district_username == "aruiz"


def test_user_token_is_never_sent_to_a_foreign_canonical_host(server):
    server.answer("GET", "/v3.0/users/u1", body={"data": {"id": "u1", "district": "d1"}})
    identity.fetch_user(
        access_token="tok", user_id="u1", canonical_path="https://evil.example/v3.0/users/u1"
    )
    assert [sent.path for sent in server.received] == ["/v3.0/users/u1"]


def test_unknown_token_on_me_is_permanent(server):
    server.answer("GET", "/v3.0/me", 401, body={"message": "invalid token"})
    with pytest.raises(errors.CleverPermanentError):
        identity.fetch_me(access_token="tok")


def test_a_redirect_is_not_followed_with_the_users_token(server):
    server.answer("GET", "/v3.0/me", 302, body="")
    with pytest.raises(errors.CleverTransientError):
        identity.fetch_me(access_token="tok")
    assert len(server.received) == 1


def test_calls_reuse_one_keep_alive_connection(server):
    server.answer("GET", "/v3.0/me", body={"data": {"id": "u1"}})
    for _ in range(3):
        identity.fetch_me(access_token="tok")
    pool = transport._pool_for(server.base)
    assert pool.connection_from_url(server.base).num_connections == 1


def test_environment_proxy_is_used_for_clevers_hosts_except_no_proxy(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "api.clever.com")
    identity.clear_caches()
    oauth_pool = transport._pool_for("https://clever.com/oauth/tokens")
    api_pool = transport._pool_for("https://api.clever.com/v3.0/me")
    assert oauth_pool.proxy.host == "proxy.example" and oauth_pool.proxy.port == 3128
    assert getattr(api_pool, "proxy", None) is None
    assert transport._pool_for("https://clever.com/oauth/authorize") is oauth_pool


# --- TLS: certificates are verified ----------------------------------------------------------


def test_an_untrusted_certificate_is_refused_and_the_token_never_sent(
    settings, server, tls_server, monkeypatch
):
    base, _ = tls_server
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    identity.clear_caches()
    settings.CLEVER_API_BASE_URL = base
    server.answer("GET", "/v3.0/me", body={"data": {"id": "u1"}})
    with pytest.raises(
        errors.CleverTransientError, match=r"GET /me: connection failed \(SSLError\)"
    ):
        identity.fetch_me(access_token="tok")
    assert server.received == []


def test_a_ca_bundle_from_the_environment_is_trusted(settings, server, tls_server, monkeypatch):
    base, cert_file = tls_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", cert_file)
    identity.clear_caches()
    settings.CLEVER_API_BASE_URL = base
    server.answer("GET", "/v3.0/me", body={"data": {"id": "u1"}})
    assert identity.fetch_me(access_token="tok").user_id == "u1"
    assert server.received[0].headers["Authorization"] == "Bearer tok"
