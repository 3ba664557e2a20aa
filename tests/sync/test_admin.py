"""The operations admin: district overview without N+1, Sync now, Test connection, reviews."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from config.celery import app
from rostering.models import School, SyncRun
from tests.sync.conftest import sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(client):
    user = User.objects.create_superuser("ops", "ops@example.com", "pw-for-tests-only")
    client.force_login(user)
    return client


@pytest.fixture
def eager():
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def _queries(client, url: str) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def test_district_changelist_shows_last_run_and_counts_in_constant_queries(ops, cert, lake):
    url = reverse("admin:rostering_district_changelist")
    sync(cert)
    one_district, _ = _queries(ops, url)
    sync(lake)
    sync(lake)
    two_districts, response = _queries(ops, url)
    assert two_districts == one_district  # no query per district
    html = response.content.decode()
    assert "Certification ISD" in html and "Lakeside Charter Schools" in html
    assert "succeeded" in html
    assert ">89<" in html and ">17<" in html  # live users, live sections


def test_run_changelist_and_detail(ops, cert):
    url = reverse("admin:rostering_syncrun_changelist") + "?status=succeeded"
    sync(cert)
    one_run, _ = _queries(ops, url)
    sync(cert)
    sync(cert)
    three_runs, response = _queries(ops, url)
    assert three_runs == one_run  # no query per run
    assert response.content.decode().count("Certification ISD") >= 3
    run = SyncRun.objects.first()
    detail = ops.get(reverse("admin:rostering_syncrun_change", args=[run.pk]))
    assert detail.status_code == 200
    assert "<td>users</td><td>0</td><td>0</td><td>89</td>" in detail.content.decode()


def test_sync_now_and_test_connection_actions(ops, cert, eager, django_capture_on_commit_callbacks):
    url = reverse("admin:rostering_district_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        response = ops.post(url, {"action": "sync_now", "_selected_action": [cert.pk]}, follow=True)
    assert "Sync requested for 1 district" in response.content.decode()
    assert SyncRun.objects.get(district=cert).status == "succeeded"
    assert SyncRun.objects.get(district=cert).trigger == "manual"
    response = ops.post(
        url, {"action": "test_connection", "_selected_action": [cert.pk]}, follow=True
    )
    assert "Token valid; district Certification ISD reachable." in response.content.decode()


def test_approve_and_discard_actions(ops, cert, clever):
    sync(cert)
    for school in clever.world.records(cert.clever_id, "schools")[:2]:
        clever.world.unshare("schools", school["id"])
    run = sync(cert, expect="needs_review")
    detail = ops.get(reverse("admin:rostering_syncrun_change", args=[run.pk])).content.decode()
    assert "archive 2 schools" in detail
    url = reverse("admin:rostering_syncrun_changelist")
    response = ops.post(url, {"action": "approve", "_selected_action": [run.pk]}, follow=True)
    assert f"Run #{run.pk} approved" in response.content.decode()
    assert School.objects.filter(archived_at__isnull=False).count() == 2
    # A run that does not need review cannot be approved or discarded.
    response = ops.post(url, {"action": "discard", "_selected_action": [run.pk]}, follow=True)
    assert "not needing review" in response.content.decode()
