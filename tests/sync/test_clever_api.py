"""Narrow client cases (status codes, headers, malformed payloads) with `responses`.

End-to-end behaviour over real HTTP is tested against the look-alike in the other modules.
"""

from __future__ import annotations

import time

import pytest
import requests
import responses

from rostering import clever_api
from rostering.clever_api import (
    CleverClient,
    CleverMalformedError,
    CleverNotFound,
    CleverPermanentError,
    CleverTransientError,
    CleverUnauthorized,
)

API = "https://api.example.test/base"
OAUTH = "https://oauth.example.test"


@pytest.fixture(autouse=True)
def _clever_settings(settings, monkeypatch):
    settings.CLEVER_API_BASE_URL = API
    settings.CLEVER_OAUTH_BASE_URL = OAUTH
    settings.CLEVER_HTTP_BACKOFF_BASE = 0.001
    settings.CLEVER_HTTP_MAX_RETRIES = 2
    settings.CLEVER_RATE_LIMIT_MAX_WAIT = 5
    settings.CLEVER_SYNC_PAGE_SIZE = 2
    sleeps: list[float] = []
    monkeypatch.setattr(clever_api, "_sleep", sleeps.append)
    return sleeps


def _page(ids, next_uri=None):
    links = [{"rel": "self", "uri": "/v3.0/schools"}]
    if next_uri:
        links.append({"rel": "next", "uri": next_uri})
    return {"data": [{"data": {"id": i, "name": f"School {i}"}} for i in ids], "links": links}


def _ids(client, path="/v3.0/schools"):
    return [item["id"] for page in client.pages(path) for item in page.items]


@responses.activate
def test_pages_follow_next_links_relative_to_the_api_base():
    responses.get(f"{API}/v3.0/schools", json=_page(["a", "b"], "/v3.0/schools?starting_after=b"))
    responses.get(f"{API}/v3.0/schools", json=_page(["c"]))
    with CleverClient("tok") as client:
        assert _ids(client) == ["a", "b", "c"]
    first, second = responses.calls
    assert "limit=2" in first.request.url
    assert second.request.url == f"{API}/v3.0/schools?starting_after=b"
    assert first.request.headers["Authorization"] == "Bearer tok"


@responses.activate
def test_pages_stop_on_an_empty_page_even_with_a_next_link():
    responses.get(f"{API}/v3.0/schools", json=_page(["a"], "/v3.0/schools?starting_after=a"))
    responses.get(f"{API}/v3.0/schools", json=_page([], "/v3.0/schools?starting_after=a2"))
    with CleverClient("tok") as client:
        assert _ids(client) == ["a"]
    assert len(responses.calls) == 2


@responses.activate
def test_a_next_link_that_does_not_advance_is_an_error_naming_the_page():
    responses.get(f"{API}/v3.0/schools", json=_page(["a"], "/v3.0/schools?starting_after=a"))
    responses.get(f"{API}/v3.0/schools", json=_page(["b"], "/v3.0/schools?starting_after=a"))
    with CleverClient("tok") as client, pytest.raises(CleverPermanentError) as info:
        _ids(client)
    assert info.value.where == "GET /v3.0/schools page 2"
    assert "does not advance" in str(info.value)


@responses.activate
def test_429_waits_until_the_reset_then_retries_the_same_page(_clever_settings):
    reset = str(int(time.time()) + 3)
    responses.get(f"{API}/v3.0/schools", status=429, headers={"X-RateLimit-Reset": reset})
    responses.get(f"{API}/v3.0/schools", json=_page(["a"]))
    with CleverClient("tok") as client:
        assert _ids(client) == ["a"]
    assert len(_clever_settings) == 1 and 1.5 < _clever_settings[0] <= 3.1
    assert responses.calls[0].request.url == responses.calls[1].request.url


@responses.activate
def test_429_with_a_reset_beyond_the_allowed_wait_is_transient(_clever_settings):
    reset = str(int(time.time()) + 600)
    responses.get(f"{API}/v3.0/schools", status=429, headers={"X-RateLimit-Reset": reset})
    with CleverClient("tok") as client, pytest.raises(CleverTransientError) as info:
        _ids(client)
    assert info.value.status == 429 and "CLEVER_RATE_LIMIT_MAX_WAIT" in str(info.value)
    assert _clever_settings == []


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 500},
        {"status": 502},
        {"status": 503},
        {"body": "<html>oops</html>", "content_type": "text/html"},
        {"body": requests.ConnectTimeout("slow")},
        {"body": requests.ConnectionError("refused")},
    ],
    ids=["500", "502", "503", "html", "timeout", "connection"],
)
@responses.activate
def test_transient_failures_are_retried_with_backoff(failure, _clever_settings):
    responses.get(f"{API}/v3.0/schools", **failure)
    responses.get(f"{API}/v3.0/schools", **failure)
    responses.get(f"{API}/v3.0/schools", json=_page(["a"]))
    with CleverClient("tok") as client:
        assert _ids(client) == ["a"]
    assert len(_clever_settings) == 2
    assert all(0 < s < 0.01 for s in _clever_settings)


@responses.activate
def test_transient_failures_give_up_after_the_retry_budget(_clever_settings):
    for _ in range(3):
        responses.get(f"{API}/v3.0/schools", status=503)
    with CleverClient("tok") as client, pytest.raises(CleverTransientError) as info:
        _ids(client)
    assert info.value.status == 503
    assert info.value.where == "GET /v3.0/schools page 1"
    assert "gave up after 3 attempts" in str(info.value)
    assert len(responses.calls) == 3


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
@responses.activate
def test_permanent_errors_are_not_retried(status, exc):
    responses.get(f"{API}/v3.0/schools", status=status, json={"message": "nope"})
    with CleverClient("tok") as client, pytest.raises(exc) as info:
        _ids(client)
    assert info.value.status == status
    assert not isinstance(info.value, CleverTransientError)
    assert len(responses.calls) == 1


@responses.activate
def test_a_list_item_without_data_wrapper_is_malformed():
    responses.get(f"{API}/v3.0/schools", json={"data": [{"id": "a"}], "links": []})
    with CleverClient("tok") as client, pytest.raises(CleverMalformedError) as info:
        _ids(client)
    assert "item 1" in str(info.value) and "page 1" in str(info.value)


def test_parse_user_names_the_record_and_the_field():
    with pytest.raises(CleverMalformedError) as info:
        clever_api.parse_user({"id": "u1", "name": {"first": ["x"], "last": "L"}})
    assert info.value.clever_id == "u1"
    assert "user u1" in str(info.value) and "name.first" in str(info.value)

    with pytest.raises(CleverMalformedError) as info:
        clever_api.parse_user({"name": {"first": "A"}})
    assert "user record has no id" in str(info.value)


def test_parse_user_keeps_roles_and_contact_relationships():
    user = clever_api.parse_user(
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
    section = clever_api.parse_section(
        {"id": "x", "teacher": "t2", "teachers": ["t1", "t2"], "grade": "05", "students": None}
    )
    assert section.teachers == ("t2", "t1")
    assert section.students == ()
    assert (section.grade, section.grade_raw) == ("5", "05")


def test_parse_event_reads_previous_attributes_from_event_or_object():
    on_event = clever_api.parse_event(
        {
            "id": "e1",
            "type": "users.updated",
            "data": {"object": {"id": "u"}},
            "previous_attributes": {"email": "a"},
        }
    )
    in_data = clever_api.parse_event(
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


@responses.activate
def test_list_district_tokens_uses_basic_auth_and_follows_pages():
    responses.get(
        f"{OAUTH}/oauth/tokens",
        json={
            "data": [{"data": _token("d1", "tok1")}],
            "links": [{"rel": "next", "uri": "/oauth/tokens?owner_type=district&starting_after=t"}],
        },
    )
    responses.get(f"{OAUTH}/oauth/tokens", json={"data": [{"data": _token("d2", "tok2")}]})
    tokens = clever_api.list_district_tokens(client_id="cid", client_secret="sec")
    assert [(t.district_id, t.access_token) for t in tokens] == [("d1", "tok1"), ("d2", "tok2")]
    assert "owner_type=district" in responses.calls[0].request.url
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")
    assert "tok1" not in repr(tokens[0])


@responses.activate
def test_list_district_tokens_narrows_to_one_district_even_if_clever_ignores_the_filter():
    responses.get(
        f"{OAUTH}/oauth/tokens",
        json={"data": [{"data": _token("d1", "tok1")}, {"data": _token("d2", "tok2")}]},
    )
    tokens = clever_api.list_district_tokens(client_id="c", client_secret="s", district_id="d2")
    assert [t.district_id for t in tokens] == ["d2"]
    assert "district=d2" in responses.calls[0].request.url


@responses.activate
def test_list_district_tokens_bad_credentials_is_unauthorized():
    responses.get(f"{OAUTH}/oauth/tokens", status=401, json={"error": "invalid_client"})
    with pytest.raises(CleverUnauthorized) as info:
        clever_api.list_district_tokens(client_id="c", client_secret="wrong")
    assert "invalid_client" in str(info.value)
