"""The checklist page in a real browser: log in as staff, re-check, read the rows and evidence."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.models import User
from golive import services
from golive.models import ChecklistRun, LaunchTester
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
        row.get_by_role("link", name="Mark launched in Clever today").click()
        expect(page.get_by_test_id("confirm")).to_contain_text("Noting it here launches nothing")
        page.get_by_role("button", name="Yes, note it launched today").click()
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


def _phone_fits(page) -> None:
    """At phone width nothing pushes the page sideways."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_districts_page_after_every_action_at_phone_width(live_server, monkeypatch):
    from playwright.sync_api import expect

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    staff = User.objects.create_user(username="ops", password="ops-pass-1234", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="change_districtconnection"))
    cid, invited = clever_id(), clever_id()
    shots = Path("/tmp/golive-actions")
    shots.mkdir(exist_ok=True)

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        violations: list[str] = []
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
        )
        _log_in(page, f"{live_server.url}/admin/login/?next=/golive/districts/")
        messages = page.get_by_test_id("messages")

        def row():
            return page.get_by_test_id(f"district-{cid}")

        def after(step: str, state: str, message: str) -> None:
            expect(messages).to_contain_text(message)
            if page.url.removeprefix(live_server.url) != "/golive/districts/":
                page.goto(f"{live_server.url}/golive/districts/")
            expect(row()).to_have_attribute("data-state", state)
            _phone_fits(page)
            page.screenshot(path=str(shots / f"{step}.png"), full_page=True)

        page.get_by_label("Clever district id").first.fill(cid)
        page.get_by_label("District name").first.fill("Ogdenville Schools")
        page.get_by_role("button", name="Record request").click()
        after("1-requested", "requested", "Recorded Ogdenville Schools's request to connect.")
        expect(row().get_by_test_id("health")).to_have_text("not connected: the request is pending")

        row().get_by_label("Reason").fill("Not a customer yet")
        row().get_by_role("button", name="Mark declined in Clever").click()
        after("2-declined", "declined", "Noted: Ogdenville Schools's request declined")
        expect(row().get_by_test_id("health")).to_have_text("not connected: declined")

        row().get_by_role("button", name="Undo decline").click()
        after("3-undeclined", "requested", "Took back the decline")

        row().get_by_role("button", name="Mark approved in Clever").click()
        after("4-approved", "approved", "request approved in Clever's dashboard")
        expect(row()).not_to_contain_text("Connected")
        row().get_by_role("button", name="Undo approval").click()
        after("5-unapproved", "requested", "Took back the approval")
        row().get_by_role("button", name="Mark approved in Clever").click()
        after("6-approved", "approved", "request approved in Clever's dashboard")

        # Clever connects it: its token appears in Clever's token list, and its users sync.
        district = make_district("Ogdenville Schools")
        type(district).objects.filter(pk=district.pk).update(clever_id=cid)
        district.refresh_from_db()
        teacher = User.objects.create(
            username=f"clever:{clever_id()}",
            clever_id=clever_id(),
            district=district,
            first_name="Edna",
            last_name="Krabappel",
            email="edna@ogdenville.example",
        )
        make_roster(district, students=5, teachers=1)
        page.reload()
        expect(row()).to_have_attribute("data-state", "connected")
        expect(row().get_by_test_id("state")).to_have_text("Connected")
        _phone_fits(page)

        launch = (timezone.localdate() + dt.timedelta(days=14)).isoformat()
        row().get_by_label("Launch date set in Clever").fill(launch)
        row().get_by_role("button", name="Note launch date set in Clever").click()
        after(
            "7-scheduled",
            "connected",
            f"Noted Ogdenville Schools's launch date in Clever: {launch}.",
        )
        expect(row().get_by_test_id("launch")).to_contain_text(launch)

        # A tester, found by name (htmx searches as you type), then removed.
        row().get_by_role("link", name="Add or remove testers").click()
        expect(page.get_by_test_id("no-testers")).to_be_visible()
        page.get_by_label("Name").fill("krab")
        candidate = page.get_by_test_id("candidate")
        expect(candidate).to_have_count(1)
        expect(candidate).to_contain_text("Edna Krabappel")
        expect(page).to_have_url(re.compile(r"\?q=krab$"))
        _phone_fits(page)
        candidate.get_by_role("button", name="Add Edna Krabappel").click()
        expect(messages).to_contain_text("Edna Krabappel may log in before launch")
        expect(page.get_by_test_id("tester")).to_contain_text("Edna Krabappel")
        page.screenshot(path=str(shots / "8-testers.png"), full_page=True)
        _phone_fits(page)
        page.goto(f"{live_server.url}/golive/districts/")
        expect(row().get_by_test_id("testers")).to_have_text("Testers: Edna Krabappel")
        _phone_fits(page)
        row().get_by_role("link", name="Add or remove testers").click()
        page.get_by_role("button", name="Remove Edna Krabappel").click()
        after("9-tester-removed", "connected", "Edna Krabappel is no longer a launch tester")
        expect(row().get_by_test_id("testers")).to_have_count(0)

        # Launched in Clever's dashboard, noted here after a confirmation, then taken back.
        row().get_by_role("link", name="Mark launched in Clever today").click()
        expect(page.get_by_test_id("consequence")).to_contain_text(
            "5 students and 1 teacher of Ogdenville Schools can log in"
        )
        _phone_fits(page)
        page.screenshot(path=str(shots / "10-launch-confirm.png"), full_page=True)
        page.get_by_role("button", name="Yes, note it launched today").click()
        after(
            "11-launched",
            "launched",
            "Noted: Ogdenville Schools launched in Clever's dashboard today.",
        )
        expect(row().get_by_test_id("health")).not_to_contain_text("not connected")

        row().get_by_role("link", name="Undo launch note").click()
        expect(page.get_by_test_id("consequence")).to_contain_text(
            f"until {launch}, the launch date"
        )
        _phone_fits(page)
        page.get_by_role("button", name="Yes, take the launch note back").click()
        after("12-unlaunched", "connected", f"The launch date noted before, {launch}, is back.")

        # A tester added after launch.
        row().get_by_role("link", name="Mark launched in Clever today").click()
        page.get_by_role("button", name="Yes, note it launched today").click()
        after("13-launched", "launched", "launched in Clever's dashboard today")
        row().get_by_role("link", name="Add or remove testers").click()
        page.get_by_label("Name").fill("edna")
        page.get_by_role("button", name="Add Edna Krabappel").click()
        expect(messages).to_contain_text("Edna Krabappel may log in before launch")
        page.goto(f"{live_server.url}/golive/districts/")
        expect(row().get_by_test_id("testers")).to_contain_text(
            "Testers: Edna Krabappel (needed only if the launch moves later)"
        )

        page.get_by_label("Clever district id").nth(1).fill(invited)
        page.get_by_label("District name").nth(1).fill("North Haverbrook")
        page.get_by_role("button", name="Note invitation").click()
        expect(messages).to_contain_text("Noted: North Haverbrook invited from Clever's dashboard.")
        invited_row = page.get_by_test_id(f"district-{invited}")
        expect(invited_row).to_have_attribute("data-state", "invited")
        expect(invited_row).to_contain_text("picked by name once it connects")
        _phone_fits(page)
        page.screenshot(path=str(shots / "14-invited.png"), full_page=True)

    assert violations == []
    assert LaunchTester.objects.get().clever_user_id == teacher.clever_id
