"""The look-alike's Data API: pagination, scoping, sharing, rate limit, faults, request log."""

from __future__ import annotations

import time

import pytest

from tests.lookalike.helpers import api, login


@pytest.fixture
def cert(clever):
    return clever.world.district_named("Certification ISD")


def all_pages(clever, token: str, path: str, **params: str) -> tuple[list[str], int]:
    ids, pages, uri = [], 0, path
    query = dict(params)
    while uri:
        body = api(clever, token, uri, **query).json()
        pages += 1
        ids += [item["data"]["id"] for item in body["data"]]
        nxt = [link["uri"] for link in body["links"] if link["rel"] == "next"]
        uri, query = (nxt[0], {}) if nxt else (None, {})
    return ids, pages


def test_paging_follows_next_links_in_ascending_id_order(clever, cert) -> None:
    ids, pages = all_pages(clever, cert.token, "/v3.0/users", limit="10")
    everyone = [u["id"] for u in clever.world.users(cert.id)]
    assert ids == sorted(ids) == everyone
    assert pages == -(-len(everyone) // 10)
    last = api(clever, cert.token, "/v3.0/users", limit="10", starting_after=ids[-11]).json()
    assert [link["rel"] for link in last["links"]].count("next") == 0


def test_next_link_is_relative_to_the_api_base_and_keeps_role(clever, cert) -> None:
    body = api(clever, cert.token, "/v3.0/users", role="student", limit="5").json()
    nxt = next(link["uri"] for link in body["links"] if link["rel"] == "next")
    assert nxt.startswith("/v3.0/users?") and "role=student" in nxt and "limit=5" in nxt
    assert f"starting_after={body['data'][-1]['data']['id']}" in nxt
    ids, _ = all_pages(clever, cert.token, "/v3.0/users", role="student", limit="7")
    assert ids == [u["id"] for u in clever.world.users(cert.id, role="student")]


def test_ending_before_gives_the_page_before(clever, cert) -> None:
    ids = [u["id"] for u in clever.world.users(cert.id)]
    body = api(clever, cert.token, "/v3.0/users", limit="3", ending_before=ids[10]).json()
    assert [i["data"]["id"] for i in body["data"]] == ids[7:10]
    assert {link["rel"] for link in body["links"]} >= {"next", "prev"}


def test_limit_defaults_to_100_caps_at_10000_and_413_above(clever, cert) -> None:
    clever.world.load_district(cert.path)  # no change, no events
    body = api(clever, cert.token, "/v3.0/users").json()
    assert len(body["data"]) == min(100, len(clever.world.users(cert.id)))
    assert api(clever, cert.token, "/v3.0/users", limit="10000").status_code == 200
    too_big = api(clever, cert.token, "/v3.0/users", limit="10001")
    assert too_big.status_code == 413 and "10000" in too_big.json()["message"]
    assert api(clever, cert.token, "/v3.0/users", limit="abc").status_code == 400


def test_a_district_token_reads_only_its_own_district(clever, cert) -> None:
    other = clever.world.district_named("Lakeside Charter Schools")
    theirs = clever.world.users(other.id)[0]["id"]
    assert api(clever, cert.token, f"/v3.0/users/{theirs}").status_code == 404
    assert api(clever, other.token, f"/v3.0/users/{theirs}").status_code == 200
    districts = api(clever, cert.token, "/v3.0/districts").json()["data"]
    assert [d["data"]["id"] for d in districts] == [cert.id]
    assert api(clever, "not-a-token", "/v3.0/users").status_code == 401


def test_an_sso_token_reads_only_me_its_user_and_its_district(clever, cert) -> None:
    student = clever.world.users(cert.id, role="student")[0]
    token = login(clever, student["id"])["access_token"]
    assert api(clever, token, "/v3.0/me").status_code == 200
    assert api(clever, token, f"/v3.0/users/{student['id']}").json()["data"] == student
    assert api(clever, token, f"/v3.0/districts/{cert.id}").status_code == 200
    someone_else = clever.world.users(cert.id, role="teacher")[0]["id"]
    for path in (
        "/v3.0/users",
        f"/v3.0/users/{someone_else}",
        "/v3.0/sections",
        "/v3.0/schools",
        "/v3.0/events",
    ):
        denied = api(clever, token, path)
        assert denied.status_code == 403, path
        assert denied.json() == {"message": "Resource not in token's scopes"}


def test_unshared_records_404_and_leave_lists_until_reshared(clever, cert) -> None:
    section = clever.world.records(cert.id, "sections")[0]["id"]
    clever.world.unshare("sections", section)
    assert api(clever, cert.token, f"/v3.0/sections/{section}").status_code == 404
    listed = api(clever, cert.token, "/v3.0/sections", limit="1000").json()["data"]
    assert section not in {s["data"]["id"] for s in listed}
    clever.world.reshare("sections", section)
    assert api(clever, cert.token, f"/v3.0/sections/{section}").status_code == 200


def test_an_unshared_user_leaves_role_filtered_lists(clever, cert) -> None:
    students = [u["id"] for u in clever.world.users(cert.id, role="student")]
    clever.world.unshare("users", students[3])
    listed = api(clever, cert.token, "/v3.0/users", role="student", limit="1000").json()["data"]
    assert [u["data"]["id"] for u in listed] == students[:3] + students[4:]
    assert api(clever, cert.token, f"/v3.0/users/{students[3]}").status_code == 404
    clever.world.reshare("users", students[3])
    listed = api(clever, cert.token, "/v3.0/users", role="student", limit="1000").json()["data"]
    assert [u["data"]["id"] for u in listed] == students


def test_rate_limit_gives_429_with_reset_then_recovers_next_minute(clever, cert) -> None:
    clever.world.rate_limit_per_minute = 3
    seen = [api(clever, cert.token, "/v3.0/schools") for _ in range(4)]
    assert [r.status_code for r in seen] == [200, 200, 200, 429]
    assert seen[0].headers["X-RateLimit-Limit"] == "3"
    assert seen[0].headers["X-RateLimit-Remaining"] == "2"
    reset = int(seen[3].headers["X-RateLimit-Reset"])
    assert 0 < reset - clever.world.now() <= 60 and reset % 60 == 0
    clever.world.advance(60)
    assert api(clever, cert.token, "/v3.0/schools").status_code == 200


@pytest.mark.parametrize("kind", ["500", "502", "503", "429", "401"])
def test_status_faults_fail_the_chosen_number_of_times(clever, cert, kind: str) -> None:
    clever.world.faults.add("/v3.0/users", kind, times=2)
    codes = [api(clever, cert.token, "/v3.0/users").status_code for _ in range(3)]
    assert codes == [int(kind), int(kind), 200]
    assert api(clever, cert.token, "/v3.0/schools").status_code == 200
    if kind == "429":
        clever.world.faults.add("/v3.0/users", kind)
        assert "X-RateLimit-Reset" in api(clever, cert.token, "/v3.0/users").headers


def test_html_fault_returns_an_html_200(clever, cert) -> None:
    clever.world.faults.add("/v3.0/sections", "html")
    response = api(clever, cert.token, "/v3.0/sections")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    assert (
        api(clever, cert.token, "/v3.0/sections")
        .headers["Content-Type"]
        .startswith("application/json")
    )


def test_timeout_fault_sleeps_then_answers(clever, cert) -> None:
    clever.world.faults.timeout_seconds = 0.5
    clever.world.faults.add("/v3.0/terms", "timeout")
    started = time.monotonic()
    response = api(clever, cert.token, "/v3.0/terms")
    assert time.monotonic() - started >= 0.5 and response.status_code == 200
    with pytest.raises(ValueError, match="unknown fault kind"):
        clever.world.faults.add("/v3.0/terms", "explode")


def test_the_request_log_records_what_was_served(clever, cert) -> None:
    api(clever, cert.token, "/v3.0/users", role="teacher", limit="2")
    assert ("GET", "/v3.0/users", {"role": "teacher", "limit": "2"}) in clever.world.requests


def test_nested_endpoints(clever, cert) -> None:
    section = next(s for s in clever.world.records(cert.id, "sections") if s["teacher"])
    users = api(clever, cert.token, f"/v3.0/sections/{section['id']}/users", role="student")
    assert sorted(u["data"]["id"] for u in users.json()["data"]) == sorted(section["students"])
    school = api(clever, cert.token, f"/v3.0/sections/{section['id']}/school").json()["data"]
    assert school["id"] == section["school"]
    taught = api(clever, cert.token, f"/v3.0/users/{section['teacher']}/sections").json()
    assert section["id"] in {s["data"]["id"] for s in taught["data"]}
