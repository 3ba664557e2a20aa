"""The demo districts hold every edge case fixtures/demo/EDGE_CASES.md promises."""

from __future__ import annotations

import pytest

from cleverlike.build import clever_id


@pytest.fixture
def cert(clever):
    return clever.world.district_named("Certification ISD")


def by_name(world, district, last: str) -> dict:
    matches = [u for u in world.users(district.id) if u["name"]["last"] == last]
    assert len(matches) == 1, (last, len(matches))
    return matches[0]


def sections_by_sis(world, district) -> dict[str, dict]:
    return {s["sis_id"]: s for s in world.records(district.id, "sections")}


def test_districts_and_documented_ids(clever, cert) -> None:
    world = clever.world
    assert cert.id == "9aa03c1635aa7766e18a6a7d"
    assert world.district_named("Lakeside Charter Schools").id == "b44431b0febef4ed7dd7e43b"
    assert len(world.records(cert.id, "schools")) == 5
    assert len(world.users(cert.id)) == 89
    assert by_name(world, cert, "Teamwork")["id"] == "16f270f62dbb8954039b91ba"
    assert by_name(world, cert, "Multiclass")["id"] == "07782ff269ed248fe3548e49"


def test_ids_are_deterministic_across_loads(clever, cert) -> None:
    world = clever.world
    first = {t: [r["id"] for r in world.records(cert.id, t)] for t in ("users", "sections")}
    world.reset()
    again = {t: [r["id"] for r in world.records(cert.id, t)] for t in ("users", "sections")}
    assert first == again
    molly = by_name(world, cert, "Multiclass")
    assert molly["id"] == clever_id("certification-isd", "student", "ST100")


def test_multi_role_employees_are_one_user(clever, cert) -> None:
    world = clever.world
    assert set(by_name(world, cert, "Multirole")["roles"]) == {"teacher", "staff"}
    assert set(by_name(world, cert, "Triplerole")["roles"]) == {
        "teacher",
        "staff",
        "district_admin",
    }
    assert set(by_name(world, cert, "Adminteacher")["roles"]) == {"teacher", "district_admin"}
    assert set(by_name(world, cert, "Districtadmin")["roles"]) == {"district_admin"}


def test_teacher_who_is_a_parent_is_two_users_with_one_email(clever, cert) -> None:
    same = [
        u
        for u in clever.world.users(cert.id)
        if u.get("email") == "pat.parentteacher@cert-isd.example"
    ]
    assert sorted(tuple(u["roles"]) for u in same) == [("contact",), ("teacher",)]


def test_students_and_teachers_in_several_schools(clever, cert) -> None:
    world = clever.world
    schools = {s["sis_id"]: s["id"] for s in world.records(cert.id, "schools")}
    eli = by_name(world, cert, "Elementary")["roles"]["student"]
    assert eli["school"] == schools["S-ELM"]
    assert eli["schools"] == [schools["S-ELM"], schools["S-MID"]]
    assert {e["school"] for e in eli["enrollments"]} == {schools["S-ELM"], schools["S-MID"]}
    tara = by_name(world, cert, "Teamwork")["roles"]["teacher"]
    assert set(tara["schools"]) == {schools["S-MID"], schools["S-HS"]}


def test_no_sections_cotaught_and_teacherless_sections(clever, cert) -> None:
    world = clever.world
    secs = sections_by_sis(world, cert)
    in_sections = {t for s in secs.values() for t in s["teachers"] + s["students"]}
    nosections = [u for u in world.users(cert.id) if u["name"]["last"] == "Nosections"]
    assert sorted(tuple(u["roles"]) for u in nosections) == [("student",), ("teacher",)]
    assert not {u["id"] for u in nosections} & in_sections
    co10 = secs["SEC-HS-CO10"]
    assert len(co10["teachers"]) == 10 and co10["teachers"][0] == co10["teacher"]
    assert co10["teacher"] == by_name(world, cert, "Teamwork")["id"]
    indep = secs["SEC-HS-INDEP"]
    assert indep["teacher"] is None and indep["teachers"] == [] and indep["students"]
    assert [s["name"] for s in secs.values()].count("Homeroom") == 2
    assert secs["SEC-MID-PE"]["name"] == "Physical Education - Triplerole - 5"


def test_molly_has_several_teachers_and_three_contacts(clever, cert) -> None:
    world = clever.world
    molly = by_name(world, cert, "Multiclass")
    hers = [s for s in world.records(cert.id, "sections") if molly["id"] in s["students"]]
    assert len(hers) == 5 and len({t for s in hers for t in s["teachers"]}) == 11
    contacts = [
        u
        for u in world.users(cert.id, role="contact")
        if any(r["student"] == molly["id"] for r in u["roles"]["contact"]["student_relationships"])
    ]
    assert sorted(c["name"]["last"] for c in contacts) == [
        "Grace Multiclass",
        "Maria Multiclass",
        "Mark Multiclass",
    ]
    assert all(c["name"]["first"] == "" for c in contacts)
    sol = by_name(world, cert, "Sol Sibling")
    assert len(sol["roles"]["contact"]["student_relationships"]) == 2


def test_missing_optional_fields_are_absent(clever, cert) -> None:
    world = clever.world
    sasha = by_name(world, cert, "Sparse")
    student = sasha["roles"]["student"]
    assert "email" not in sasha
    assert not {"grade", "state_id", "student_number"} & set(student)
    assert "email" not in by_name(world, cert, "Noemail")


def test_terms_and_courses_synthesised_with_gaps(clever, cert) -> None:
    world = clever.world
    terms = {t["name"]: t for t in world.records(cert.id, "terms")}
    assert terms["Spring Semester"]["start_date"] is None
    assert terms["Spring Semester"]["end_date"] is None
    assert terms[None]["start_date"] == "2026-01-05T00:00:00.000Z"
    secs = sections_by_sis(world, cert)
    assert secs["SEC-MID-ADV"]["course"] is None and secs["SEC-MID-ADV"]["term_id"] is None
    biology = next(c for c in world.records(cert.id, "courses") if c["name"] == "Biology")
    assert biology["number"] is None


def test_long_and_non_ascii_strings_and_grades_outside_the_list(clever, cert) -> None:
    world = clever.world
    lorenzo = next(u for u in world.users(cert.id) if u["name"]["first"] == "Lorenzo")
    assert len(lorenzo["name"]["last"]) > 300
    assert len(sections_by_sis(world, cert)["SEC-HS-SEM"]["name"]) > 300
    names = {(u["name"]["first"], u["name"]["last"]) for u in world.users(cert.id)}
    assert {("Zoë", "Ñúñez-Øberg"), ("太郎", "山田"), ("花子", "佐藤")} <= names
    assert by_name(world, cert, "Kindergartner")["roles"]["student"]["grade"] == "Other"
    assert by_name(world, cert, "Gradefive")["roles"]["student"]["grade"] == "Other"
