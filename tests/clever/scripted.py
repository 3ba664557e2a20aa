"""A scripted stand-in for Clever on loopback: real HTTP, answers a test chose, requests recorded.

Each test says what a route answers and reads back exactly what the client sent. A route is a
method and a path; a path with a query string (``"/v3.0/schools?starting_after=b"``) matches only
that exact request target, and wins over the same path without one, which matches whatever the
query. A route answers a sequence of replies, consumed in order; the last one repeats.

Registered as a pytest plugin in ``tests/conftest.py``, so every test folder has the fixtures:
``server`` (a plain HTTP server), ``serve_scripted`` (start more: another host, or the same script
behind TLS) and ``tls_server`` (``server``'s script behind a self-signed certificate).
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest


@dataclass(frozen=True)
class Reply:
    """One answer: status, body (bytes or a str as-is, anything else as JSON), headers, delay or
    a drop."""

    status: int = 200
    body: Any = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    # Seconds to wait before answering (a slow Clever, for timeouts).
    delay: float = 0.0
    # Close the connection without answering, as a server dropping it would.
    drop: bool = False

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):  # as-is (e.g. not valid UTF-8)
            return self.body
        return (self.body if isinstance(self.body, str) else json.dumps(self.body)).encode()


@dataclass(frozen=True)
class Sent:
    """One request the server received."""

    method: str
    # The full URL the client asked for (scheme, Host header, path and query).
    url: str
    # The request target without its query string, and the query string alone.
    path: str
    query: str
    headers: dict[str, str]
    body: str

    @property
    def target(self) -> str:
        """Path and query, as on the request line."""
        return self.path + (f"?{self.query}" if self.query else "")

    @property
    def params(self) -> dict[str, str]:
        """The query string's parameters (the last value of a repeated one)."""
        return dict(parse_qsl(self.query, keep_blank_values=True))


@dataclass
class Scripted:
    """What the server answers per route, and every request it received, in order."""

    base: str = ""
    routes: dict[tuple[str, str], list[Reply]] = field(default_factory=dict)
    received: list[Sent] = field(default_factory=list)
    # How many of the next requests get their connection closed instead of an answer.
    drop_next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def answer(
        self,
        method: str,
        path: str,
        status: int = 200,
        *,
        body: Any = "",
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer ``method path`` with one reply, every time."""
        self.script(method, path, Reply(status, body, dict(headers or {}), delay))

    def script(self, method: str, path: str, *replies: Reply) -> None:
        """Answer ``method path`` with ``replies`` in order; the last one repeats."""
        if not replies:
            raise ValueError("a route needs at least one reply")
        with self._lock:
            self.routes[(method, path)] = list(replies)

    def sent(self, method: str | None = None, path: str | None = None) -> list[Sent]:
        """The requests received, optionally only those of one method and/or path."""
        return [
            s
            for s in list(self.received)
            if (method is None or s.method == method) and (path is None or s.path == path)
        ]

    def _take(self, sent: Sent) -> Reply | None:
        """Record ``sent`` and pick its reply (None: drop the connection)."""
        with self._lock:
            self.received.append(sent)
            if self.drop_next:
                self.drop_next -= 1
                return None
            queue = self.routes.get((sent.method, sent.target))
            if queue is None:
                queue = self.routes.get((sent.method, sent.path))
            if queue is None:
                return Reply(404, {"message": f"no route for {sent.method} {sent.target}"})
            return queue.pop(0) if len(queue) > 1 else queue[0]


class Running:
    """A scripted server serving from a thread; ``stop()`` also closes its open connections."""

    def __init__(self, scripted: Scripted, tls: ssl.SSLContext | None = None) -> None:
        connections: set[socket.socket] = set()
        scheme = "https" if tls is not None else "http"

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                connections.add(self.connection)

            def finish(self) -> None:
                connections.discard(self.connection)
                super().finish()

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                parts = urlsplit(self.path)
                sent = Sent(
                    method=self.command,
                    url=f"{scheme}://{self.headers.get('Host', '')}{self.path}",
                    path=parts.path,
                    query=parts.query,
                    headers=dict(self.headers.items()),
                    body=body,
                )
                reply = scripted._take(sent)
                if reply is None or reply.drop:
                    self.close_connection = True
                    return
                time.sleep(reply.delay)
                payload = reply.payload()
                self.send_response(reply.status)
                headers = dict(reply.headers)
                if not any(k.lower() == "content-type" for k in headers):
                    headers["Content-Type"] = "application/json"
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a refused TLS handshake, or a client gone after a timeout, is expected

        self.scripted = scripted
        self._connections = connections
        self._httpd = Server(("127.0.0.1", 0), Handler)
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self.base = f"{scheme}://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        # Keep-alive connections would otherwise stay served by this script after the test.
        for conn in list(self._connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()


ServeScripted = Callable[..., Running]


@pytest.fixture
def serve_scripted() -> Iterator[ServeScripted]:
    """Start scripted servers, each on its own port (another host); all stop after the test.

    ``serve_scripted()`` serves a new ``Scripted`` (its ``base`` set); ``serve_scripted(script,
    tls=context)`` serves an existing one again, behind TLS. Either returns the ``Running``
    server (``.base``, ``.scripted``).
    """
    running: list[Running] = []

    def start(scripted: Scripted | None = None, *, tls: ssl.SSLContext | None = None) -> Running:
        fresh = scripted is None
        server = Running(Scripted() if scripted is None else scripted, tls)
        running.append(server)
        if fresh:
            server.scripted.base = server.base
        return server

    yield start
    for server in running:
        server.stop()


@pytest.fixture
def server(serve_scripted: ServeScripted) -> Scripted:
    """A scripted server on a free loopback port (``server.base``)."""
    return serve_scripted().scripted


# --- TLS ---------------------------------------------------------------------------------------


def self_signed(directory: Any) -> tuple[str, str]:
    """A certificate for 127.0.0.1 signed by itself, and its key, as PEM files in ``directory``."""
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
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
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
def tls_server(tmp_path, server: Scripted, serve_scripted: ServeScripted) -> tuple[str, str]:
    """``server``'s script also behind TLS with a self-signed certificate: (base, cert file)."""
    cert_file, key_file = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return serve_scripted(server, tls=context).base, cert_file
