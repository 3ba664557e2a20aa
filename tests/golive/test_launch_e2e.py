"""Launch gates SSO, never Secure Sync: real logins and a real sync against the look-alike."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
import requests
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from golive import services
from golive.selectors import district_rows, sso_block_reason
from rostering.connections import district_connections_refresh
from rostering.models import District, School, Section, SyncRun
from rostering.services import district_sync
from sso.models import LoginRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def production(clever, settings):
    settings.CLEVER_APP_ENVIRONMENT = "production"
    return clever


@pytest.fixture
def district(production) -> District:
    """Certification ISD, connected from Clever's token list."""
    district_connections_refresh()
    return District.objects.get(name="Certification ISD")


def _clever_login(client, user_id: str):
    """Log in through our button, the look-alike's authorize page and our callback."""
    start = client.get(reverse("sso:login"))
    assert start.status_code == 302
    at_clever = requests.get(
        f"{start['Location']}&login_as={user_id}", allow_redirects=False, timeout=10
    )
    assert at_clever.status_code in (302, 303), at_clever.text[:200]
    back = urlsplit(at_clever.headers["Location"])
    assert back.path == reverse("sso:callback")
    return client.get(f"{back.path}?{back.query}")


def _first(world, district: District, role: str) -> str:
    return world.users(district.clever_id, role=role)[0]["id"]


def test_a_not_launched_district_syncs_and_writes_rows(production, district, staff):
    launch = timezone.localdate() + dt.timedelta(days=7)
    services.connection_schedule_launch(
        clever_district_id=district.clever_id, launch_date=launch, by=staff
    )
    assert sso_block_reason(district=district, user=None) is not None

    run = district_sync(district=district, trigger=SyncRun.Trigger.MANUAL)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    shared_schools = len(production.world.records(district.clever_id, "schools"))
    assert School.objects.filter(district=district, archived_at=None).count() == shared_schools
    assert Section.objects.filter(district=district, archived_at=None).exists()
    row = next(r for r in district_rows() if r.clever_district_id == district.clever_id)
    assert (row.state, row.launch_date, row.last_sync_status) == ("connected", launch, "succeeded")
    assert row.schools == shared_schools and row.students > 0 and row.teachers > 0
    assert row.healthy


def test_a_not_launched_districts_user_gets_the_friendly_page_until_launch(
    production, district, client, staff
):
    student_id = _first(production.world, district, "student")

    page = _clever_login(client, student_id)
    assert page.status_code == 403
    html = page.content.decode()
    assert 'data-kind="not_launched"' in html
    assert "This app hasn&#x27;t launched for Certification ISD yet." in html
    assert "_auth_user_id" not in client.session
    assert not LoginRecord.objects.exists()

    services.connection_launch_now(clever_district_id=district.clever_id, by=staff)
    page = _clever_login(client, student_id)
    assert page.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(clever_id=student_id).pk)
    record = LoginRecord.objects.get()
    assert (record.user_type, record.production_credentials) == ("student", True)
    assert record.district == district


def test_a_scheduled_district_shows_its_launch_date(production, district, client, staff):
    launch = timezone.localdate() + dt.timedelta(days=3)
    services.connection_schedule_launch(
        clever_district_id=district.clever_id, launch_date=launch, by=staff
    )
    page = _clever_login(client, _first(production.world, district, "teacher"))
    assert page.status_code == 403
    assert (
        f"This app launches for Certification ISD on {launch:%B} {launch.day}, {launch.year}."
        in page.content.decode()
    )


def test_a_launch_tester_logs_in_before_launch(production, district, client, staff):
    teacher_id = _first(production.world, district, "teacher")
    # Testers are known by their account, which the sync creates whether or not we launched.
    User.objects.create(
        username=f"clever-{teacher_id}", clever_id=teacher_id, source="clever", district=district
    )
    services.launch_tester_add(
        clever_district_id=district.clever_id, clever_user_id=teacher_id, by=staff
    )
    page = _clever_login(client, teacher_id)
    assert page.status_code == 302
    assert LoginRecord.objects.get().user_type == "teacher"
    # Another user of the same district is still refused.
    other = _clever_login(client, _first(production.world, district, "student"))
    assert other.status_code == 403
