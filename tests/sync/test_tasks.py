"""The Celery tasks: the nightly fan-out through a real Redis broker, and in-process runs."""

from __future__ import annotations

import base64
import json

import pytest
from django.conf import settings as django_settings

from config.celery import app
from rostering import tasks
from rostering.models import District, SyncRun
from tests.sync.conftest import CERT, LAKE

pytestmark = pytest.mark.django_db


@pytest.mark.redis
def test_the_beat_task_enqueues_one_sync_per_connected_district(
    clever, fast, django_capture_on_commit_callbacks
):
    import redis

    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    queue = app.conf.task_default_queue
    broker.delete(queue)
    District.objects.create(clever_id="gone", status=District.Status.DISCONNECTED)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.sync_all_districts() == 2
        messages = [json.loads(raw) for raw in broker.lrange(queue, 0, -1)]
    finally:
        broker.delete(queue)

    assert [m["headers"]["task"] for m in messages] == ["rostering.tasks.sync_district"] * 2
    bodies = [json.loads(base64.b64decode(m["body"])) for m in messages]
    district_ids = sorted(args[0] for args, _kwargs, _embed in bodies)
    expected = District.objects.filter(clever_id__in=[CERT, LAKE]).order_by("pk")
    assert district_ids == [d.pk for d in expected]
    assert {args[1] for args, _kwargs, _embed in bodies} == {"scheduled"}
    assert not SyncRun.objects.exists()  # enqueued, not run here


@pytest.fixture
def no_broker():
    """As settings make it when CELERY_BROKER_URL is unset: tasks run in-process."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_without_a_broker_tasks_run_in_process(
    clever, fast, no_broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sync_all_districts() == 2
    runs = SyncRun.objects.order_by("district__clever_id")
    assert [(r.district.clever_id, r.trigger, r.status) for r in runs] == sorted(
        [(CERT, "scheduled", "succeeded"), (LAKE, "scheduled", "succeeded")]
    )


def test_sync_district_is_idempotent_and_skips_disconnected_districts(connected):
    cert = connected[CERT]
    assert tasks.sync_district(cert.pk, "manual") == "succeeded"
    assert tasks.sync_district(cert.pk, "manual") == "succeeded"
    second = SyncRun.objects.filter(district=cert).order_by("-pk").first()
    assert sum(c.get("created", 0) for n, c in second.counts.items() if n != "errors") == 0
    District.objects.filter(pk=cert.pk).update(status=District.Status.DISCONNECTED)
    assert tasks.sync_district(cert.pk) == "not connected"


def test_task_options():
    assert tasks.sync_district.acks_late and tasks.sync_all_districts.acks_late
    assert tasks.sync_district.max_retries == tasks.SYNC_MAX_RETRIES
    broker_timeout = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert broker_timeout > django_settings.CLEVER_SYNC_MAX_SECONDS
    schedule = django_settings.CELERY_BEAT_SCHEDULE["nightly-clever-sync"]
    assert schedule["task"] == tasks.sync_all_districts.name


def test_events_fan_out_only_to_synced_districts_and_apply_their_changes(
    clever, fast, no_broker, django_capture_on_commit_callbacks
):
    from accounts.models import User
    from rostering import connections
    from tests.sync.conftest import sync

    connections.district_connections_refresh()
    cert = District.objects.get(clever_id=CERT)
    sync(cert)  # Lakeside is connected but has never had a full sync
    molly = "07782ff269ed248fe3548e49"  # Molly Multiclass (fixtures/demo/EDGE_CASES.md)
    clever.world.update_record("users", molly, name__first="Molly-Ann")

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.apply_all_district_events() == 1

    assert User.objects.get(clever_id=molly).first_name == "Molly-Ann"
    event_runs = SyncRun.objects.filter(trigger=SyncRun.Trigger.EVENT)
    assert [(r.district.clever_id, r.status) for r in event_runs] == [(CERT, "succeeded")]


def _as_a_worker_runs_it(task, *args):
    """Run ``task``'s body as a worker would (not eager, not called directly)."""
    task.push_request(
        id="test-task-id",
        args=list(args),
        kwargs={},
        retries=0,
        is_eager=False,
        called_directly=False,
    )
    try:
        return task.run(*args)
    finally:
        task.pop_request()


@pytest.mark.redis
def test_a_run_clever_failed_transiently_is_retried_by_celery_later(connected, clever):
    import redis
    from celery.exceptions import Retry

    cert = connected[CERT]
    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    queue = app.conf.task_default_queue
    broker.delete(queue)
    clever.world.faults.add("/v3.0/schools", "503", times=50)
    try:
        with pytest.raises(Retry):
            _as_a_worker_runs_it(tasks.sync_district, cert.pk, "scheduled")
        (raw,) = broker.lrange(queue, 0, -1)
    finally:
        broker.delete(queue)
    run = SyncRun.objects.get(district=cert)
    assert run.status == "failed" and run.failure == "transient" and run.retryable
    message = json.loads(raw)
    assert message["headers"]["task"] == "rostering.tasks.sync_district"
    assert message["headers"]["retries"] == 1 and message["headers"]["eta"]


def test_a_refused_token_is_not_retried(connected, clever):
    cert = connected[CERT]
    clever.world.faults.add("/v3.0/schools", "401", times=1)
    assert _as_a_worker_runs_it(tasks.sync_district, cert.pk, "scheduled") == "failed"
    run = SyncRun.objects.get(district=cert)
    assert run.failure == "unauthorized" and not run.retryable


def test_in_process_a_transient_failure_waits_for_the_next_schedule(connected, clever, no_broker):
    cert = connected[CERT]
    clever.world.faults.add("/v3.0/schools", "503", times=50)
    assert tasks.sync_district.apply(args=(cert.pk, "scheduled")).get() == "failed"
    assert SyncRun.objects.filter(district=cert).count() == 1  # not run again at once
