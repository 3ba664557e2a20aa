"""The checklist page in a real browser: log in as staff, re-check, read the rows and evidence."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.models import User
from golive import services
from golive.models import ChecklistRun
from sso.models import LoginRecord
from tests.browser import chromium, needs_chromium
from tests.golive.factories import clever_id, make_district, make_roster, make_run

SCREENSHOT = Path("/tmp/golive-checklist.png")
DISTRICTS_SCREENSHOT = Path("/tmp/golive-districts.png")
DISTRICTS_PHONE_SCREENSHOT = Path("/tmp/golive-districts-390.png")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    needs_chromium,
]


def _log_in(page, url: str) -> None:
    page.goto(url)
    page.fill("#id_username", "ops")
    page.fill("#id_password", "ops-pass-1234")
    page.click("input[type=submit]")


def test_staff_log_in_recheck_and_see_pass_fail_rows_with_evidence(
    live_server, settings, monkeypatch
):
    from playwright.sync_api import expect

    # Playwright's sync API runs an event loop in this thread; the ORM calls below are ours.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.CLEVER_APP_ENVIRONMENT = "development"
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "student"]
    primary = "https://app.example.com/sso/clever/callback/"
    settings.CLEVER_REDIRECT_URI = primary
    settings.CLEVER_REDIRECT_URIS = [primary]
    settings.ALLOWED_HOSTS = ["app.example.com", "localhost", "127.0.0.1", "testserver"]
    User.objects.create_user(username="ops", password="ops-pass-1234", is_staff=True)
    LoginRecord.objects.create(
        user_type="teacher",
        production_credentials=True,
        client_id=settings.CLEVER_CLIENT_ID,
        entry_point="portal",
    )

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(f"{live_server.url}/golive/")
        # Anonymous: sent to the admin login, then back to the checklist.
        expect(page).to_have_url(f"{live_server.url}/admin/login/?next=/golive/")
        _log_in(page, page.url)
        expect(page).to_have_url(f"{live_server.url}/golive/")
        expect(page.get_by_test_id("verdict")).to_have_text("Not checked yet")

        page.get_by_test_id("recheck").click()
        expect(page.get_by_test_id("verdict")).to_have_text("Not ready to go live")
        expect(page.get_by_test_id("failing")).to_have_text(
            "2 steps to fix: Production credentials, Test logins with the production configuration."
        )
        expect(page.get_by_test_id("checked-at")).to_contain_text("Last checked")
        expect(page.get_by_test_id("checked-at")).to_contain_text("by ops")

        credentials = page.get_by_test_id("step-credentials")
        expect(credentials).to_have_attribute("data-status", "fail")
        expect(credentials).to_contain_text("configured with development credentials")
        expect(credentials).to_contain_text("CLEVER_APP_ENVIRONMENT = 'development'")
        expect(credentials).to_contain_text("How to fix:")

        redirect = page.get_by_test_id("step-redirect_uris")
        expect(redirect).to_have_attribute("data-status", "pass")
        expect(redirect).to_contain_text(f"primary: {primary}")
        expect(redirect).to_contain_text("/sso/clever/callback/ resolves to sso:callback")

        expect(page.get_by_test_id("step-user_types")).to_have_attribute("data-status", "pass")
        logins = page.get_by_test_id("step-test_logins")
        expect(logins).to_have_attribute("data-status", "fail")
        expect(logins).to_contain_text("Missing a production test login for: student.")
        expect(logins).to_contain_text("teacher: last logged in")
        expect(page.get_by_test_id("step-test_sync")).to_have_attribute("data-status", "n/a")
        assert page.locator("[data-testid^=step-]").count() == 5
        page.screenshot(path=str(SCREENSHOT), full_page=True)

    run = ChecklistRun.objects.get()
    assert run.checked_by.username == "ops" and not run.ready


def test_staff_launch_a_district_from_the_district_list(live_server, monkeypatch):
    from playwright.sync_api import expect

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    staff = User.objects.create_user(username="ops", password="ops-pass-1234", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="change_districtconnection"))
    live = make_district("Springfield USD")
    make_roster(live, schools=3, sections=12, students=240, teachers=14)
    make_run(live)
    # Launched in Clever's dashboard: its district record, read at the last sync, says so.
    live.clever_launch_date = timezone.localdate() - dt.timedelta(days=20)
    live.clever_state, live.clever_error = "error", "students.csv failed to import"
    live.clever_last_sync = timezone.now() - dt.timedelta(days=2)
    live.clever_state_checked_at = timezone.now()
    live.save()
    waiting = make_district("Shelbyville Unified")
    make_roster(waiting, schools=2, sections=4, students=30, teachers=3)
    make_run(waiting, "failed")
    services.connection_request_record(
        clever_district_id=clever_id(), name="Ogdenville Schools", note="Asked at the conference"
    )

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        _log_in(page, f"{live_server.url}/admin/login/?next=/golive/districts/")
        row = page.get_by_test_id(f"district-{waiting.clever_id}")
        expect(row).to_have_attribute("data-state", "connected")
        expect(row).to_contain_text("last sync failed")
        expect(row).to_contain_text("Clever's not read yet: logins wait for Clever's")
        launched = page.get_by_test_id(f"district-{live.clever_id}")
        expect(launched).to_have_attribute("data-state", "launched")
        expect(launched).to_contain_text("healthy")
        expect(launched.get_by_test_id("sis-error")).to_contain_text(
            "SIS sync to Clever failing: students.csv failed to import. Last SIS sync "
        )
        expect(page.get_by_test_id("done-in-clever")).to_contain_text(
            "The buttons on this page only note what ops did there"
        )
        # Launched in Clever's dashboard, then noted here; Clever's date is not read yet, so
        # our note lets logins in until it is.
        row.get_by_role("button", name="Mark launched in Clever today").click()
        expect(page.get_by_test_id("messages")).to_contain_text(
            "Noted: Shelbyville Unified launched in Clever's dashboard today."
        )
        expect(page.get_by_test_id(f"district-{waiting.clever_id}")).to_have_attribute(
            "data-state", "launched"
        )
        page.screenshot(path=str(DISTRICTS_SCREENSHOT), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        # At phone width the page does not scroll sideways; the table scrolls in its box.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(DISTRICTS_PHONE_SCREENSHOT), full_page=True)
