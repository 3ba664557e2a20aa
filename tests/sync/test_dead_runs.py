"""A run whose process died is marked failed, never left "running"; a dead or stuck holder of a
district's lock is taken over; a skipped run says who holds the lock and since when."""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import timedelta

import psycopg2
import pytest
from django.db import connection
from django.utils import timezone

from rostering import connections, runs, services, tasks
from rostering.models import District, SyncRun
from tests.sync.conftest import CERT, sync

pytestmark = pytest.mark.django_db


def _running(district, *, beat_ago: float) -> SyncRun:
    """What a killed process leaves behind: a run still marked running, its heartbeat old."""
    at = timezone.now() - timedelta(seconds=beat_ago)
    return SyncRun.objects.create(
        district=district,
        trigger=SyncRun.Trigger.SCHEDULED,
        status=SyncRun.Status.RUNNING,
        started_at=at,
        heartbeat_at=at,
    )


def test_the_periodic_task_fails_runs_without_a_heartbeat(cert, settings):
    settings.CLEVER_SYNC_HEARTBEAT_TIMEOUT = 120
    dead = _running(cert, beat_ago=600)
    alive = _running(cert, beat_ago=5)
    assert tasks.fail_dead_runs() == 1
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == SyncRun.Status.FAILED and dead.failure == SyncRun.Failure.INTERNAL
    assert "The process stopped at" in dead.error and "no heartbeat since" in dead.error
    assert alive.status == SyncRun.Status.RUNNING


def test_the_next_run_fails_a_dead_run_and_syncs(cert):
    dead = _running(cert, beat_ago=3600)
    run = sync(cert)
    dead.refresh_from_db()
    assert dead.status == SyncRun.Status.FAILED
    assert run.status == SyncRun.Status.SUCCEEDED


def test_a_running_sync_writes_its_heartbeat(cert, settings):
    settings.CLEVER_SYNC_HEARTBEAT_SECONDS = 0.01
    beat = runs._Heartbeat(SyncRun.objects.create(district=cert, trigger="manual"))
    SyncRun.objects.filter(pk=beat.run_id).update(status=SyncRun.Status.RUNNING)
    beat.beat()
    assert SyncRun.objects.get(pk=beat.run_id).heartbeat_at is not None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_frozen_holder_of_the_lock_is_taken_over(clever, fast, settings):
    """A process that stopped (SIGSTOP, a hung host) keeps its database session and the lock."""
    connections.district_connections_refresh()
    district = District.objects.get(clever_id=CERT)
    stuck = _running(district, beat_ago=3600)
    params = connection.get_connection_params()
    frozen = psycopg2.connect(**{k: v for k, v in params.items() if k != "cursor_factory"})
    frozen.autocommit = True
    frozen.cursor().execute("SELECT pg_advisory_lock(%s, %s)", [runs._LOCK_NAMESPACE, district.pk])
    settings.CLEVER_SYNC_HEARTBEAT_TIMEOUT = 1
    time.sleep(1.5)  # the frozen session stays quiet past the heartbeat timeout
    try:
        run = services.district_sync(district=district)
    finally:
        with contextlib.suppress(psycopg2.Error):
            frozen.close()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    stuck.refresh_from_db()
    assert stuck.status == SyncRun.Status.FAILED
    assert f"Taken over by run #{run.pk}" in stuck.error or "process stopped" in stuck.error


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_past_its_deadline_is_taken_over_and_a_skip_names_the_holder(clever, fast, settings):
    connections.district_connections_refresh()
    district = District.objects.get(clever_id=CERT)
    inside, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def first() -> None:
        def hold(message: str) -> None:
            if message.startswith("GET /v3.0/schools page 1"):
                inside.set()
                release.wait(30)

        try:
            results["first"] = services.district_sync(district=district, progress=hold)
        except Exception as exc:  # its session was ended by the take-over
            results["first_error"] = exc
        finally:
            connection.close()

    one = threading.Thread(target=first)
    one.start()
    assert inside.wait(30)
    skipped = services.district_sync(district=district)
    assert skipped.status == SyncRun.Status.SKIPPED
    holder = SyncRun.objects.get(district=district, status=SyncRun.Status.RUNNING)
    assert f"run #{holder.pk}" in skipped.error and "since" in skipped.error
    assert "database session" in skipped.error

    settings.CLEVER_SYNC_MAX_SECONDS = 0
    taker = services.district_sync(district=district)
    release.set()
    one.join(60)
    assert taker.status == SyncRun.Status.SUCCEEDED, taker.error
    holder.refresh_from_db()
    assert holder.status == SyncRun.Status.FAILED
    assert f"Taken over by run #{taker.pk}" in holder.error
    assert "CLEVER_SYNC_MAX_SECONDS" in holder.error


def test_on_sqlite_a_lock_without_heartbeat_is_free(cert, settings):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL releases a dead session's advisory lock itself")
    District.objects.filter(pk=cert.pk).update(
        sync_locked_at=timezone.now() - timedelta(seconds=600)
    )
    assert sync(cert).status == SyncRun.Status.SUCCEEDED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_clever_sync_losing_the_database_says_so_without_a_traceback(
    clever, fast, monkeypatch, sync_store, settings
):
    if sync_store != "postgres":
        pytest.skip("the session is dropped while the PostgreSQL store stages a page")
    from django.core.management import CommandError, call_command

    from rostering.sync import pg

    connections.district_connections_refresh()
    real_stage = pg.PostgresStore.stage

    def stage(self, name, rows):
        if name == "users":  # mid-run: the database server drops our session
            params = connection.get_connection_params()
            killer = psycopg2.connect(**{k: v for k, v in params.items() if k != "cursor_factory"})
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
            killer.cursor().execute("SELECT pg_terminate_backend(%s)", [pid])
            killer.commit()
            killer.close()
        return real_stage(self, name, rows)

    monkeypatch.setattr(pg.PostgresStore, "stage", stage)
    with pytest.raises(CommandError, match="lost the database"):
        call_command("clever_sync", "--district", CERT)
    connection.close()
    run = SyncRun.objects.order_by("-pk").first()
    # Failed at once if the record could still be written, else once its heartbeat is seen
    # to have stopped; never left running.
    settings.CLEVER_SYNC_HEARTBEAT_TIMEOUT = 0
    runs.runs_dead_fail()
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED, run.status
    assert run.error
