"""Launch gates SSO (sso_block_reason) by district, with ops testing still possible.

Clever's launch date (from its district record, as last read) decides; while it is unknown, ops'
own note of the launch decides, as it did before Clever's was read (most tests here: the
factory's districts have never been read from Clever)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from golive import services
from golive.selectors import sso_block_reason
from tests.golive.factories import make_district, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def production(settings):
    settings.CLEVER_APP_ENVIRONMENT = "production"
    return settings


def test_a_connected_district_that_has_not_launched_is_blocked(production):
    district = make_district("Springfield USD")
    student = make_user(district, "student")
    assert sso_block_reason(district=district, user=student) == (
        "This app hasn't launched for Springfield USD yet. Your school will let you know when "
        "it's ready; until then you can't log in with Clever."
    )
    assert sso_block_reason(district=district, user=None) is not None


def test_a_scheduled_district_is_blocked_until_its_launch_date(production, staff, clock):
    district = make_district("Springfield USD")
    teacher = make_user(district, "teacher")
    launch = timezone.localdate() + dt.timedelta(days=3)
    services.connection_schedule_launch(
        clever_district_id=district.clever_id, launch_date=launch, by=staff
    )
    reason = sso_block_reason(district=district, user=teacher)
    # Our note, not Clever's launch date: it claims nothing of the Clever Portal.
    assert reason == (
        f"This app launches for Springfield USD on {launch:%B} {launch.day}, {launch.year}. "
        "From then on you can log in here."
    )
    clock.advance(days=3)
    assert sso_block_reason(district=district, user=teacher) is None


def test_launch_now_lets_the_district_log_in(production, staff):
    district = make_district()
    student = make_user(district, "student")
    services.connection_launch_now(clever_district_id=district.clever_id, by=staff)
    assert sso_block_reason(district=district, user=student) is None


def test_launch_is_per_district(production, staff):
    launched, waiting = make_district("Launched"), make_district("Waiting")
    services.connection_launch_now(clever_district_id=launched.clever_id, by=staff)
    assert sso_block_reason(district=launched, user=make_user(launched, "student")) is None
    assert sso_block_reason(district=waiting, user=make_user(waiting, "student")) is not None


def test_ops_can_test_before_launch_staff_and_listed_testers(production, staff):
    district = make_district()
    tester, other = make_user(district, "teacher"), make_user(district, "teacher")
    services.launch_tester_add(
        clever_district_id=district.clever_id, clever_user_id=tester.clever_id, by=staff
    )
    assert sso_block_reason(district=district, user=tester) is None
    assert sso_block_reason(district=district, user=other) is not None
    other.is_staff = True
    assert sso_block_reason(district=district, user=other) is None
    # A tester of one district is not a tester of another.
    elsewhere = make_district("Elsewhere")
    assert sso_block_reason(district=elsewhere, user=tester) is not None


def test_a_disconnected_district_is_blocked_even_if_it_had_launched(production, staff):
    district = make_district("Springfield USD")
    services.connection_launch_now(clever_district_id=district.clever_id, by=staff)
    district.status = "disconnected"
    district.save()
    reason = sso_block_reason(district=district, user=make_user(district, "student"))
    assert reason.startswith("Springfield USD is no longer connected to this app through Clever")


def test_the_development_app_sandbox_is_never_gated(settings):
    settings.CLEVER_APP_ENVIRONMENT = "development"
    district = make_district()
    assert sso_block_reason(district=district, user=make_user(district, "student")) is None


def test_golive_registers_its_launch_gate_with_sso():
    from sso import gates

    # Django readied golive, which added its gate: SSO asks it without importing golive.
    assert services.launch_gate in gates._gates


# --- Clever's launch date decides once read -------------------------------------------------------


def _clever_says(district, days: int | None):
    district.clever_launch_date = (
        None if days is None else timezone.localdate() + dt.timedelta(days=days)
    )
    district.clever_state_checked_at = timezone.now()
    district.save()
    return district.clever_launch_date


def test_clevers_future_launch_date_refuses_whatever_we_noted(production, staff, clock):
    district = make_district("Springfield USD")
    student = make_user(district, "student")
    services.connection_launch_now(clever_district_id=district.clever_id, by=staff)
    assert sso_block_reason(district=district, user=student) is None  # our note, Clever unknown
    launch = _clever_says(district, 5)
    assert sso_block_reason(district=district, user=student) == (
        f"This app launches for Springfield USD on {launch:%B} {launch.day}, {launch.year}. "
        "From then on you can log in here and from the Clever Portal."
    )
    clock.advance(days=5)
    assert sso_block_reason(district=district, user=student) is None


def test_clevers_past_launch_date_lets_in_with_nothing_noted(production):
    district = make_district()
    _clever_says(district, -1)
    assert sso_block_reason(district=district, user=make_user(district, "teacher")) is None
    assert sso_block_reason(district=district, user=None) is None


def test_clevers_past_launch_date_reads_nothing_more(production, django_assert_num_queries):
    district = make_district()
    _clever_says(district, 0)
    user = make_user(district, "student")
    with django_assert_num_queries(0):
        assert sso_block_reason(district=district, user=user) is None


def test_testers_and_staff_log_in_before_clevers_launch_date(production, staff):
    district = make_district()
    _clever_says(district, 10)
    tester, other = make_user(district, "teacher"), make_user(district, "teacher")
    services.launch_tester_add(
        clever_district_id=district.clever_id, clever_user_id=tester.clever_id, by=staff
    )
    assert sso_block_reason(district=district, user=tester) is None
    assert sso_block_reason(district=district, user=other) is not None
    assert sso_block_reason(district=district, user=staff) is None


def test_a_read_without_a_launch_date_falls_back_to_our_note(production, staff):
    district = make_district("Springfield USD")
    _clever_says(district, None)
    student = make_user(district, "student")
    assert sso_block_reason(district=district, user=student).startswith(
        "This app hasn't launched for Springfield USD yet."
    )
    services.connection_launch_now(clever_district_id=district.clever_id, by=staff)
    assert sso_block_reason(district=district, user=student) is None


def test_a_disconnected_district_is_refused_though_clever_launched_it(production):
    district = make_district("Springfield USD", status="disconnected")
    _clever_says(district, -30)
    reason = sso_block_reason(district=district, user=make_user(district, "student"))
    assert reason.startswith("Springfield USD is no longer connected to this app through Clever")
