"""Go-live pages and actions are for staff only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from golive.models import ChecklistRun, DistrictConnection
from tests.golive.factories import clever_id, make_district

pytestmark = pytest.mark.django_db

CID = "0" * 23 + "1"
GETS = ["golive:checklist", "golive:districts", "golive:report", "golive:report_markdown"]
POSTS = [
    ("golive:recheck", {}),
    ("golive:district_request", {}),
    ("golive:district_invite", {}),
    ("golive:district_approve", {"clever_id": CID}),
    ("golive:district_decline", {"clever_id": CID}),
    ("golive:district_schedule", {"clever_id": CID}),
    ("golive:district_launch", {"clever_id": CID}),
    ("golive:district_tester", {"clever_id": CID}),
]


@pytest.mark.parametrize("name", GETS)
def test_anonymous_visitors_are_sent_to_log_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login") + "?next=")


@pytest.mark.parametrize("name", GETS)
def test_non_staff_users_are_refused(client, name):
    user = User.objects.create_user(username="teacher", password="x", clever_id=clever_id())
    client.force_login(user)
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize(("name", "kwargs"), POSTS)
def test_actions_are_refused_to_anonymous_and_non_staff(client, name, kwargs):
    district = make_district()
    url = reverse(name, kwargs={"clever_id": district.clever_id} if kwargs else None)
    data = {"clever_district_id": clever_id(), "name": "X", "launch_date": "2030-01-01"}
    assert client.post(url, data).status_code == 302
    client.force_login(User.objects.create_user(username="student", password="x"))
    assert client.post(url, data).status_code == 403
    assert not DistrictConnection.objects.exists()
    assert not ChecklistRun.objects.exists()


def test_staff_see_the_pages(staff_client):
    for name in GETS:
        assert staff_client.get(reverse(name)).status_code == 200


def test_the_admin_lists_checklist_runs_and_connections(client, staff):
    from golive import services

    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    run = services.checklist_run(by=staff)
    connection = services.connection_invite(
        clever_district_id=clever_id(), name="Ogdenville", by=staff
    )
    for url in (
        reverse("admin:golive_checklistrun_changelist"),
        reverse("admin:golive_checklistrun_change", args=[run.pk]),
        reverse("admin:golive_districtconnection_changelist"),
        reverse("admin:golive_districtconnection_change", args=[connection.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    assert (
        b"Ogdenville" in client.get(reverse("admin:golive_districtconnection_changelist")).content
    )


@pytest.mark.django_db
def test_only_staff_see_the_go_live_links_in_the_header(client, django_user_model) -> None:
    teacher = django_user_model.objects.create_user(username="t", password="pw-not-staff-1")
    client.force_login(teacher)
    assert "Go-live" not in client.get("/").content.decode()
    ops = django_user_model.objects.create_user(
        username="ops", password="pw-staff-1", is_staff=True
    )
    client.force_login(ops)
    page = client.get("/").content.decode()
    assert 'href="/golive/"' in page and 'href="/golive/districts/"' in page


@pytest.mark.django_db
def test_go_live_actions_need_the_change_permission_not_only_staff(client, django_user_model):
    viewer = django_user_model.objects.create_user(
        username="support", password="pw-staff-2", is_staff=True
    )
    client.force_login(viewer)
    page = client.get(reverse("golive:districts")).content.decode()
    assert 'data-testid="no-change-permission"' in page
    assert reverse("golive:district_invite") not in page
    response = client.post(
        reverse("golive:district_invite"), {"clever_district_id": "d" * 24, "name": "Ogdenville"}
    )
    assert response.status_code == 403
    assert not DistrictConnection.objects.exists()

    viewer.user_permissions.add(Permission.objects.get(codename="change_districtconnection"))
    client.force_login(django_user_model.objects.get(pk=viewer.pk))
    assert (
        reverse("golive:district_invite")
        in client.get(reverse("golive:districts")).content.decode()
    )
    response = client.post(
        reverse("golive:district_invite"), {"clever_district_id": "d" * 24, "name": "Ogdenville"}
    )
    assert response.status_code == 302
    assert DistrictConnection.objects.get().name == "Ogdenville"


def test_the_admin_never_claims_a_connection_clever_has_not_made(client, staff):
    from golive import services
    from rostering.models import District

    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    cid = clever_id()
    services.connection_request_record(clever_district_id=cid, name="Ogdenville")
    connection = services.connection_approve(clever_district_id=cid, by=staff)
    changelist = client.get(reverse("admin:golive_districtconnection_changelist")).content.decode()
    assert "Approved in Clever (no token yet)" in changelist
    assert "not connected in Clever yet" in changelist
    assert ">Connected<" not in changelist
    assert "are done in Clever&#x27;s dashboard" in changelist
    change = client.get(reverse("admin:golive_districtconnection_change", args=[connection.pk]))
    assert "Approved in Clever (no token yet)" in change.content.decode()
    assert "the request approved in Clever&#x27;s dashboard" in change.content.decode()
    assert ">Connected<" not in change.content.decode()

    # Clever connects it and its record gives a launch date that differs from our note.
    district = District.objects.create(clever_id=cid, name="Ogdenville", status="connected")
    services.connection_schedule_launch(
        clever_district_id=cid, launch_date=dt.date(2030, 1, 10), by=staff
    )
    district.clever_launch_date = dt.date(2030, 1, 20)
    district.clever_state, district.clever_error = "error", "SFTP upload failed"
    district.clever_state_checked_at = timezone.now()
    district.save()
    changelist = client.get(reverse("admin:golive_districtconnection_changelist")).content.decode()
    assert "2030-01-20 (logins follow it)" in changelist
    assert "2030-01-10 (differs from Clever&#x27;s 2030-01-20)" in changelist
    district_page = client.get(reverse("admin:rostering_district_change", args=[district.pk]))
    assert "error; error: SFTP upload failed" in district_page.content.decode()
