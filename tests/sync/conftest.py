"""Fixtures for the sync tests: the look-alike's demo districts connected, quick retries."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from rostering import connections, services
from rostering.models import District, SyncRun
from rostering.sync import store
from tests.runwait import wait_for_run

__all__ = ["wait_for_run"]

CERT = "9aa03c1635aa7766e18a6a7d"  # Certification ISD (fixtures/demo/EDGE_CASES.md)
LAKE = "b44431b0febef4ed7dd7e43b"  # Lakeside Charter Schools


@pytest.fixture
def fast(settings):
    """Tiny backoff, short timeouts and small pages, so every type spans several pages."""
    settings.CLEVER_HTTP_BACKOFF_BASE = 0.001
    settings.CLEVER_HTTP_MAX_RETRIES = 2
    settings.CLEVER_HTTP_TIMEOUT = 5
    settings.CLEVER_SYNC_PAGE_SIZE = 7
    # The demo districts are tiny: the guard's fraction is tested on them from the first row
    # (test_archive_restore tests the default minimum).
    settings.CLEVER_SYNC_ARCHIVE_MIN_COUNT = 0
    return settings


@pytest.fixture
def connected(clever, fast, db):
    """Every look-alike district connected through Clever's token list; {clever_id: District}."""
    connections.district_connections_refresh()
    return {d.clever_id: d for d in District.objects.all()}


@pytest.fixture
def cert(connected) -> District:
    return connected[CERT]


@pytest.fixture
def lake(connected) -> District:
    return connected[LAKE]


def sync(district: District, **kwargs) -> SyncRun:
    """Run a sync and return the fresh run; fail loudly with its error when it did not succeed."""
    district.refresh_from_db()
    expect = kwargs.pop("expect", SyncRun.Status.SUCCEEDED)
    run = services.district_sync(district=district, **kwargs)
    run.refresh_from_db()
    assert run.status == expect, (run.status, run.stopped_at, run.error, run.plan)
    return run


def totals(run: SyncRun, key: str) -> int:
    """The sum of one count (created, updated, ...) over every type of a run."""
    return sum(c.get(key, 0) for name, c in run.counts.items() if name != "errors")


def _stores() -> list[str]:
    # Both stores apply the same declared rules; on PostgreSQL every sync test runs with each.
    engine = django_settings.DATABASES["default"]["ENGINE"]
    return ["postgres", "orm"] if "postgresql" in engine else ["orm"]


@pytest.fixture(autouse=True, params=_stores())
def sync_store(request, monkeypatch) -> str:
    """The store the sync uses in this test: PostgreSQL's set-based one, or the ORM's."""
    if request.param == "orm":
        monkeypatch.setattr(store, "STORES", {})
    return request.param
