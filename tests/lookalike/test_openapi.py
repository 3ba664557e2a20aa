"""The look-alike's real responses validate against Clever's OpenAPI files (../shared)."""

from __future__ import annotations

import pytest
import requests

from tests.lookalike.openapi_schema import SPEC_DIR, problems

pytestmark = pytest.mark.skipif(
    not (SPEC_DIR / "v3.0.yml").is_file(),
    reason=f"Clever's OpenAPI files are not at {SPEC_DIR} (clone shared/ beside the repo)",
)

LISTS = {
    "districts": "DistrictsResponse",
    "schools": "SchoolsResponse",
    "users": "UsersResponse",
    "sections": "SectionsResponse",
    "terms": "TermsResponse",
    "courses": "CoursesResponse",
}
SINGLES = {
    "districts": "DistrictResponse",
    "schools": "SchoolResponse",
    "users": "UserResponse",
    "sections": "SectionResponse",
    "terms": "TermResponse",
    "courses": "CourseResponse",
}


def get(clever, token: str, path: str) -> dict:
    response = requests.get(
        clever.base_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("name", sorted(LISTS))
def test_every_record_of_each_list_and_single_validates(clever, name: str) -> None:
    for d in clever.world.districts.values():
        body = get(clever, d.token, f"/v3.0/{name}?limit=10000")
        assert body["data"], f"{d.name} has no {name}"
        assert problems("v3.0.yml", LISTS[name], body) == []
        one = get(clever, d.token, f"/v3.0/{name}/{body['data'][0]['data']['id']}")
        assert problems("v3.0.yml", SINGLES[name], one) == []


def test_users_of_each_role_validate(clever) -> None:
    d = clever.world.district_named("Certification ISD")
    for role in ("student", "teacher", "staff", "district_admin", "contact"):
        body = get(clever, d.token, f"/v3.0/users?role={role}&limit=10000")
        assert body["data"], role
        assert problems("v3.0.yml", "UsersResponse", body) == []


def test_events_of_each_kind_validate(clever, tmp_path) -> None:
    world = clever.world
    d = world.district_named("Certification ISD")
    user = world.users(d.id, role="student")[0]
    section = world.records(d.id, "sections")[0]
    world.update_record("users", user["id"], name={"first": "Renamed", "last": "Student"})
    world.update_record("sections", section["id"], period="9")
    world.unshare("users", user["id"])
    world.reshare("users", user["id"])
    world.update_record("schools", world.records(d.id, "schools")[0]["id"], phone="5125559999")
    world.update_record("terms", world.records(d.id, "terms")[0]["id"], name="Renamed term")
    world.update_record("courses", world.records(d.id, "courses")[0]["id"], name="Renamed course")
    world.update_record("districts", d.id, name="Certification ISD (renamed)")
    body = get(clever, d.token, "/v3.0/events?limit=100")
    kinds = {e["data"]["type"] for e in body["data"]}
    assert {"users.updated", "users.deleted", "users.created", "sections.updated"} <= kinds
    assert {"schools.updated", "terms.updated", "courses.updated", "districts.updated"} <= kinds
    assert problems("v3.0-events.yml", "EventsResponse", body) == []
    one = get(clever, d.token, f"/v3.0/events/{body['data'][0]['data']['id']}")
    assert problems("v3.0-events.yml", "EventResponse", one) == []


def test_the_validator_rejects_wrong_records(clever) -> None:
    d = clever.world.district_named("Certification ISD")
    body = get(clever, d.token, "/v3.0/users?role=student&limit=1")
    good = body["data"][0]["data"]
    assert problems("v3.0.yml", "UserResponse", {"data": good}) == []

    unknown_field = {**good, "favourite_colour": "blue"}
    assert problems("v3.0.yml", "UserResponse", {"data": unknown_field})
    bad_grade = {**good, "roles": {"student": {**good["roles"]["student"], "grade": "K"}}}
    assert any("grade" in p for p in problems("v3.0.yml", "UserResponse", {"data": bad_grade}))
    not_null = {**good, "district": None}
    assert problems("v3.0.yml", "UserResponse", {"data": not_null})
    unwrapped = {"data": [good], "links": []}  # list items must be {"data": {...}}
    assert problems("v3.0.yml", "UsersResponse", unwrapped)
    event = {
        "id": "x",
        "type": "users.created",
        "created": "2025-01-01T00:00:00.000Z",
        "data": {"object": {**good, "nickname": "x"}},
    }
    assert problems("v3.0-events.yml", "EventResponse", {"data": event})


NESTED = {
    "schools/{school}/users": "UsersResponse",
    "schools/{school}/sections": "SectionsResponse",
    "sections/{section}/users": "UsersResponse",
    "sections/{section}/term": "TermResponse",
    "users/{teacher}/sections": "SectionsResponse",
    "users/{teacher}/mystudents": "UsersResponse",
    "users/{student}/mycontacts": "UsersResponse",
}


def test_nested_endpoints_validate(clever) -> None:
    world = clever.world
    d = world.district_named("Certification ISD")
    section = next(s for s in world.records(d.id, "sections") if s["term_id"] and s["teacher"])
    ids = {
        "school": section["school"],
        "section": section["id"],
        "teacher": section["teacher"],
        "student": next(u["id"] for u in world.users(d.id) if u["name"]["last"] == "Multiclass"),
    }
    for template, definition in NESTED.items():
        body = get(clever, d.token, "/v3.0/" + template.format(**ids))
        assert body["data"], template
        assert problems("v3.0.yml", definition, body) == [], template
