"""Each go-live step passes and fails for the right reason; the page records and shows it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from golive import checklist, services
from golive.models import ChecklistRun
from sso.models import LoginRecord
from tests.golive.factories import make_district

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


def _login(
    user_type: str,
    *,
    production: bool = True,
    district=None,
    client_id: str | None = None,
    entry_point: str = "portal",
) -> LoginRecord:
    from django.conf import settings

    return LoginRecord.objects.create(
        user_type=user_type,
        production_credentials=production,
        district=district,
        client_id=settings.CLEVER_CLIENT_ID if client_id is None else client_id,
        entry_point=entry_point,
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
    cid = checklist.shorten(settings.CLEVER_CLIENT_ID)
    assert outcome.evidence[1:] == [
        f"student: no production login recorded with client id {cid}",
        f"staff: no production login recorded with client id {cid}",
    ]


def test_test_logins_pass_with_one_production_login_per_type(settings):
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "student"]
    _login("teacher")
    _login("student")
    _login("student")
    outcome = checklist.check_test_logins()
    assert outcome.status == "pass"


def test_test_logins_show_each_types_newest_login_in_one_query_per_type(
    settings, django_assert_num_queries
):
    from datetime import timedelta

    from django.utils import timezone

    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "district admin"]
    old = _login("teacher", district=make_district("Old District"))
    LoginRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    for _ in range(20):  # the table grows by a row per login; the check reads one per type
        _login("teacher", district=make_district("Springfield USD"))
    _login("district_admin")
    with django_assert_num_queries(3):  # one per type, one for the Portal login
        outcome = checklist.check_test_logins()
    assert outcome.status == "pass"
    assert outcome.evidence[0].endswith("UTC (Springfield USD) via portal")
    assert outcome.evidence[1].startswith("district_admin: last logged in ")


def test_test_logins_made_with_another_client_id_do_not_count(settings):
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "student"]
    settings.CLEVER_CLIENT_ID = "new-production-app"
    _login("teacher", client_id="replaced-production-app")
    _login("student", client_id="replaced-production-app")
    _login("student")
    outcome = checklist.check_test_logins()
    assert outcome.status == "fail"
    assert outcome.summary == "Missing a production test login for: teacher."
    _login("teacher")
    assert checklist.check_test_logins().status == "pass"


def test_test_logins_need_one_login_started_from_the_clever_portal(settings):
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "student"]
    _login("teacher", entry_point="button")
    _login("student", entry_point="button")
    outcome = checklist.check_test_logins()
    assert outcome.status == "fail"
    assert "No login from the Clever Portal yet" in outcome.summary
    assert outcome.evidence[-1] == "Clever Portal: no login started from Clever recorded"
    _login("student", entry_point="portal", client_id="some-other-app")
    assert checklist.check_test_logins().status == "fail"
    _login("student", entry_point="portal")
    outcome = checklist.check_test_logins()
    assert outcome.status == "pass"
    assert outcome.evidence[-1].startswith("Clever Portal: last login ")


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


# --- 2. redirect URIs ---------------------------------------------------------------------------

PRIMARY = "https://app.example.com/sso/clever/callback/"


@pytest.fixture
def redirect_settings(settings):
    settings.ALLOWED_HOSTS = ["app.example.com", "staging.example.com", "testserver"]
    settings.CLEVER_REDIRECT_URI = PRIMARY
    settings.CLEVER_REDIRECT_URIS = [PRIMARY, "https://staging.example.com/sso/clever/callback/"]
    return settings


def test_redirect_uris_pass_when_https_and_the_primary_is_our_callback(redirect_settings):
    outcome = checklist.check_redirect_uris()
    assert outcome.status == "pass", outcome.summary
    assert outcome.evidence == [
        f"primary: {PRIMARY}",
        "also: https://staging.example.com/sso/clever/callback/",
        "/sso/clever/callback/ resolves to sso:callback",
    ]


def test_redirect_uris_fail_when_none_are_set(redirect_settings):
    redirect_settings.CLEVER_REDIRECT_URIS = []
    redirect_settings.CLEVER_REDIRECT_URI = ""
    outcome = checklist.check_redirect_uris()
    assert (outcome.status, outcome.summary) == ("fail", "No redirect URI is configured.")


def test_redirect_uris_fail_naming_one_that_is_not_https(redirect_settings):
    redirect_settings.CLEVER_REDIRECT_URIS = [PRIMARY, "http://staging.example.com/cb/"]
    outcome = checklist.check_redirect_uris()
    assert outcome.status == "fail"
    assert outcome.summary == "1 problem(s): http://staging.example.com/cb/ is not an https:// URL."


def test_redirect_uris_fail_when_the_primary_is_not_our_callback(redirect_settings):
    other = "https://app.example.com/golive/"
    redirect_settings.CLEVER_REDIRECT_URIS = [other, PRIMARY]
    redirect_settings.CLEVER_REDIRECT_URI = PRIMARY
    outcome = checklist.check_redirect_uris()
    assert outcome.status == "fail"
    assert (
        "the primary URI's path /golive/ is not our callback (/sso/clever/callback/); it "
        "resolves to golive:checklist" in outcome.summary
    )
    assert "/sso/clever/callback/" in outcome.fix


def test_redirect_uris_fail_when_the_primary_needs_a_query_string(redirect_settings):
    with_query = PRIMARY + "?district=springfield"
    redirect_settings.CLEVER_REDIRECT_URIS = [with_query]
    redirect_settings.CLEVER_REDIRECT_URI = with_query
    outcome = checklist.check_redirect_uris()
    assert outcome.status == "fail"
    assert "the primary URI has a query string or fragment" in outcome.summary


def test_redirect_uris_fail_for_a_per_district_host(redirect_settings):
    make_district("Springfield USD")
    per_district = "https://springfield-usd.app.example.com/sso/clever/callback/"
    redirect_settings.ALLOWED_HOSTS = [".app.example.com"]
    redirect_settings.CLEVER_REDIRECT_URIS = [per_district]
    redirect_settings.CLEVER_REDIRECT_URI = per_district
    outcome = checklist.check_redirect_uris()
    assert outcome.status == "fail"
    assert outcome.summary == (
        "1 problem(s): the primary URI names a district (springfield-usd); it must work for "
        "every district."
    )


def test_redirect_uris_fail_for_a_host_this_app_does_not_serve(redirect_settings):
    redirect_settings.ALLOWED_HOSTS = ["other.example.com"]
    outcome = checklist.check_redirect_uris()
    assert outcome.status == "fail"
    assert "host app.example.com is not in ALLOWED_HOSTS" in outcome.summary


def test_redirect_uris_fail_when_our_login_button_uses_an_unregistered_uri(redirect_settings):
    redirect_settings.CLEVER_REDIRECT_URI = "https://app.example.com/sso/clever/callback/v2/"
    outcome = checklist.check_redirect_uris()
    assert outcome.status == "fail"
    assert "is not one of CLEVER_REDIRECT_URIS" in outcome.summary


# --- the command --------------------------------------------------------------------------------


def test_the_command_records_a_run_and_fails_when_not_ready(settings):
    from io import StringIO

    from django.core.management import CommandError, call_command

    settings.CLEVER_APP_ENVIRONMENT = "development"
    out = StringIO()
    with pytest.raises(CommandError, match=r"Not ready to go live: \d step\(s\) fail\."):
        call_command("golive_check", stdout=out)
    printed = out.getvalue()
    assert "[FAIL] Production credentials: The app is configured with development credentials" in (
        printed
    )
    assert "    How to fix: Copy the client id and secret of your production app" in printed
    assert "[NOT APPLICABLE] Test sync with the production credentials" in printed
    assert ChecklistRun.objects.get().ready is False
