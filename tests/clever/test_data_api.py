"""Narrow cases for clever.data_api (paging, status codes, retries, headers, malformed payloads).

Over real HTTP on loopback: a scripted server (tests/clever/scripted.py) stands in for Clever's
API host, another for its OAuth host. End-to-end behaviour is tested against the look-alike in
tests/sync.
"""

from __future__ import annotations

import base64
import datetime as dt
import time

import pytest

from clever import data_api, records
from clever.data_api import DataApiClient
from clever.errors import (
    CleverMalformedError,
    CleverNotFound,
    CleverPermanentError,
    CleverRateLimited,
    CleverTransientError,
    CleverUnauthorized,
)
from tests.clever.scripted import Reply, Scripted

# The API base carries a path: Clever's links are relative to it, not to the host.
BASE_PATH = "/base"
SCHOOLS = f"{BASE_PATH}/v3.0/schools"
TIMEOUT = 0.5


@pytest.fixture
def oauth(serve_scripted) -> Scripted:
    """Clever's OAuth host (the token list), another server than the API host's."""
    return serve_scripted().scripted


@pytest.fixture
def api(server) -> str:
    return server.base + BASE_PATH


@pytest.fixture(autouse=True)
def sleeps(settings, monkeypatch, api, oauth) -> list[float]:
    """The Data API's settings pointed at the scripted servers; the sleeps it asked for."""
    settings.CLEVER_API_BASE_URL = api
    settings.CLEVER_OAUTH_BASE_URL = oauth.base
    settings.CLEVER_HTTP_TIMEOUT = TIMEOUT
    settings.CLEVER_HTTP_BACKOFF_BASE = 0.001
    settings.CLEVER_HTTP_MAX_RETRIES = 2
    settings.CLEVER_RATE_LIMIT_MAX_WAIT = 5
    settings.CLEVER_SYNC_PAGE_SIZE = 2
    asked: list[float] = []
    monkeypatch.setattr(data_api, "_sleep", asked.append)
    return asked


def _page(ids, next_uri=None):
    links = [{"rel": "self", "uri": "/v3.0/schools"}]
    if next_uri:
        links.append({"rel": "next", "uri": next_uri})
    return {"data": [{"data": {"id": i, "name": f"School {i}"}} for i in ids], "links": links}


def _ids(client, path="/v3.0/schools"):
    return [item["id"] for page in client.pages(path) for item in page.items]


def test_pages_follow_next_links_relative_to_the_api_base(server, api):
    server.answer("GET", SCHOOLS, body=_page(["a", "b"], "/v3.0/schools?starting_after=b"))
    server.answer("GET", f"{SCHOOLS}?starting_after=b", body=_page(["c"]))
    with DataApiClient("tok") as client:
        assert _ids(client) == ["a", "b", "c"]
    first, second = server.received
    assert "limit=2" in first.url and first.params == {"limit": "2"}
    assert second.url == f"{api}/v3.0/schools?starting_after=b"
    assert first.headers["Authorization"] == "Bearer tok"
    assert second.headers["Authorization"] == "Bearer tok"


def test_pages_stop_on_an_empty_page_even_with_a_next_link(server):
    server.script(
        "GET",
        SCHOOLS,
        Reply(body=_page(["a"], "/v3.0/schools?starting_after=a")),
        Reply(body=_page([], "/v3.0/schools?starting_after=a2")),
        Reply(body=_page(["never"])),
    )
    with DataApiClient("tok") as client:
        assert _ids(client) == ["a"]
    assert len(server.received) == 2


def test_a_next_link_that_does_not_advance_is_an_error_naming_the_page(server):
    server.script(
        "GET",
        SCHOOLS,
        Reply(body=_page(["a"], "/v3.0/schools?starting_after=a")),
        Reply(body=_page(["b"], "/v3.0/schools?starting_after=a")),
    )
    with DataApiClient("tok") as client, pytest.raises(CleverPermanentError) as info:
        _ids(client)
    assert info.value.where == "GET /v3.0/schools page 2"
    assert "does not advance" in str(info.value)


@pytest.mark.parametrize("form", ["absolute", "scheme-relative"])
def test_a_next_link_to_another_host_is_refused_and_gets_no_token(server, serve_scripted, form):
    other = serve_scripted().scripted
    other.answer("GET", SCHOOLS, body=_page(["x"]))
    link = f"{other.base}{SCHOOLS}?starting_after=a"
    if form == "scheme-relative":
        link = link.removeprefix("http:")
    server.script("GET", SCHOOLS, Reply(body=_page(["a"], link)), Reply(body=_page(["b"])))
    with DataApiClient("tok") as client, pytest.raises(CleverMalformedError) as info:
        _ids(client)
    assert info.value.where == "GET /v3.0/schools page 2"
    assert "off the Clever API host" in str(info.value)
    assert other.received == []  # the district's token never left the API host
    assert len(server.received) == 1


def test_an_absolute_next_link_on_the_api_host_is_followed(server, api):
    server.answer("GET", SCHOOLS, body=_page(["a"], f"{api}/v3.0/schools?starting_after=a"))
    server.answer("GET", f"{SCHOOLS}?starting_after=a", body=_page(["b"]))
    with DataApiClient("tok") as client:
        assert _ids(client) == ["a", "b"]
    assert server.received[1].url == f"{api}/v3.0/schools?starting_after=a"


def test_429_waits_until_the_reset_then_retries_the_same_page(server, sleeps):
    reset = str(int(time.time()) + 3)
    server.script(
        "GET",
        SCHOOLS,
        Reply(429, headers={"X-RateLimit-Reset": reset}),
        Reply(body=_page(["a"])),
    )
    with DataApiClient("tok") as client:
        assert _ids(client) == ["a"]
    assert len(sleeps) == 1 and 1.5 < sleeps[0] <= 3.1
    assert len(server.received) == 2
    assert server.received[0].url == server.received[1].url


def test_429_with_a_reset_beyond_the_allowed_wait_is_transient(server, sleeps):
    reset = str(int(time.time()) + 600)
    server.script(
        "GET",
        SCHOOLS,
        Reply(429, headers={"X-RateLimit-Reset": reset}),
        Reply(body=_page(["a"])),
    )
    with DataApiClient("tok") as client, pytest.raises(CleverTransientError) as info:
        _ids(client)
    assert isinstance(info.value, CleverRateLimited)
    assert info.value.status == 429 and "CLEVER_RATE_LIMIT_MAX_WAIT" in str(info.value)
    assert sleeps == []
    assert len(server.received) == 1


# One failed Data API attempt, as the server plays it. A dropped connection is sent again once
# by the transport, so that attempt fails only when the server drops it twice.
FAILURES = {
    "500": [Reply(500)],
    "502": [Reply(502)],
    "503": [Reply(503)],
    "html": [Reply(200, "<html>oops</html>", headers={"Content-Type": "text/html"})],
    "timeout": [Reply(body=_page(["late"]), delay=TIMEOUT * 2)],
    "connection": [Reply(drop=True), Reply(drop=True)],
}


@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
def test_transient_failures_are_retried_with_backoff(server, sleeps, failure):
    server.script("GET", SCHOOLS, *failure, *failure, Reply(body=_page(["a"])))
    with DataApiClient("tok") as client:
        assert _ids(client) == ["a"]
    assert len(sleeps) == 2
    assert all(0 < s < 0.01 for s in sleeps)
    assert len(server.received) == 2 * len(failure) + 1
    assert len({sent.url for sent in server.received}) == 1


def test_transient_failures_give_up_after_the_retry_budget(server):
    server.answer("GET", SCHOOLS, 503)
    with DataApiClient("tok") as client, pytest.raises(CleverTransientError) as info:
        _ids(client)
    assert info.value.status == 503
    assert info.value.where == "GET /v3.0/schools page 1"
    assert "gave up after 3 attempts" in str(info.value)
    assert len(server.received) == 3


@pytest.mark.parametrize(
    ("status", "exc"),
    [
        (401, CleverUnauthorized),
        (404, CleverNotFound),
        (403, CleverPermanentError),
        (413, CleverPermanentError),
        (501, CleverPermanentError),
    ],
)
def test_permanent_errors_are_not_retried(server, sleeps, status, exc):
    server.answer("GET", SCHOOLS, status, body={"message": "nope"})
    with DataApiClient("tok") as client, pytest.raises(exc) as info:
        _ids(client)
    assert info.value.status == status
    assert not isinstance(info.value, CleverTransientError)
    assert "nope" in str(info.value)
    assert len(server.received) == 1
    assert sleeps == []


def test_a_list_item_without_data_wrapper_is_malformed(server):
    server.answer("GET", SCHOOLS, body={"data": [{"id": "a"}], "links": []})
    with DataApiClient("tok") as client, pytest.raises(CleverMalformedError) as info:
        _ids(client)
    assert "item 1" in str(info.value) and "page 1" in str(info.value)


def test_parse_user_names_the_record_and_the_field():
    with pytest.raises(CleverMalformedError) as info:
        records.parse_user({"id": "u1", "name": {"first": ["x"], "last": "L"}})
    assert info.value.clever_id == "u1"
    assert "user u1" in str(info.value) and "name.first" in str(info.value)

    with pytest.raises(CleverMalformedError) as info:
        records.parse_user({"name": {"first": "A"}})
    assert "user record has no id" in str(info.value)


def test_parse_user_keeps_roles_and_contact_relationships():
    user = records.parse_user(
        {
            "id": "u1",
            "name": {"first": "Ann", "last": "Lee"},
            "roles": {
                "teacher": {"school": "s1", "schools": ["s2"], "sis_id": "T1"},
                "staff": {"schools": ["s1"], "staff_id": "S9", "credentials": {}},
                "contact": {
                    "student_relationships": [
                        {"student": "k1", "relationship": "Parent", "type": "Primary"}
                    ]
                },
            },
        },
        roles=("teacher", "contact"),
    )
    assert [r.role for r in user.roles] == ["teacher", "contact"]
    teacher, contact = user.roles
    assert teacher.schools == ("s1", "s2") and teacher.sis_id == "T1"
    assert contact.relationships[0].student == "k1"
    assert user.email == "" and user.middle_name == ""


def test_parse_section_puts_the_primary_teacher_first_and_normalises_grade():
    section = records.parse_section(
        {"id": "x", "teacher": "t2", "teachers": ["t1", "t2"], "grade": "05", "students": None}
    )
    assert section.teachers == ("t2", "t1")
    assert section.students == ()
    assert (section.grade, section.grade_raw) == ("5", "05")


def test_parse_event_reads_previous_attributes_from_event_or_object():
    on_event = records.parse_event(
        {
            "id": "e1",
            "type": "users.updated",
            "data": {"object": {"id": "u"}},
            "previous_attributes": {"email": "a"},
        }
    )
    in_data = records.parse_event(
        {
            "id": "e2",
            "type": "users.updated",
            "data": {"object": {"id": "u"}, "previous_attributes": {"email": "b"}},
        }
    )
    assert on_event.previous_attributes == {"email": "a"}
    assert in_data.previous_attributes == {"email": "b"}
    assert (in_data.record_type, in_data.action) == ("users", "updated")


def _token(district_id, token):
    return {
        "id": f"t-{district_id}",
        "access_token": token,
        "created": "2026-01-01T00:00:00.000Z",
        "owner": {"type": "district", "id": district_id},
        "scopes": ["read:district_admins"],
    }


def _basic(client_id: str, client_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()


def test_list_district_tokens_uses_basic_auth_and_follows_pages(server, oauth):
    next_page = "/oauth/tokens?owner_type=district&starting_after=t"
    oauth.answer(
        "GET",
        "/oauth/tokens",
        body={
            "data": [{"data": _token("d1", "tok1")}],
            "links": [{"rel": "next", "uri": next_page}],
        },
    )
    oauth.answer("GET", next_page, body={"data": [{"data": _token("d2", "tok2")}]})
    tokens = data_api.list_district_tokens(client_id="cid", client_secret="sec")
    assert [(t.district_id, t.access_token) for t in tokens] == [("d1", "tok1"), ("d2", "tok2")]
    first, second = oauth.received
    assert "owner_type=district" in first.url
    assert first.headers["Authorization"].startswith("Basic ")
    assert first.headers["Authorization"] == _basic("cid", "sec")
    assert second.target == next_page and second.headers["Authorization"] == _basic("cid", "sec")
    assert "tok1" not in repr(tokens[0])
    assert server.received == []  # the app's credentials go to the OAuth host only


def test_list_district_tokens_narrows_to_one_district_even_if_clever_ignores_the_filter(oauth):
    oauth.answer(
        "GET",
        "/oauth/tokens",
        body={"data": [{"data": _token("d1", "tok1")}, {"data": _token("d2", "tok2")}]},
    )
    tokens = data_api.list_district_tokens(client_id="c", client_secret="s", district_id="d2")
    assert [t.district_id for t in tokens] == ["d2"]
    assert "district=d2" in oauth.received[0].url
    assert oauth.received[0].params == {"owner_type": "district", "district": "d2"}


def test_list_district_tokens_bad_credentials_is_unauthorized(oauth):
    oauth.answer("GET", "/oauth/tokens", 401, body={"error": "invalid_client"})
    with pytest.raises(CleverUnauthorized) as info:
        data_api.list_district_tokens(client_id="c", client_secret="wrong")
    assert "invalid_client" in str(info.value)
    assert len(oauth.received) == 1


# --- the district's own record ------------------------------------------------------------------

DISTRICT = f"{BASE_PATH}/v3.0/districts/d1"


def test_the_district_record_keeps_clevers_launch_and_sis_sync_state(server):
    server.answer(
        "GET",
        DISTRICT,
        body={
            "data": {
                "id": "d1",
                "name": "Springfield USD",
                "launch_date": "2027-01-15",
                "state": "paused",
                "pause_start": "2026-06-20T00:00:00.000Z",
                "pause_end": "2026-08-15T00:00:00.000Z",
                "last_sync": "2026-12-03T04:05:06.789Z",
                "error": "",
                "sis_type": "sftp",
            }
        },
    )
    with DataApiClient("tok") as client:
        record = client.district("d1")
    utc = dt.UTC
    assert record == records.DistrictRecord(
        id="d1",
        name="Springfield USD",
        launch_date=dt.date(2027, 1, 15),
        state="paused",
        pause_start=dt.datetime(2026, 6, 20, tzinfo=utc),
        pause_end=dt.datetime(2026, 8, 15, tzinfo=utc),
        last_sync=dt.datetime(2026, 12, 3, 4, 5, 6, 789000, tzinfo=utc),
        error="",
    )


def test_a_district_record_with_nulls_and_missing_optional_fields_is_read_empty(server):
    server.answer(
        "GET",
        DISTRICT,
        body={"data": {"id": "d1", "name": "X", "state": None, "pause_start": None}},
    )
    with DataApiClient("tok") as client:
        record = client.district("d1")
    assert (record.launch_date, record.state, record.pause_start, record.last_sync) == (
        None,
        "",
        None,
        None,
    )
    assert record.problems == ()


def test_malformed_district_values_are_stored_empty_and_each_reported(server):
    server.answer(
        "GET",
        DISTRICT,
        body={
            "data": {
                "id": "d1",
                "name": "Springfield USD",
                "launch_date": "next autumn",
                "state": "exploded",
                "pause_start": 20260620,
                "pause_end": "2026-08-15T00:00:00.000Z",
                "last_sync": "yesterday",
                "error": {"code": 7},
            }
        },
    )
    with DataApiClient("tok") as client:
        record = client.district("d1")
    assert (record.name, record.pause_end) == (
        "Springfield USD",
        dt.datetime(2026, 8, 15, tzinfo=dt.UTC),
    )
    assert (record.launch_date, record.state, record.pause_start, record.last_sync) == (
        None,
        "",
        None,
        None,
    )
    assert record.error == ""
    assert record.problems == (
        "field 'launch_date' is not a date (YYYY-MM-DD): 'next autumn'; stored empty",
        "field 'state' is not one of Clever's states (running, pending, error, paused, "
        "success): 'exploded'; stored empty",
        "field 'pause_start' should be a string, got int; stored empty",
        "field 'last_sync' is not a timestamp (YYYY-MM-DDTHH:MM:SS.SSSZ): 'yesterday'; "
        "stored empty",
        "field 'error' should be a string, got dict; stored empty",
    )


@pytest.mark.parametrize("data", [{"name": "No id"}, {"id": "", "name": "Empty id"}, None])
def test_a_district_record_without_an_id_fails_naming_the_call(server, data):
    server.answer("GET", DISTRICT, body={"data": data})
    with DataApiClient("tok") as client, pytest.raises(CleverMalformedError) as info:
        client.district("d1")
    assert info.value.where == "GET /v3.0/districts/d1"
    assert str(info.value).startswith("GET /v3.0/districts/d1: district record ")


def test_a_body_that_is_not_valid_utf8_is_reported_not_repaired(server, api):
    body = b'{"data": [{"data": {"id": "a", "name": "Escuela Jos\xe9"}}], "links": []}'
    server.answer("GET", SCHOOLS, body=body, headers={"Content-Type": "application/json"})
    with DataApiClient("tok") as client, pytest.raises(CleverTransientError) as info:
        _ids(client)
    assert "not valid UTF-8 (byte 0xe9 at position" in str(info.value)
    assert info.value.where == "GET /v3.0/schools page 1"


def test_an_id_with_a_nul_is_refused_and_a_listed_one_dropped_and_noted():
    with pytest.raises(CleverMalformedError, match="has a NUL character"):
        records.parse_section({"id": "se\x00c"})
    notes: list = []
    section = records.parse_section(
        {"id": "sec", "students": ["s1", "s\x002", "", "s1", "s3"]}, "w", notes
    )
    assert section.students == ("s1", "s3")
    assert [n[2] for n in notes] == [
        "section sec: field 'students': an entry has a NUL character ('s\\x002'); dropped",
        "section sec: field 'students': an entry is not an id (got ''); dropped",
    ]
