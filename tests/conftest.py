"""Shared fixtures. Tests never reach the internet: Clever is the look-alike on loopback."""

from __future__ import annotations

import os

import pytest
from django.conf import settings as django_settings
from django.db import connection


def _postgres_configured() -> bool:
    return django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def _redis_configured() -> bool:
    return (django_settings.CELERY_BROKER_URL or "").startswith("redis")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip what needs a missing service, naming it; in CI (CI_REQUIRE_SERVICES) never skip."""
    strict = os.environ.get("CI_REQUIRE_SERVICES") == "1"
    if strict and not (_postgres_configured() and _redis_configured()):
        raise pytest.UsageError(
            "CI_REQUIRE_SERVICES=1 but DATABASE_URL is not PostgreSQL or CELERY_BROKER_URL is "
            "not Redis"
        )
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    skip_redis = pytest.mark.skip(reason="needs Redis: set CELERY_BROKER_URL=redis://...")
    for item in items:
        if "postgres" in item.keywords and not _postgres_configured():
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not _redis_configured():
            item.add_marker(skip_redis)


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"
