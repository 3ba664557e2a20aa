"""Launch gates SSO, never Secure Sync, and follows Clever's launch date: real logins and real
syncs against the look-alike, whose district record carries the launch date set in Clever's
dashboard (``world.district_state_set``)."""

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

CERT = "9aa03c1635aa7766e18a6a7d"  # Certification ISD (fixtures/demo/EDGE_CASES.md)


@pytest.fixture
def production(clever, settings):
    settings.CLEVER_APP_ENVIRONMENT = "production"
    settings.CLEVER_HTTP_BACKOFF_BASE = 0.001
    return clever


def _connect() -> District:
    """Clever's token list read (and with it each district's own record)."""
    district_connections_refresh()
    return District.objects.get(clever_id=CERT)


def _in_days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)


@pytest.fixture
def launching(production) -> tuple[District, dt.date]:
    """Certification ISD, connected, with a launch date in Clever a week away."""
    launch = _in_days(7)
    production.world.district_state_set(CERT, launch_date=launch)
    return _connect(), launch


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


def _first(world, role: str) -> str:
    return world.users(CERT, role=role)[0]["id"]


def _logged_in(client, clever_user_id: str) -> bool:
    user = User.objects.filter(clever_id=clever_user_id).first()
    return user is not None and client.session.get("_auth_user_id") == str(user.pk)


def test_a_district_launched_in_clever_logs_in_with_nothing_noted_here(production, client):
    # The look-alike's Certification ISD launched in Clever on 2025-08-01; ops noted nothing.
    district = _connect()
    assert district.clever_launch_date == dt.date(2025, 8, 1)
    student = _first(production.world, "student")

    page = _clever_login(client, student)

    assert page.status_code == 302, page.content[:300]
    assert _logged_in(client, student)
    record = LoginRecord.objects.get()
    assert (record.user_type, record.production_credentials) == ("student", True)
    row = next(r for r in district_rows() if r.clever_district_id == CERT)
    assert (row.state, row.launch_date, row.launch_from_clever) == (
        "launched",
        dt.date(2025, 8, 1),
        True,
    )


def test_a_future_launch_date_in_clever_refuses_logins_until_it_passes(
    production, launching, client, staff, clock
):
    _, launch = launching
    teacher = _first(production.world, "teacher")

    page = _clever_login(client, teacher)
    assert page.status_code == 403
    html = page.content.decode()
    assert 'data-kind="not_launched"' in html
    assert (
        f"This app launches for Certification ISD on {launch:%B} {launch.day}, {launch.year}."
        in html
    )
    assert not _logged_in(client, teacher) and not LoginRecord.objects.exists()

    # Ops noting a launch today changes nothing: Clever's launch date decides.
    services.connection_launch_now(clever_district_id=CERT, by=staff)
    page = _clever_login(client, teacher)
    assert page.status_code == 403 and not LoginRecord.objects.exists()
    row = next(r for r in district_rows() if r.clever_district_id == CERT)
    assert (row.state, row.launch_date, row.our_launch_date, row.launch_differs) == (
        "connected",
        launch,
        timezone.localdate(),
        True,
    )

    # Clever's date comes: the same stored date now lets the teacher in.
    clock.advance(days=7)
    page = _clever_login(client, teacher)
    assert page.status_code == 302
    assert _logged_in(client, teacher)


def test_launch_now_in_clever_lets_logins_in_after_the_next_sync(production, launching, client):
    world = production.world
    district, _ = launching
    student = _first(world, "student")
    assert _clever_login(client, student).status_code == 403

    # Ops press Launch Now in Clever's dashboard: its district record says today from now on.
    world.district_state_set(CERT, launch_date=timezone.localdate())
    # Our copy was read less than a minute ago: a refusal does not ask Clever again yet.
    assert _clever_login(client, student).status_code == 403
    run = district_sync(district=district, trigger=SyncRun.Trigger.MANUAL)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error

    page = _clever_login(client, student)
    assert page.status_code == 302
    assert _logged_in(client, student)


def test_launch_now_in_clever_lets_logins_in_within_a_minute(production, launching, client, clock):
    world = production.world
    student = _first(world, "student")
    world.district_state_set(CERT, launch_date=timezone.localdate())
    assert _clever_login(client, student).status_code == 403  # read seconds ago: not again yet

    clock.advance(seconds=61)
    # A refusal now re-reads Clever's district record first, and Clever says launched today.
    before = len(world.requests)
    page = _clever_login(client, student)
    assert page.status_code == 302
    assert _logged_in(client, student)
    assert any(p == f"/v3.0/districts/{CERT}" for _, p, _ in world.requests[before:])
    assert District.objects.get(clever_id=CERT).clever_launch_date == timezone.localdate()
    # Launched: later logins read nothing from Clever but the login itself.
    before = len(world.requests)
    assert _clever_login(client, student).status_code == 302
    assert not any("/v3.0/districts/" in p for _, p, _ in world.requests[before:])


def test_a_past_launch_date_in_clever_lets_in_though_our_note_says_later(
    production, launching, client, staff
):
    services.connection_schedule_launch(clever_district_id=CERT, launch_date=_in_days(30), by=staff)
    # Clever's launch is brought forward in its dashboard; the next token refresh reads it.
    production.world.district_state_set(CERT, launch_date=_in_days(-1))
    district_connections_refresh()
    teacher = _first(production.world, "teacher")
    assert _clever_login(client, teacher).status_code == 302
    assert _logged_in(client, teacher)
    row = next(r for r in district_rows() if r.clever_district_id == CERT)
    assert (row.state, row.launch_date, row.our_launch_date, row.launch_differs) == (
        "launched",
        _in_days(-1),
        _in_days(30),
        True,
    )


def test_a_not_launched_district_syncs_and_writes_rows(production, launching):
    world = production.world
    district, launch = launching
    assert sso_block_reason(district=district, user=None) is not None

    run = district_sync(district=district, trigger=SyncRun.Trigger.MANUAL)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    shared_schools = len(world.records(CERT, "schools"))
    assert School.objects.filter(district=district, archived_at=None).count() == shared_schools
    assert Section.objects.filter(district=district, archived_at=None).exists()
    row = next(r for r in district_rows() if r.clever_district_id == CERT)
    assert (row.state, row.launch_date, row.last_sync_status) == ("connected", launch, "succeeded")
    assert row.schools == shared_schools and row.students > 0 and row.teachers > 0
    assert row.healthy


def test_a_launch_tester_logs_in_before_clevers_launch_date(production, launching, client, staff):
    world = production.world
    district, _ = launching
    teacher_id = _first(world, "teacher")
    # Testers are known by their account, which the sync creates whether or not we launched.
    User.objects.create(
        username=f"clever-{teacher_id}", clever_id=teacher_id, source="clever", district=district
    )
    services.launch_tester_add(clever_district_id=CERT, clever_user_id=teacher_id, by=staff)
    page = _clever_login(client, teacher_id)
    assert page.status_code == 302
    assert LoginRecord.objects.get().user_type == "teacher"
    # Another user of the same district is still refused.
    other = _clever_login(client, _first(world, "student"))
    assert other.status_code == 403


def test_while_clevers_launch_date_is_unknown_our_note_decides(production, client, staff):
    # Clever's district record cannot be read at the token refresh: its launch date is unknown.
    production.world.faults.add(f"/v3.0/districts/{CERT}", "503", times=1000)
    district = _connect()
    assert district.clever_state_checked_at is None and district.status == "connected"
    student = _first(production.world, "student")

    page = _clever_login(client, student)
    assert page.status_code == 403
    # (Its name comes from the same record, so it is not known yet either.)
    assert "This app hasn&#x27;t launched for your district yet." in page.content.decode()

    # Our own note decides until Clever's is read: noting a launch lets the student in.
    services.connection_launch_now(clever_district_id=CERT, by=staff)
    assert _clever_login(client, student).status_code == 302
    assert _logged_in(client, student)
    production.world.faults.clear()
