"""The ops console in a real browser: Sync now lands on a live run page that ends on the outcome;
a held run reviewed by name and approved; "why can't X log in" for an archived student and an
unsupported type; the student page at phone width."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from accounts.models import User
from config.celery import app
from rostering.models import School, SyncRun, UserRole
from tests.browser import chromium, needs_chromium
from tests.factories import (
    CleverUserFactory,
    DistrictFactory,
    SchoolFactory,
    SectionFactory,
    SectionStudentFactory,
    SectionTeacherFactory,
    SyncRunFactory,
)
from tests.sync.conftest import sync

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]

SHOTS = Path("/tmp")


@pytest.fixture
def browser_env(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls here are ours.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # No Celery worker here: runs go to a thread of the (live) web server, as without a broker.
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def _ops_page(browser, live_server, *, width: int = 1200):
    User.objects.create_superuser("ops", "ops@example.com", "ops-pass-1234")
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "ops-pass-1234")
    page.click("input[type=submit]")
    return page


def test_sync_now_lands_on_a_live_run_page_that_ends_on_the_outcome(
    live_server, connected, browser_env
):
    from playwright.sync_api import expect

    cert = connected["9aa03c1635aa7766e18a6a7d"]
    with chromium() as browser:
        page = _ops_page(browser, live_server)
        page.goto(f"{live_server.url}/admin/rostering/district/{cert.pk}/change/")
        page.get_by_test_id("sync-now").click()
        expect(page).to_have_url(re.compile(r"/admin/rostering/syncrun/\d+/change/$"))
        # The page follows the run by itself (htmx) until it ends, then shows the outcome.
        live = page.get_by_test_id("run-live")
        expect(live).to_have_attribute("data-status", "succeeded", timeout=60000)
        expect(page.get_by_test_id("run-outcome")).to_contain_text("Succeeded.")
        expect(page.get_by_test_id("counts-users")).to_contain_text("89")
        expect(page.get_by_test_id("run-elapsed")).to_contain_text("Took")
        page.screenshot(path=str(SHOTS / "ops-run.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    run = SyncRun.objects.get(district=cert)
    assert run.status == SyncRun.Status.SUCCEEDED and run.requested_by.username == "ops"


def test_a_held_run_is_reviewed_by_name_and_approved(live_server, connected, clever, browser_env):
    from playwright.sync_api import expect

    cert = connected["9aa03c1635aa7766e18a6a7d"]
    sync(cert)
    gone = clever.world.records(cert.clever_id, "schools")[:2]
    for school in gone:
        clever.world.unshare("schools", school["id"])
    run = sync(cert, expect="needs_review")
    names = sorted(
        School.objects.filter(clever_id__in=[s["id"] for s in gone]).values_list("name", flat=True)
    )
    with chromium() as browser:
        page = _ops_page(browser, live_server)
        page.goto(f"{live_server.url}/admin/rostering/syncrun/{run.pk}/change/")
        rows = page.get_by_test_id("held-rows")
        for name in names:
            expect(rows).to_contain_text(name)
        expect(page.get_by_test_id("counts-schools")).to_contain_text("2")
        page.get_by_test_id("held-search").fill(names[0])
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_test_id("held-total")).to_contain_text(f"matching “{names[0]}”")
        expect(rows).not_to_contain_text(names[1]) if names[0] not in names[1] else None
        page.screenshot(path=str(SHOTS / "ops-held.png"), full_page=True)
        page.get_by_test_id("approve").click()
        confirm = page.get_by_test_id("confirm")
        expect(confirm).to_contain_text("Approving archives what run")
        expect(confirm).to_contain_text(names[0])
        page.get_by_test_id("confirm-approve").click()
        expect(page.locator(".messagelist")).to_contain_text(f"Run #{run.pk} approved")
        expect(page.get_by_test_id("run-live")).to_have_attribute("data-status", "succeeded")
    assert School.objects.filter(archived_at__isnull=False).count() == 2


def test_why_cant_they_log_in_for_an_archived_student_and_an_unsupported_type(
    live_server, settings, browser_env
):
    from playwright.sync_api import expect

    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "student"]
    district = DistrictFactory(name="Springfield USD")
    school = SchoolFactory(district=district, name="Springfield Elementary")
    section = SectionFactory(school=school, name="Math 4")
    nelson = CleverUserFactory(
        district=district, first_name="Nelson", last_name="Muntz", archived_at=timezone.now()
    )
    UserRole.objects.create(user=nelson, role="student", school=school)
    SectionStudentFactory(section=section, user=nelson, archived_at=timezone.now())
    skinner = CleverUserFactory(district=district, first_name="Seymour", last_name="Skinner")
    UserRole.objects.create(user=skinner, role="staff", school=school)
    with chromium() as browser:
        page = _ops_page(browser, live_server)
        page.goto(f"{live_server.url}/admin/accounts/user/{nelson.pk}/change/")
        expect(page.get_by_test_id("user-roster")).to_contain_text("Nelson Muntz")
        expect(page.get_by_test_id("user-roles")).to_contain_text("Student at Springfield")
        expect(page.get_by_test_id("user-sections")).to_contain_text("Math 4")
        page.get_by_test_id("login-check").click()
        expect(page.get_by_test_id("login-verdict")).to_have_text(
            "They could log in, but would see no classes"
        )
        archived = page.get_by_test_id("finding").filter(has_text="Account archived")
        expect(archived).to_have_attribute("data-ok", "no")
        expect(archived).to_contain_text("shares them with the app again in Clever")
        page.screenshot(path=str(SHOTS / "ops-login-check.png"), full_page=True)

        page.goto(f"{live_server.url}/admin/accounts/user/{skinner.pk}/change/")
        page.get_by_test_id("login-check").click()
        expect(page.get_by_test_id("login-verdict")).to_have_text(
            "Their next Clever login would be refused"
        )
        unsupported = page.get_by_test_id("finding").filter(has_text="Type not supported")
        expect(unsupported).to_contain_text("Clever logs them in as staff")
        expect(unsupported).to_contain_text("add staff to CLEVER_SUPPORTED_USER_TYPES")


def test_the_student_page_fits_a_phone(live_server, browser_env):
    district = DistrictFactory(name="Springfield USD")
    school = SchoolFactory(district=district, name="Springfield Elementary School of the Arts")
    lisa = CleverUserFactory(district=district, first_name="Lisa", last_name="Simpson")
    for n in range(4):
        section = SectionFactory(
            school=school, name=f"Advanced Placement Literature {n}", period="2"
        )
        for position, name in enumerate(("Edna Krabappel-Flanders", "Elizabeth Hoover")):
            first, last = name.split(" ")
            teacher = CleverUserFactory(district=district, first_name=first, last_name=last)
            SectionTeacherFactory(section=section, user=teacher, position=position)
        SectionStudentFactory(section=section, user=lisa)
    SyncRunFactory(district=district)
    client = Client()
    client.force_login(lisa)
    session = client.session
    session["clever_login_type"] = "student"
    session.save()
    from playwright.sync_api import expect

    with chromium() as browser:
        context = browser.new_context(viewport={"width": 390, "height": 844})
        context.add_cookies(
            [
                {
                    "name": django_settings.SESSION_COOKIE_NAME,
                    "value": session.session_key,
                    "url": live_server.url,
                }
            ]
        )
        page = context.new_page()
        page.goto(f"{live_server.url}/")
        expect(page.get_by_test_id("section")).to_have_count(4)
        expect(page.get_by_test_id("teachers").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(SHOTS / "student-390.png"), full_page=True)
