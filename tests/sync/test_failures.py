"""Clever failing in each documented way, over real HTTP, and runs that must not overlap."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from accounts.models import User
from rostering import connections, runs, services
from rostering.models import District, School, SyncRun
from rostering.sync import store
from tests.sync.conftest import CERT, sync, totals

pytestmark = pytest.mark.django_db


def _served(clever, path: str) -> int:
    return sum(1 for _, p, _ in clever.world.requests if p == path)


def test_429_waits_for_the_window_then_retries_the_same_page(cert, clever):
    # The look-alike's window resets at its next minute; move its clock back so that moment
    # has already passed on ours and the wait is short.
    clever.world.advance(-120)
    clever.world.faults.add("/v3.0/schools", "429")
    run = sync(cert)
    assert run.counts["schools"]["created"] == 5
    assert _served(clever, "/v3.0/schools") >= 2


def test_429_longer_than_we_wait_fails_the_run_and_archives_nothing(cert, clever, settings):
    sync(cert)
    settings.CLEVER_RATE_LIMIT_MAX_WAIT = 0.01
    clever.world.faults.add("/v3.0/users", "429")
    run = sync(cert, expect="failed")
    assert run.stopped_at == "GET /v3.0/users page 1"
    assert "rate limited" in run.error and "CLEVER_RATE_LIMIT_MAX_WAIT" in run.error
    assert run.retryable is True  # a task would try again later


@pytest.mark.parametrize("kind", ["500", "502", "503", "html", "timeout"])
def test_transient_failures_are_retried_and_the_run_succeeds(cert, clever, settings, kind):
    settings.CLEVER_HTTP_TIMEOUT = 0.5
    clever.world.faults.timeout_seconds = 1.0
    clever.world.faults.add("/v3.0/sections", kind, times=2)
    run = sync(cert)
    assert run.counts["sections"]["created"] == 17
    assert _served(clever, "/v3.0/sections") >= 3


def test_401_marks_the_district_disconnected(cert, clever):
    sync(cert)
    clever.world.faults.add("/v3.0/sections", "401")
    run = sync(cert, expect="failed")
    cert.refresh_from_db()
    assert cert.status == District.Status.DISCONNECTED and cert.token == ""
    assert run.stopped_at == "GET /v3.0/sections page 1"
    assert "revoked" in run.error
    assert not School.objects.filter(archived_at__isnull=False).exists()
    # A disconnected district is not synced until Clever lists it again.
    assert sync(cert, expect="failed").error.startswith("The district is not connected")
    connections.district_connections_refresh()
    cert.refresh_from_db()
    assert cert.status == District.Status.CONNECTED
    assert sync(cert).status == "succeeded"


def test_a_district_clever_no_longer_lists_is_disconnected_by_refresh(cert, clever):
    clever.world.disconnect(CERT)
    result = connections.district_connections_refresh()
    assert result.disconnected == [CERT]
    cert.refresh_from_db()
    assert cert.status == District.Status.DISCONNECTED
    assert connections.district_ensure_connected(clever_id=CERT) is None
    clever.world.connect(CERT)
    assert connections.district_ensure_connected(clever_id=CERT).status == "connected"


def test_test_connection_reports_a_valid_token(cert):
    check = connections.district_test_connection(district=cert)
    assert check.ok and "Certification ISD" in check.message


def test_a_second_run_while_one_holds_the_lock_is_skipped(cert):
    if connection.vendor == "postgresql":
        pytest.skip("an advisory lock is re-entrant within one session: see the threads test")
    with runs.district_lock(cert.pk) as taken:
        assert taken
        run = sync(cert, expect=SyncRun.Status.SKIPPED)
    assert "another sync of this district is running" in run.error
    assert not School.objects.exists()
    assert sync(cert).status == "succeeded"  # the lock was released


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_never_overlap(clever, fast):
    connections.district_connections_refresh()
    district = District.objects.get(clever_id=CERT)
    inside = threading.Event()
    release = threading.Event()
    results: dict[str, SyncRun] = {}

    def first() -> None:
        def hold(message: str) -> None:
            if message.startswith("GET /v3.0/schools page 1"):
                inside.set()
                release.wait(30)

        try:
            results["first"] = services.district_sync(district=district, progress=hold)
        finally:
            connection.close()

    def second() -> None:
        try:
            results["second"] = services.district_sync(district=district)
        finally:
            connection.close()

    one = threading.Thread(target=first)
    one.start()
    assert inside.wait(30)
    two = threading.Thread(target=second)
    two.start()
    two.join(30)
    release.set()
    one.join(60)
    assert results["second"].status == SyncRun.Status.SKIPPED
    assert f"run #{results['first'].pk}" in results["second"].error
    assert results["first"].status == SyncRun.Status.SUCCEEDED
    assert User.objects.filter(district=district).count() == 89


@pytest.mark.postgres
def test_the_sql_and_orm_paths_agree(cert, clever, settings, monkeypatch):
    """Both paths, same data, same counts and rows: the portable path is not a second opinion."""
    settings.CLEVER_SYNC_ARCHIVE_MAX_FRACTION = 1.0

    def snapshot() -> dict:
        from rostering.models import Section, SectionStudent, SectionTeacher, UserRole

        return {
            "users": sorted(
                User.objects.filter(district=cert).values_list(
                    "clever_id", "first_name", "last_name", "email", "archived_at"
                )
            ),
            "sections": sorted(
                Section.objects.values_list(
                    "clever_id", "name", "school__clever_id", "term__clever_id", "grade"
                )
            ),
            "teachers": sorted(
                SectionTeacher.objects.values_list(
                    "section__clever_id", "user__clever_id", "position", "archived_at"
                )
            ),
            "students": sorted(
                SectionStudent.objects.filter(archived_at=None).values_list(
                    "section__clever_id", "user__clever_id"
                )
            ),
            "roles": sorted(
                UserRole.objects.values_list("user__clever_id", "role", "sis_id", "grade")
            ),
        }

    sql_first = sync(cert)
    clever.world.unshare("users", "07782ff269ed248fe3548e49")
    clever.world.update_record("users", "52827e4f955bd6bc395b3b03", name__first="Nicolas")
    sql_second = sync(cert)
    sql_rows = snapshot()

    # Start again from nothing on the ORM path.
    for model in (SyncRun, School):
        model.objects.all().delete()
    User.objects.filter(district=cert).delete()
    from rostering.sync.specs import ENTITIES

    for spec in ENTITIES:
        spec.model.objects.all().delete()
    clever.world.reshare("users", "07782ff269ed248fe3548e49")
    clever.world.update_record("users", "52827e4f955bd6bc395b3b03", name__first="Nico")
    monkeypatch.setattr(store, "STORES", {})
    orm_first = sync(cert)
    clever.world.unshare("users", "07782ff269ed248fe3548e49")
    clever.world.update_record("users", "52827e4f955bd6bc395b3b03", name__first="Nicolas")
    orm_second = sync(cert)
    orm_rows = snapshot()

    assert orm_first.counts == sql_first.counts
    assert orm_second.counts == sql_second.counts
    assert totals(orm_second, "archived") > 0
    # Timestamps differ between runs; whether a row is archived must not.
    assert _archived_as_flags(orm_rows) == _archived_as_flags(sql_rows)


def _archived_as_flags(rows: dict) -> dict:
    return {
        name: [tuple(v is not None if hasattr(v, "tzinfo") else v for v in row) for row in values]
        for name, values in rows.items()
    }
