"""Shared fixtures. Tests never reach the internet: Clever is the look-alike on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from django.conf import settings as django_settings
from pytest_django.fixtures import Settings

if TYPE_CHECKING:
    from cleverlike.world import World

# The scripted loopback stand-in for Clever (``server``, ``serve_scripted``, ``tls_server``), for
# narrow client cases in any test folder.
pytest_plugins = ["tests.clever.scripted"]


def _postgres_configured() -> bool:
    return django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def _redis_configured() -> bool:
    return (django_settings.CELERY_BROKER_URL or "").startswith("redis")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip what needs a missing service, naming it; in CI (CI_REQUIRE_SERVICES) never skip."""
    strict = os.environ.get("CI_REQUIRE_SERVICES") == "1"
    if strict and not (
        _postgres_configured() and _redis_configured() and django_settings.CACHE_IS_SHARED
    ):
        raise pytest.UsageError(
            "CI_REQUIRE_SERVICES=1 but DATABASE_URL is not PostgreSQL, or CELERY_BROKER_URL or "
            "CACHE_URL is not Redis"
        )
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    skip_redis = pytest.mark.skip(reason="needs Redis: set CELERY_BROKER_URL=redis://...")
    for item in items:
        if "postgres" in item.keywords and not _postgres_configured():
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not _redis_configured():
            item.add_marker(skip_redis)


@pytest.fixture
def session_queries() -> int:
    """Database queries a request spends loading its session: none when sessions are in Redis."""
    return 0 if django_settings.SESSION_ENGINE == "config.session_cache" else 1


# --- The Clever look-alike ----------------------------------------------------------------------
CLEVER_TEST_REDIRECT_URI = "http://testserver/sso/clever/callback/"


class CleverHandle:
    """What the ``clever`` fixture yields: where the look-alike is, and its world."""

    def __init__(self, base_url: str, world: World) -> None:
        self.base_url = base_url
        self.world = world


@pytest.fixture(scope="session")
def _clever_server() -> Iterator[str]:
    """The whole project served from a thread on a free loopback port, for the session."""
    from cleverlike.server import start_server

    httpd, thread = start_server("127.0.0.1", 0)
    host, port = httpd.server_address[:2]
    yield f"http://{host}:{port}/clever"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def clever(_clever_server: str, settings: Settings) -> Iterator[CleverHandle]:
    """A reset Clever look-alike with the product's settings pointed at it."""
    if not django_settings.CLEVER_LOOKALIKE_ENABLED:
        pytest.skip("the Clever look-alike is off: run the tests with DEBUG=1")
    from cleverlike.world import world

    settings.CLEVER_OAUTH_BASE_URL = _clever_server
    settings.CLEVER_API_BASE_URL = _clever_server
    settings.CLEVER_CLIENT_ID = "test-client-id"
    settings.CLEVER_CLIENT_SECRET = "test-client-secret"
    settings.CLEVER_REDIRECT_URI = CLEVER_TEST_REDIRECT_URI
    settings.CLEVER_REDIRECT_URIS = [CLEVER_TEST_REDIRECT_URI]
    world.reset()
    yield CleverHandle(_clever_server, world)
    world.reset()
