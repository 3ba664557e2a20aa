"""Narrow client cases for sso.clever_oauth (error codes, headers), over real HTTP on loopback.

A small scripted server stands in for Clever here: each test says what it answers and reads
back exactly what the client sent.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sso import clever_oauth


@dataclass
class Sent:
    method: str
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class Scripted:
    """What the server answers per (method, path), and every request it received."""

    base: str
    answers: dict[tuple[str, str], tuple[int, str, float]] = field(default_factory=dict)
    received: list[Sent] = field(default_factory=list)
    # How many of the next requests get their connection closed instead of an answer.
    drop_next: int = 0

    def answer(self, method: str, path: str, status: int = 200, *, body="", delay=0.0) -> None:
        text = body if isinstance(body, str) else json.dumps(body)
        self.answers[(method, path)] = (status, text, delay)


def _serve(scripted: Scripted, tls: ssl.SSLContext | None = None) -> ThreadingHTTPServer:
    """Serve ``scripted`` on a free loopback port from a thread (behind TLS when given)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            scripted.received.append(
                Sent(self.command, self.path, {k: v for k, v in self.headers.items()}, body)
            )
            status, text, delay = scripted.answers.get((self.command, self.path), (404, "{}", 0))
            if scripted.drop_next:
                # Close the connection without an answer, as a server dropping it would.
                scripted.drop_next -= 1
                self.close_connection = True
                return
            time.sleep(delay)
            payload = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a refused TLS handshake is what some tests expect

    httpd = Server(("127.0.0.1", 0), Handler)
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    return httpd


@pytest.fixture
def server() -> Iterator[Scripted]:
    scripted = Scripted(base="")
    httpd = _serve(scripted)
    scripted.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield scripted
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def clever_settings(settings, server):
    settings.CLEVER_OAUTH_BASE_URL = server.base
    settings.CLEVER_API_BASE_URL = server.base
    settings.CLEVER_CLIENT_ID = "cid"
    settings.CLEVER_CLIENT_SECRET = "csecret"
    settings.CLEVER_HTTP_TIMEOUT = 1
    clever_oauth.clear_caches()
    yield
    clever_oauth.clear_caches()


def test_authorization_url_carries_state_redirect_and_district_hint(server):
    url = clever_oauth.authorization_url(
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
    result = clever_oauth.exchange_code(code="c1", redirect_uri="https://app/cb/")
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
    with pytest.raises(clever_oauth.CleverInvalidGrant):
        clever_oauth.exchange_code(code="c1", redirect_uri="https://app/cb/")
    assert len(server.received) == 1  # a code is never posted twice


def test_invalid_client_is_permanent_not_invalid_grant(server):
    server.answer("POST", "/oauth/tokens", 401, body={"error": "invalid_client"})
    with pytest.raises(clever_oauth.CleverRejected) as excinfo:
        clever_oauth.exchange_code(code="c1", redirect_uri="https://app/cb/")
    assert not isinstance(excinfo.value, clever_oauth.CleverInvalidGrant)


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
    with pytest.raises(clever_oauth.CleverUnavailable):
        clever_oauth.exchange_code(code="c1", redirect_uri="https://app/cb/")
    assert len(server.received) == 1


def test_a_slow_token_endpoint_times_out_once_without_a_second_post(server):
    server.answer("POST", "/oauth/tokens", body={"access_token": "tok"}, delay=2.5)
    with pytest.raises(clever_oauth.CleverUnavailable, match=r"code exchange: .*Timeout"):
        clever_oauth.exchange_code(code="c1", redirect_uri="https://app/cb/")
    assert len(server.received) == 1


def test_nothing_listening_is_transient(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.CLEVER_OAUTH_BASE_URL = f"http://127.0.0.1:{port}"
    with pytest.raises(clever_oauth.CleverUnavailable, match=r"code exchange: NewConnectionError"):
        clever_oauth.exchange_code(code="c1", redirect_uri="https://app/cb/")


def test_a_read_is_retried_once_on_a_dropped_connection(server):
    server.answer("GET", "/v3.0/me", body={"data": {"id": "u1"}})
    server.drop_next = 1
    assert clever_oauth.fetch_me(access_token="tok").user_id == "u1"
    assert [sent.path for sent in server.received] == ["/v3.0/me", "/v3.0/me"]


def test_a_read_dropped_twice_is_transient(server):
    server.answer("GET", "/v3.0/me", body={"data": {"id": "u1"}})
    server.drop_next = 2
    with pytest.raises(clever_oauth.CleverUnavailable, match="GET /me"):
        clever_oauth.fetch_me(access_token="tok")
    assert len(server.received) == 2


def test_a_read_that_times_out_is_not_sent_again(server):
    server.answer("GET", "/v3.0/me", body={"data": {"id": "u1"}}, delay=1.5)
    with pytest.raises(clever_oauth.CleverUnavailable, match=r"GET /me: .*Timeout"):
        clever_oauth.fetch_me(access_token="tok")
    assert len(server.received) == 1


def test_a_code_exchange_is_never_posted_twice_even_on_a_dropped_connection(server):
    server.answer("POST", "/oauth/tokens", body={"access_token": "tok"})
    server.drop_next = 1
    with pytest.raises(clever_oauth.CleverUnavailable, match="code exchange"):
        clever_oauth.exchange_code(code="c1", redirect_uri="https://app/cb/")
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
    me = clever_oauth.fetch_me(access_token="tok")
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
    user = clever_oauth.fetch_user(
        access_token="tok", user_id=me.user_id, canonical_path=me.canonical_path
    )
    assert server.received[1].path == "/v3.0/users/u1"
    assert user.email == "" and user.first_name == "Ana"
    assert user.role("teacher").sis_id == "T1"
    assert user.role("staff").district_username == "aruiz"


def test_user_token_is_never_sent_to_a_foreign_canonical_host(server):
    server.answer("GET", "/v3.0/users/u1", body={"data": {"id": "u1", "district": "d1"}})
    clever_oauth.fetch_user(
        access_token="tok", user_id="u1", canonical_path="https://evil.example/v3.0/users/u1"
    )
    assert [sent.path for sent in server.received] == ["/v3.0/users/u1"]


def test_unknown_token_on_me_is_permanent(server):
    server.answer("GET", "/v3.0/me", 401, body={"message": "invalid token"})
    with pytest.raises(clever_oauth.CleverRejected):
        clever_oauth.fetch_me(access_token="tok")


def test_a_redirect_is_not_followed_with_the_users_token(server):
    server.answer("GET", "/v3.0/me", 302, body="")
    with pytest.raises(clever_oauth.CleverUnavailable):
        clever_oauth.fetch_me(access_token="tok")
    assert len(server.received) == 1


def test_calls_reuse_one_keep_alive_connection(server):
    server.answer("GET", "/v3.0/me", body={"data": {"id": "u1"}})
    for _ in range(3):
        clever_oauth.fetch_me(access_token="tok")
    pool = clever_oauth._pool_for(server.base)
    assert pool.connection_from_url(server.base).num_connections == 1


def test_environment_proxy_is_used_for_clevers_hosts_except_no_proxy(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "api.clever.com")
    clever_oauth.clear_caches()
    oauth_pool = clever_oauth._pool_for("https://clever.com/oauth/tokens")
    api_pool = clever_oauth._pool_for("https://api.clever.com/v3.0/me")
    assert oauth_pool.proxy.host == "proxy.example" and oauth_pool.proxy.port == 3128
    assert getattr(api_pool, "proxy", None) is None
    assert clever_oauth._pool_for("https://clever.com/oauth/authorize") is oauth_pool


# --- TLS: certificates are verified ----------------------------------------------------------


def _self_signed(tmp_path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 signed by itself, and its key, as PEM files."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "clever-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


@pytest.fixture
def tls_server(tmp_path, server) -> Iterator[tuple[str, str]]:
    """The scripted server's answers behind TLS with a self-signed certificate: (base, cert)."""
    cert_file, key_file = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    httpd = _serve(server, context)
    yield f"https://127.0.0.1:{httpd.server_address[1]}", cert_file
    httpd.shutdown()
    httpd.server_close()


def test_an_untrusted_certificate_is_refused_and_the_token_never_sent(
    settings, server, tls_server, monkeypatch
):
    base, _ = tls_server
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    clever_oauth.clear_caches()
    settings.CLEVER_API_BASE_URL = base
    server.answer("GET", "/v3.0/me", body={"data": {"id": "u1"}})
    with pytest.raises(clever_oauth.CleverUnavailable, match=r"GET /me: SSLError"):
        clever_oauth.fetch_me(access_token="tok")
    assert server.received == []


def test_a_ca_bundle_from_the_environment_is_trusted(settings, server, tls_server, monkeypatch):
    base, cert_file = tls_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", cert_file)
    clever_oauth.clear_caches()
    settings.CLEVER_API_BASE_URL = base
    server.answer("GET", "/v3.0/me", body={"data": {"id": "u1"}})
    assert clever_oauth.fetch_me(access_token="tok").user_id == "u1"
    assert server.received[0].headers["Authorization"] == "Bearer tok"
