"""The look-alike's pages: authorize picker, search in big districts, the Clever Portal."""

from __future__ import annotations

import re
from html import unescape

import requests

from cleverlike import pages
from tests.lookalike.helpers import CLIENT, REDIRECT_URI, authorize, exchange, query_of


def links(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]+)"', html)]


def test_authorize_without_district_offers_a_district_picker(clever) -> None:
    page = authorize(clever, state="abc")
    assert page.status_code == 200
    assert "Certification ISD" in page.text and "Lakeside Charter Schools" in page.text
    cert = clever.world.district_named("Certification ISD")
    chosen = next(h for h in links(page.text) if f"district_id={cert.id}" in h)
    users = requests.get(clever.base_url.rsplit("/clever", 1)[0] + chosen, timeout=10)
    assert users.status_code == 200
    for label in ("Students", "Teachers", "Staff", "District admins", "Contacts"):
        assert label in users.text
    login_link = next(h for h in links(users.text) if "login_as=" in h)
    assert "state=abc" in login_link and "as_role=" in login_link
    done = requests.get(
        clever.base_url.rsplit("/clever", 1)[0] + login_link, allow_redirects=False, timeout=10
    )
    assert done.status_code == 302
    params = query_of(done.headers["Location"])
    assert params["state"] == "abc" and exchange(clever, params["code"]).status_code == 200


def test_user_list_is_capped_and_searchable(clever, monkeypatch) -> None:
    monkeypatch.setattr(pages, "PICKER_CAP", 5)
    cert = clever.world.district_named("Certification ISD")
    page = authorize(clever, district_id=cert.id)
    students = len(clever.world.users(cert.id, role="student"))
    assert f"{students - 5} more: search to narrow the list." in page.text
    assert 'type="search"' in page.text
    found = authorize(clever, district_id=cert.id, q="multiclass")
    assert "Molly Multiclass" in found.text and "Tara Teamwork" not in found.text
    assert "Maria Multiclass" in found.text  # contacts match too
    nobody = authorize(clever, district_id=cert.id, q="zzzz-nobody")
    assert "No user matches" in nobody.text


def test_portal_walks_from_district_to_user_to_app(clever) -> None:
    root = clever.base_url.rsplit("/clever", 1)[0]
    start = requests.get(clever.base_url + "/portal", timeout=10)
    assert start.status_code == 200 and "Certification ISD" in start.text
    cert = clever.world.district_named("Certification ISD")
    district_page = requests.get(
        root + next(h for h in links(start.text) if cert.id in h), timeout=10
    )
    molly = next(u for u in clever.world.users(cert.id) if u["name"]["last"] == "Multiclass")
    user_link = next(h for h in links(district_page.text) if f"user={molly['id']}" in h)
    portal = requests.get(root + user_link, timeout=10)
    assert "Molly Multiclass" in portal.text
    icon = next(h for h in links(portal.text) if "/portal/launch" in h)
    launched = requests.get(root + icon, allow_redirects=False, timeout=10)
    assert launched.status_code == 302
    params = query_of(launched.headers["Location"])
    assert launched.headers["Location"].startswith(REDIRECT_URI) and "state" not in params
    token = exchange(clever, params["code"]).json()["access_token"]
    me = requests.get(
        clever.base_url + "/v3.0/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()
    assert me["data"]["id"] == molly["id"] and me["type"] == "student"


def test_portal_of_a_disconnected_district_shows_no_app(clever) -> None:
    lake = clever.world.district_named("Lakeside Charter Schools")
    clever.world.disconnect(lake.id)
    leo = clever.world.users(lake.id, role="student")[0]
    portal = requests.get(clever.base_url + "/portal", params={"user": leo["id"]}, timeout=10)
    assert "not connected" in portal.text and "/portal/launch" not in portal.text
    launch = requests.get(
        clever.base_url + "/portal/launch",
        params={"client_id": CLIENT[0], "user": leo["id"]},
        allow_redirects=False,
        timeout=10,
    )
    assert launch.status_code == 400


def test_instant_login_page_lists_the_district_users(clever) -> None:
    cert = clever.world.district_named("Certification ISD")
    page = requests.get(
        clever.base_url + "/oauth/instant-login",
        params={"client_id": CLIENT[0], "district_id": cert.id},
        timeout=10,
    )
    assert page.status_code == 200 and "Tara Teamwork" in page.text
    link = next(h for h in links(page.text) if "login_as=" in h)
    assert "/oauth/instant-login?" in link and "state" not in link


def test_index_page_lists_districts_and_apps(clever) -> None:
    page = requests.get(clever.base_url + "/", timeout=10)
    assert page.status_code == 200
    assert "Certification ISD" in page.text and CLIENT[0] in page.text


def test_clever_remembers_who_logged_in_so_the_apps_bounce_needs_no_second_pick(clever) -> None:
    """Like Clever's own session: after a Portal launch, authorize sends them straight back."""
    browser = requests.Session()
    cert = clever.world.district_named("Certification ISD")
    molly = next(u for u in clever.world.users(cert.id) if u["name"]["last"] == "Multiclass")
    launched = browser.get(
        clever.base_url + "/portal/launch",
        params={"client_id": CLIENT[0], "user": molly["id"], "as_role": "student"},
        allow_redirects=False,
        timeout=10,
    )
    assert "state" not in query_of(launched.headers["Location"])

    base = {"response_type": "code", "client_id": CLIENT[0], "redirect_uri": REDIRECT_URI}
    bounced = browser.get(
        clever.base_url + "/oauth/authorize",
        params={**base, "state": "fresh"},
        allow_redirects=False,
        timeout=10,
    )
    assert bounced.status_code == 302
    params = query_of(bounced.headers["Location"])
    assert params["state"] == "fresh"
    token = exchange(clever, params["code"]).json()["access_token"]
    me = requests.get(
        clever.base_url + "/v3.0/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()
    assert me["data"]["id"] == molly["id"]

    # An Instant Login link logs the remembered person straight in too, without state.
    instant = browser.get(
        clever.base_url + "/oauth/instant-login",
        params={"client_id": CLIENT[0], "district_id": cert.id},
        allow_redirects=False,
        timeout=10,
    )
    assert instant.status_code == 302
    assert instant.headers["Location"].startswith(REDIRECT_URI)
    assert "state" not in query_of(instant.headers["Location"])

    # prompt=login asks again; choosing a user again in the Portal logs out of "Clever".
    asked = browser.get(
        clever.base_url + "/oauth/authorize",
        params={**base, "state": "x", "prompt": "login"},
        allow_redirects=False,
        timeout=10,
    )
    assert asked.status_code == 200 and "Choose your district" in asked.text
    browser.get(clever.base_url + "/portal", timeout=10)
    again = browser.get(
        clever.base_url + "/oauth/authorize",
        params={**base, "state": "y"},
        allow_redirects=False,
        timeout=10,
    )
    assert again.status_code == 200


def test_a_forged_clever_session_cookie_is_ignored(clever) -> None:
    cert = clever.world.district_named("Certification ISD")
    molly = next(u for u in clever.world.users(cert.id) if u["name"]["last"] == "Multiclass")
    page = requests.get(
        clever.base_url + "/oauth/authorize",
        params={"response_type": "code", "client_id": CLIENT[0], "redirect_uri": REDIRECT_URI},
        cookies={"cleverlike_user": f"{molly['id']}|student"},
        allow_redirects=False,
        timeout=10,
    )
    assert page.status_code == 200
