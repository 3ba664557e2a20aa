"""A person in headless Chromium: the Clever Portal's app icon to their teacher home page.

The product and the look-alike are served together by pytest-django's live_server (the
look-alike is mounted at /clever/); the district is synced first with the sync's own service, so
the home page shows the roster Clever shares.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clever import identity
from tests.browser import chromium, needs_chromium

SCREENSHOT = Path("/tmp/sso-teacher-home.png")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]


@pytest.fixture
def portal(live_server, settings):
    """The look-alike at live_server/clever, our app registered with the live callback."""
    if not settings.CLEVER_LOOKALIKE_ENABLED:
        pytest.skip("the Clever look-alike is off: run the tests with DEBUG=1")
    from cleverlike.world import world

    base = f"{live_server.url}/clever"
    settings.CLEVER_OAUTH_BASE_URL = settings.CLEVER_API_BASE_URL = base
    settings.CLEVER_CLIENT_ID = "browser-client-id"
    settings.CLEVER_CLIENT_SECRET = "browser-client-secret"
    settings.CLEVER_REDIRECT_URI = f"{live_server.url}/sso/clever/callback/"
    settings.CLEVER_REDIRECT_URIS = [settings.CLEVER_REDIRECT_URI]
    world.reset()
    identity.clear_caches()
    yield world
    world.reset()


def _name(user: dict) -> str:
    return f"{user['name']['first']} {user['name']['last']}"


def _expected_home(world, district_id: str, teacher_id: str) -> dict[str, dict[str, set[str]]]:
    """What Clever shares about this teacher's sections: co-teachers and students, by name."""
    users = {u["id"]: _name(u) for u in world.users(district_id)}
    expected = {}
    for section in world.records(district_id, "sections"):
        if teacher_id in (section.get("teachers") or []):
            expected[section["name"]] = {
                "co_teachers": {users[t] for t in section["teachers"] if t != teacher_id},
                "students": {users[s] for s in section.get("students") or [] if s in users},
            }
    return expected


def test_teacher_logs_in_from_the_clever_portal(portal, live_server, monkeypatch):
    from rostering.connections import district_ensure_connected
    from rostering.services import district_sync
    from sso.models import LoginRecord

    district = portal.district_named("Certification ISD")
    tara = next(u for u in portal.users(district.id, role="teacher") if _name(u) == "Tara Teamwork")
    expected = _expected_home(portal, district.id, tara["id"])
    assert len(expected) == 3  # she teaches one section and co-teaches two
    run = district_sync(district=district_ensure_connected(clever_id=district.id))
    assert run.status == "succeeded", run.error

    # Playwright's sync API runs an event loop in this thread; the ORM is used only outside it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.set_default_timeout(15_000)
        # Development reports the production Content-Security-Policy; Chromium logs every
        # violation of it (report-only or enforced) to the console.
        violations: list[str] = []
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
        )

        # The Clever Portal: choose the district, find Tara, open her portal, click our icon.
        page.goto(f"{live_server.url}/clever/portal")
        page.get_by_role("link", name="Certification ISD").click()
        page.get_by_label("Search users").fill("Tara")
        page.get_by_role("button", name="Search").click()
        page.locator(f'a[data-user-id="{tara["id"]}"][data-role="teacher"]').click()
        assert "Tara Teamwork" in page.get_by_test_id("portal-user").inner_text()
        navigations: list[str] = []
        page.on(
            "request",
            lambda r: navigations.append(r.url) if r.is_navigation_request() else None,
        )
        page.locator('a.cl-app[data-client-id="browser-client-id"]').click()

        # Our callback got a code without state and sent the browser back to Clever with a fresh
        # state; Clever (which remembers Tara's login, as the real one does) sent her straight
        # back with a new code, and the login completed without her choosing anything again.
        page.wait_for_url(f"{live_server.url}/")
        callbacks = [u for u in navigations if "/sso/clever/callback/" in u]
        assert "state=" not in callbacks[0], "the Portal's callback carries no state"
        bounce = [u for u in navigations if "/clever/oauth/authorize" in u]
        assert len(bounce) == 1 and "state=" in bounce[0], navigations
        assert "state=" in callbacks[-1]
        assert page.get_by_test_id("who").inner_text() == "Logged in as Tara Teamwork"
        assert page.get_by_role("button", name="Log out").is_visible()
        cards = page.get_by_test_id("section")
        shown = {}
        for i in range(cards.count()):
            card = cards.nth(i)
            shown[card.get_by_test_id("section-name").inner_text()] = {
                "co_teachers": card.get_by_test_id("co-teachers").inner_text(),
                "students": card.locator('[data-testid="students"] li').all_inner_texts(),
            }
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        # Our pages pass the policy: the home page, and the "You are logged out" page.
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(f"{live_server.url}/logged-out/")
        assert "log out of Clever too" in page.content()
        assert page.get_by_role("link", name="Log in again").is_visible()
        assert violations == []
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE")

    assert set(shown) == set(expected)
    for name, want in expected.items():
        assert set(shown[name]["students"]) == want["students"], name
        for co_teacher in want["co_teachers"]:
            assert co_teacher in shown[name]["co_teachers"], (name, co_teacher)
        assert "Tara Teamwork" not in shown[name]["co_teachers"]
    record = LoginRecord.objects.get()
    assert (record.entry_point, record.user_type) == ("portal", "teacher")
    assert os.path.getsize(SCREENSHOT) > 10_000
