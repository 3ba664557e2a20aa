"""Each go-live step passes and fails for the right reason; the page records and shows it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from golive import checklist, services
from golive.models import ChecklistRun
from sso.models import LoginRecord
from tests.golive.conftest import make_district

pytestmark = pytest.mark.django_db


# --- 3. supported user types --------------------------------------------------------------------


def test_user_types_pass_when_each_is_synced_and_routed(settings):
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "student", "district_admin"]
    settings.CLEVER_SYNC_USER_ROLES = ["student", "teacher", "district_admin"]
    outcome = checklist.check_user_types()
    assert outcome.status == "pass"
    assert outcome.summary == (
        "Supported: teacher, student, district_admin; each is mirrored by the sync and routed "
        "by SSO."
    )


def test_user_types_fail_when_none_are_set(settings):
    settings.CLEVER_SUPPORTED_USER_TYPES = []
    outcome = checklist.check_user_types()
    assert (outcome.status, outcome.summary) == ("fail", "No supported user types are set.")
    assert "CLEVER_SUPPORTED_USER_TYPES" in outcome.fix


def test_user_types_fail_naming_an_unknown_type(settings):
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "principal"]
    outcome = checklist.check_user_types()
    assert outcome.status == "fail"
    assert outcome.summary.startswith("Unknown user type(s) principal (Clever's are student, ")


def test_user_types_fail_when_the_sync_does_not_mirror_one(settings):
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "student"]
    settings.CLEVER_SYNC_USER_ROLES = ["teacher", "staff"]
    outcome = checklist.check_user_types()
    assert outcome.status == "fail"
    assert outcome.summary == (
        "Student may log in but the sync does not mirror them (CLEVER_SYNC_USER_ROLES), so they "
        "would have no roster."
    )


def test_user_types_fail_when_sso_has_no_home_for_one(settings):
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "contact"]
    outcome = checklist.check_user_types()
    assert outcome.status == "fail"
    assert "SSO has no home page for contact" in outcome.summary


# --- 4. test logins -----------------------------------------------------------------------------


def _login(user_type: str, *, production: bool = True, district=None) -> LoginRecord:
    return LoginRecord.objects.create(
        user_type=user_type,
        production_credentials=production,
        district=district,
        entry_point="portal",
    )


def test_test_logins_list_the_missing_user_types(settings):
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "student", "staff"]
    _login("teacher", district=make_district("Springfield USD"))
    _login("student", production=False)  # a development login does not count
    outcome = checklist.check_test_logins()
    assert outcome.status == "fail"
    assert outcome.summary == "Missing a production test login for: student, staff."
    assert outcome.evidence[0].startswith("teacher: last logged in ")
    assert outcome.evidence[0].endswith("UTC (Springfield USD) via portal")
    assert outcome.evidence[1:] == [
        "student: no production login recorded",
        "staff: no production login recorded",
    ]


def test_test_logins_pass_with_one_production_login_per_type(settings):
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "student"]
    _login("teacher")
    _login("student")
    _login("student")
    outcome = checklist.check_test_logins()
    assert outcome.status == "pass"


def test_test_logins_do_not_apply_to_rostering_only(settings):
    settings.CLEVER_ROSTERING_ONLY = True
    assert checklist.check_test_logins().status == "n/a"


def test_test_sync_applies_only_to_rostering_only(settings):
    settings.CLEVER_ROSTERING_ONLY = False
    assert checklist.check_test_sync().status == "n/a"


# --- the page -----------------------------------------------------------------------------------


def test_the_page_before_any_check_says_so(staff_client):
    page = staff_client.get(reverse("golive:checklist"))
    assert b'data-testid="verdict">Not checked yet<' in page.content


def test_recheck_records_a_run_and_the_page_shows_each_step(staff_client, staff, settings):
    settings.CLEVER_APP_ENVIRONMENT = "development"
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher"]
    page = staff_client.post(reverse("golive:recheck"), follow=True)
    run = ChecklistRun.objects.get()
    assert run.checked_by == staff and not run.ready
    assert [r.key for r in run.results.all()] == [
        "credentials",
        "redirect_uris",
        "user_types",
        "test_logins",
        "test_sync",
    ]
    html = page.content.decode()
    assert 'data-testid="verdict">Not ready to go live<' in html
    assert "Last checked" in html and "by ops" in html
    assert 'data-testid="step-credentials" data-status="fail"' in html
    assert "The app is configured with development credentials" in html
    assert "How to fix:" in html
    assert 'data-testid="step-user_types" data-status="pass"' in html
    assert 'data-testid="step-test_sync" data-status="n/a"' in html
    assert "Re-checked: some steps fail; see how to fix them below." in html


def test_the_page_shows_the_latest_run(staff_client, staff, settings):
    settings.CLEVER_SUPPORTED_USER_TYPES = []
    services.checklist_run(by=staff)
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher"]
    services.checklist_run(by=staff)
    html = staff_client.get(reverse("golive:checklist")).content.decode()
    assert 'data-testid="step-user_types" data-status="pass"' in html
    assert ChecklistRun.objects.count() == 2
