"""Events: reloading a changed CSV folder and sharing changes emit Clever's events."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from rostering.csvformat import CsvFormatError
from tests.lookalike.helpers import api


@pytest.fixture
def cert(clever):
    return clever.world.district_named("Certification ISD")


def edit_csv(path: Path, change, add: tuple[dict, ...] = ()) -> None:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
        header = list(rows[0].keys())
    rows = [r for r in (change(dict(r)) for r in rows) if r is not None] + list(add)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def events(clever, token: str, **params: str) -> list[dict]:
    body = api(clever, token, "/v3.0/events", **params).json()
    return [item["data"] for item in body["data"]]


def test_reloading_a_changed_folder_emits_created_updated_and_deleted(
    clever, cert, tmp_path
) -> None:
    world = clever.world
    folder = tmp_path / "certification-isd"
    shutil.copytree(cert.path, folder)
    nico_before = next(u for u in world.users(cert.id) if u["name"]["last"] == "Noemail")
    ida = next(u for u in world.users(cert.id) if u["name"]["last"] == "Shortid")

    def students(row: dict) -> dict | None:
        if row["Student_id"] == "ST101":
            row["First_name"] = "Nicolas"
        if row["Student_id"] == "1":
            return None
        return row

    nina_row = {
        "School_id": "S-MID",
        "Student_id": "ST999",
        "First_name": "Nina",
        "Last_name": "Newcomer",
        "Grade": "6",
    }
    edit_csv(folder / "students.csv", students, add=(nina_row,))
    edit_csv(folder / "enrollments.csv", lambda r: None if r["Student_id"] == "1" else r)

    world.load_district(folder)

    feed = events(clever, cert.token, limit="1000")
    assert [e["id"] for e in feed] == sorted(e["id"] for e in feed)
    kinds = [(e["type"], e["data"]["object"]["id"]) for e in feed]
    nina = next(u for u in world.users(cert.id) if u["name"]["last"] == "Newcomer")
    assert ("users.created", nina["id"]) in kinds
    assert ("users.deleted", ida["id"]) in kinds
    updated = next(e for e in feed if e["type"] == "users.updated")
    assert updated["data"]["object"]["id"] == nico_before["id"]
    assert updated["data"]["object"]["name"]["first"] == "Nicolas"
    assert updated["previous_attributes"] == {"name": nico_before["name"]}
    changed_sections = {
        e["data"]["object"]["sis_id"] for e in feed if e["type"] == "sections.updated"
    }
    assert changed_sections == {"SEC-MID-MATH6", "SEC-MID-ADV"}  # Ida left them
    # A deletion comes after the sections that stopped naming the user.
    assert kinds.index(("users.deleted", ida["id"])) > max(
        i for i, e in enumerate(feed) if e["type"] == "sections.updated"
    )
    # The API serves the new state; the old user is gone.
    assert api(clever, cert.token, f"/v3.0/users/{ida['id']}").status_code == 404
    assert (
        api(clever, cert.token, f"/v3.0/users/{nico_before['id']}").json()["data"]["name"]["first"]
        == "Nicolas"
    )


def test_reloading_an_unchanged_folder_emits_nothing(clever, cert) -> None:
    clever.world.load_district(cert.path)
    assert events(clever, cert.token) == []


def test_unshare_reshare_and_update_emit_events_in_order(clever, cert) -> None:
    world = clever.world
    user = world.users(cert.id, role="teacher")[0]
    world.unshare("users", user["id"])
    world.reshare("users", user["id"])
    world.update_record("users", user["id"], email="new@cert-isd.example")
    feed = events(clever, cert.token)
    assert [e["type"] for e in feed] == ["users.deleted", "users.created", "users.updated"]
    assert feed[2]["previous_attributes"] == {"email": user["email"]}
    assert feed[2]["data"]["object"]["email"] == "new@cert-isd.example"
    assert feed[2]["data"]["object"]["last_modified"] >= user["last_modified"]


def test_events_paging_record_type_and_district_scoping(clever, cert) -> None:
    world = clever.world
    for section in world.records(cert.id, "sections")[:3]:
        world.update_record("sections", section["id"], period="P9")
    for user in world.users(cert.id, role="student")[:3]:
        world.update_record("users", user["id"], name__middle="Q")
    everything = events(clever, cert.token)
    assert len(everything) == 6
    first_page = events(clever, cert.token, limit="4")
    rest = events(clever, cert.token, limit="4", starting_after=first_page[-1]["id"])
    assert [e["id"] for e in first_page + rest] == [e["id"] for e in everything]
    only_users = events(clever, cert.token, record_type="users")
    assert [e["type"] for e in only_users] == ["users.updated"] * 3
    other = world.district_named("Lakeside Charter Schools")
    assert events(clever, other.token) == []
    one = api(clever, cert.token, f"/v3.0/events/{everything[0]['id']}").json()["data"]
    assert one == everything[0]
    assert api(clever, other.token, f"/v3.0/events/{everything[0]['id']}").status_code == 404


def test_a_bad_reload_changes_nothing_and_names_the_problem(clever, cert, tmp_path) -> None:
    world = clever.world
    folder = tmp_path / "certification-isd"
    shutil.copytree(cert.path, folder)
    edit_csv(
        folder / "sections.csv",
        lambda r: {**r, "Teacher_id": "T-GONE"} if r["Section_id"] == "SEC-HS-BIO" else r,
    )
    before = world.records(cert.id, "sections")
    with pytest.raises(CsvFormatError) as info:
        world.load_district(folder)
    assert any(
        str(e).startswith("sections.csv line ") and "T-GONE" in str(e) for e in info.value.errors
    )
    assert world.records(cert.id, "sections") == before
    assert events(clever, cert.token) == []


def test_next_link_keeps_every_record_type(clever, cert) -> None:
    world = clever.world
    for user in world.users(cert.id, role="student")[:3]:
        world.update_record("users", user["id"], name__middle="Q")
    world.update_record("sections", world.records(cert.id, "sections")[0]["id"], period="P9")
    body = api(clever, cert.token, "/v3.0/events?record_type=users&record_type=sections&limit=2")
    nxt = next(link["uri"] for link in body.json()["links"] if link["rel"] == "next")
    assert "record_type=users" in nxt and "record_type=sections" in nxt
    rest = api(clever, cert.token, nxt).json()["data"]
    assert len(body.json()["data"]) + len(rest) == 4


def test_school_filter_keeps_events_about_that_school(clever, cert) -> None:
    world = clever.world
    schools = {s["sis_id"]: s["id"] for s in world.records(cert.id, "schools")}
    secs = {s["sis_id"]: s for s in world.records(cert.id, "sections")}
    world.update_record("sections", secs["SEC-HS-BIO"]["id"], period="P1")
    world.update_record("sections", secs["SEC-ELM-HR1"]["id"], period="P1")
    feed = events(clever, cert.token, school=schools["S-HS"])
    assert [e["data"]["object"]["sis_id"] for e in feed] == ["SEC-HS-BIO"]
