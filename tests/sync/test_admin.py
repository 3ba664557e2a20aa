"""The operations admin: district overview without N+1, Sync now, Test connection, reviews."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from config.celery import app
from rostering.models import School, SyncRun
from tests.sync.conftest import sync, wait_for_run

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
    assert "Succeeded" in html
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
    row = re.search(r'data-testid="counts-users">(.*?)</tr>', detail.content.decode()).group(1)
    assert re.findall(r">(\d+)<", row) == ["0", "0", "89", "0", "0"]  # no held column


@pytest.mark.django_db(transaction=True)
def test_sync_now_runs_in_the_background_and_lands_on_the_run(ops, cert, eager):
    url = reverse("admin:rostering_district_changelist")
    response = ops.post(url, {"action": "sync_now", "_selected_action": [cert.pk]})
    run = SyncRun.objects.get(district=cert)
    # The request returned at once, on the run's page; the run goes on in a thread.
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:rostering_syncrun_change", args=[run.pk])
    assert wait_for_run(run.pk).status == "succeeded"
    assert run.trigger == "manual" and run.requested_by.username == "ops"
    page = ops.get(response["Location"]).content.decode()
    assert "Succeeded." in page and 'data-testid="counts-users"' in page
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
    assert "2 schools" in detail and 'data-testid="held-rows"' in detail
    url = reverse("admin:rostering_syncrun_changelist")
    response = ops.post(url, {"action": "approve", "_selected_action": [run.pk]}, follow=True)
    assert f"Run #{run.pk} approved" in response.content.decode()
    assert School.objects.filter(archived_at__isnull=False).count() == 2
    # A run that does not need review cannot be approved or discarded.
    response = ops.post(url, {"action": "discard", "_selected_action": [run.pk]}, follow=True)
    assert "not needing review" in response.content.decode()
