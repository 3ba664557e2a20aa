"""Logging out while the session store (a real Redis) is unreachable, and once it is back."""

from __future__ import annotations

import contextlib
import socket
import threading
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.test import Client

from tests.factories import UserFactory

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


class RedisProxy:
    """A TCP relay in front of the real Redis that can refuse or stop answering, and come back.

    "down" closes the listening socket and every relayed connection (Redis refuses); "hang"
    accepts and relays nothing (Redis stops answering).
    """

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.mode = "up"
        self._conns: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.start()

    def start(self) -> None:
        if self.mode == "hang":  # still listening: drop the hung connections, relay again
            self._drop_connections()
            self.mode = "up"
            return
        self.mode = "up"
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            self._conns.append(client)
            if self.mode == "hang":
                continue
            server = socket.create_connection(self.upstream)
            self._conns.append(server)
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if self.mode != "up":
                    return
                sink.sendall(data)
        except OSError:
            pass

    def _drop_connections(self) -> None:
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self._conns.clear()

    def down(self) -> None:
        self.mode = "down"
        assert self._listener is not None
        self._listener.close()
        self._drop_connections()

    def hang(self) -> None:
        self.mode = "hang"
        self._drop_connections()

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
        self._drop_connections()


@pytest.fixture
def redis_sessions(settings):
    """Sessions in a real Redis reached through a proxy the test can take down."""
    broker = urlsplit(django_settings.CELERY_BROKER_URL)
    proxy = RedisProxy((broker.hostname or "127.0.0.1", broker.port or 6379))
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{proxy.port}/14",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.CACHE_IS_SHARED = True
    settings.SESSION_ENGINE = "config.session_cache"
    yield proxy
    proxy.stop()


def _logged_in(key: str) -> bool:
    browser = Client()
    browser.cookies[django_settings.SESSION_COOKIE_NAME] = key
    return "Logged in as" in browser.get("/").content.decode()


@pytest.mark.parametrize("outage", ["down", "hang"])
def test_logout_while_redis_is_out_says_so_and_ends_the_session_when_retried(
    client, redis_sessions, outage
):
    client.force_login(UserFactory())
    key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert _logged_in(key)

    getattr(redis_sessions, outage)()
    response = client.post("/logout/")
    # Not a silent redirect: the person is told their session is still active.
    assert response.status_code == 503
    page = response.content.decode()
    assert "We couldn't log you out" in page and "still active" in page
    assert "Try again" in page
    # The cookie is kept, so that trying again can end this very session.
    assert django_settings.SESSION_COOKIE_NAME not in response.cookies
    assert client.cookies[django_settings.SESSION_COOKIE_NAME].value == key

    redis_sessions.start()
    assert _logged_in(key)  # as the page said
    again = client.post("/logout/")
    assert again.status_code == 302
    assert not _logged_in(key)  # ended in the store, not only in this browser


def test_a_login_arriving_while_redis_is_out_does_not_leave_the_old_session_behind(
    client, redis_sessions
):
    client.force_login(UserFactory())
    key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    redis_sessions.down()
    response = client.get("/sso/clever/callback/?code=portal-code")
    assert response.status_code == 503
    assert "We can&#x27;t log you in right now" in response.content.decode()
    redis_sessions.start()
    assert client.get("/sso/clever/callback/?code=portal-code").status_code == 302
    assert not _logged_in(key)


def test_sessions_last_a_school_day(client, redis_sessions):
    assert django_settings.SESSION_COOKIE_AGE == 12 * 3600
    client.force_login(UserFactory())
    key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    ttl = caches["default"]._cache.get_client().ttl(f":1:django.contrib.sessions.cache{key}")
    assert 12 * 3600 - 60 < ttl <= 12 * 3600
