"""A full sync of the demo districts over real HTTP: every edge case lands as Clever states it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Q

from accounts.models import User
from rostering.models import (
    ContactRelationship,
    Course,
    School,
    Section,
    SectionStudent,
    SectionTeacher,
    Term,
    UserRole,
    UserSchool,
)
from tests.sync.conftest import CERT, LAKE, sync, totals

pytestmark = pytest.mark.django_db


def _user(sis_id: str, role: str = "") -> User:
    # Staff carry their SIS id as staff_id, which we keep as the role's number.
    qs = UserRole.objects.filter(Q(sis_id=sis_id) | Q(role="staff", number=sis_id))
    if role:
        qs = qs.filter(role=role)
    return qs.get().user


def _roles(user: User) -> set[str]:
    return set(user.clever_roles.filter(archived_at__isnull=True).values_list("role", flat=True))


def _section(sis_id: str) -> Section:
    return Section.objects.get(sis_id=sis_id)


def _teachers(section: Section) -> list[str]:
    links = section.teacher_links.filter(archived_at__isnull=True).order_by("position")
    return [link.user.clever_id for link in links.select_related("user")]


def test_certification_isd_lands_with_every_edge_case(cert):
    run = sync(cert)

    assert run.counts["schools"]["created"] == 5
    assert run.counts["users"]["created"] == 89
    assert run.counts["sections"]["created"] == 17
    assert run.counts["terms"]["created"] == 4
    assert run.counts["courses"]["created"] == 12
    assert run.counts["errors"]["count"] == 0
    assert run.errors.count() == 0
    cert.refresh_from_db()
    assert cert.name == "Certification ISD"
    assert User.objects.filter(district=cert, source=User.Source.CLEVER).count() == 89
    assert set(UserRole.objects.filter(user__district=cert).values_list("role", flat=True)) == {
        "student",
        "teacher",
        "staff",
        "district_admin",
        "contact",
    }
    assert UserRole.objects.filter(user__district=cert, role="student").count() == 54
    assert UserRole.objects.filter(user__district=cert, role="contact").count() == 12

    # 1. Multi-role employees are one user with several roles.
    assert _roles(_user("T200")) == {"teacher", "staff"}
    assert _user("T200") == _user("SF001")
    assert _roles(_user("T301")) == {"teacher", "staff", "district_admin"}
    assert _roles(_user("T300")) == {"teacher", "district_admin"}
    dana = User.objects.get(clever_id="f3284b5375c9b4c8e9561665")
    assert _roles(dana) == {"district_admin"}
    assert not UserSchool.objects.filter(user=dana).exists()

    # 2. Same email on two users: two accounts; missing and malformed emails kept as they are.
    pats = User.objects.filter(email="pat.parentteacher@cert-isd.example")
    assert pats.count() == 2
    assert {frozenset(_roles(u)) for u in pats} == {frozenset({"teacher"}), frozenset({"contact"})}
    assert _user("ST101").email == ""
    assert _user("T021").email == "not-an-email"

    # 3. Very short and very long SIS ids.
    assert _user("1").last_name
    lars = _user("STUDENT-0000000000000000000000000000000000000000000000000042")
    assert lars.first_name == "Lars"

    # 4. Users in several schools; section users from other schools.
    tara = _user("T100")
    assert UserSchool.objects.filter(user=tara, role="teacher").count() == 2
    eli = _user("ST102")
    math6 = _section("SEC-MID-MATH6")
    assert SectionStudent.objects.filter(section=math6, user=eli, archived_at=None).exists()
    assert UserRole.objects.get(user=eli, role="student").school != math6.school

    # 5. No sections.
    assert not SectionTeacher.objects.filter(user=_user("T500")).exists()
    assert not SectionStudent.objects.filter(user=_user("ST103")).exists()

    # 6. Co-teachers in order, primary first; a section with no teacher; names and grades.
    co10 = _section("SEC-HS-CO10")
    teachers = _teachers(co10)
    assert len(teachers) == 10 and teachers[0] == tara.clever_id
    assert SectionTeacher.objects.get(section=co10, user=tara).position == 0
    assert _teachers(_section("SEC-HS-ALG1"))[1] == tara.clever_id
    assert _teachers(_section("SEC-HS-INDEP")) == []
    assert Section.objects.filter(district=cert, name="Homeroom").count() == 2
    assert _section("SEC-MID-PE").name == "Physical Education - Triplerole - 5"
    assert _section("SEC-ELM-HR2").grade == "Other"
    assert _section("SEC-HS-ART").grade == "Ungraded"

    # 7. Terms and courses synthesised from sections, missing dates and names.
    spring = Term.objects.get(district=cert, name="Spring Semester")
    assert spring.start_date is None and spring.end_date is None
    unnamed = Term.objects.get(district=cert, name="")
    assert unnamed.start_date is not None
    assert _section("SEC-HS-BIO").term == spring
    assert _section("SEC-HS-CHEM").term == unnamed
    advisory = _section("SEC-MID-ADV")
    assert advisory.course is None and advisory.term is None and advisory.subject == ""
    assert Course.objects.filter(district=cert, name="Biology", number="").exists()
    assert _section("SEC-HS-BIO").course.name == "Biology"

    # 8. Contacts: full name in last_name, several per student, one for two students.
    molly = _user("ST100")
    assert ContactRelationship.objects.filter(student=molly).count() == 3
    sol = _user("C-SOL", "contact")
    assert sol.first_name == "" and sol.last_name
    kids = ContactRelationship.objects.filter(contact=sol).values_list("student__clever_id")
    assert {k for (k,) in kids} == {_user("ST111").clever_id, _user("ST112").clever_id}
    unknown = ContactRelationship.objects.get(student=_user("ST101"))
    assert unknown.type == "Other" and unknown.relationship == ""

    # 10. Long strings and any UTF-8.
    assert len(_user("ST107").last_name) == 326
    assert len(_section("SEC-HS-SEM").name) == 409
    assert School.objects.filter(name__startswith="東京国際バイリンガル学校").exists()
    assert _user("ST106").last_name == "山田" or _user("ST106").first_name == "太郎"

    # Grades outside Clever's list are "Other"; sparse profiles keep empty fields.
    assert UserRole.objects.get(sis_id="ST108", role="student").grade == "Other"
    sasha = UserRole.objects.get(sis_id="ST104", role="student")
    assert (sasha.grade, sasha.number, sasha.state_id, sasha.user.email) == ("", "", "", "")
    molly_role = UserRole.objects.get(sis_id="ST100", role="student")
    assert (molly_role.grade, molly_role.number, molly_role.district_username) == (
        "10",
        "100",
        "mmulticlass",
    )
    assert totals(run, "archived") == 0


def test_a_second_identical_run_changes_nothing(cert, django_assert_max_num_queries):
    first = sync(cert)
    # Statements grow with pages (one COPY per page and type), never with records.
    with django_assert_max_num_queries(200) as ctx:
        second = sync(cert)
    assert totals(second, "created") == totals(second, "updated") == 0
    assert totals(second, "archived") == totals(second, "restored") == 0
    assert second.counts["users"]["unchanged"] == 89
    assert second.counts["enrollments"]["unchanged"] == first.counts["enrollments"]["created"]
    # Nothing was rewritten: no row names the second run as the one that last wrote it.
    for model in (School, Term, Course, Section, User):
        assert not model.objects.filter(last_seen_run=second).exists()
    for model in (SectionStudent, SectionTeacher, UserRole, UserSchool, ContactRelationship):
        assert not model.objects.filter(last_seen_run=second).exists()
    # A bounded number of statements, none of them per record.
    roster_writes = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "WITH"))
        and "rostering_sync" not in q["sql"]
        and "rostering_district" not in q["sql"]
    ]
    # A few set-based statements per type (PostgreSQL) or none at all (ORM path).
    assert len(roster_writes) <= 4 * 10, roster_writes


def test_multi_district_isolation(cert, lake, clever):
    sync(cert)
    run = sync(lake)
    assert run.counts["users"]["created"] == 9
    assert User.objects.filter(district=lake).count() == 9
    assert User.objects.filter(district=cert).count() == 89
    lola = User.objects.get(clever_id="b341c9bae685b45bd3b06732")
    assert lola.district == lake

    # Lakeside stops sharing a student: only Lakeside's row is archived.
    clever.world.unshare("users", "30628744d869cc6409db5399")
    again = sync(lake, expect="needs_review")  # 1 of 9 users is more than 10%
    assert again.plan["archive"]["users"]["count"] == 1
    cert_run = sync(cert)
    assert totals(cert_run, "archived") == 0
    assert User.objects.filter(district=cert, archived_at__isnull=False).count() == 0

    # Lakeside disconnects: its rows stay as they are, Certification ISD keeps syncing.
    clever.world.disconnect(LAKE)
    from rostering import connections

    result = connections.district_connections_refresh()
    assert result.disconnected == [LAKE]
    assert sync(cert).status == "succeeded"
    assert User.objects.filter(district=lake, archived_at__isnull=True).count() == 9
    assert CERT not in result.disconnected


@pytest.mark.parametrize("state", ["paused", "error"])
def test_a_paused_or_failing_district_still_syncs_what_it_shares(cert, clever, state):
    # 9. District states: Clever keeps sharing (last year's data when paused); we mirror it.
    sync(cert)
    clever.world.update_record("districts", CERT, state=state, name="Certification ISD (old)")
    run = sync(cert)
    assert totals(run, "archived") == 0 and run.counts["users"]["unchanged"] == 89
    cert.refresh_from_db()
    assert cert.name == "Certification ISD (old)"


def test_each_sync_stores_what_clever_says_of_the_district(cert, clever):
    # The look-alike's demo district launched on 2025-08-01 and its SIS sync to Clever is fine.
    cert.refresh_from_db()
    assert cert.clever_launch_date == dt.date(2025, 8, 1)  # read at the token refresh already
    clever.world.district_state_set(
        CERT,
        launch_date=dt.date(2027, 1, 15),
        state="paused",
        pause_start=dt.datetime(2026, 6, 20, tzinfo=dt.UTC),
        pause_end=dt.datetime(2026, 8, 15, tzinfo=dt.UTC),
        last_sync=dt.datetime(2026, 12, 3, 4, tzinfo=dt.UTC),
        error="",
    )
    checked = cert.clever_state_checked_at
    sync(cert)
    cert.refresh_from_db()
    assert cert.clever_launch_date == dt.date(2027, 1, 15)
    assert (cert.clever_state, cert.clever_error) == ("paused", "")
    assert cert.clever_pause_start == dt.datetime(2026, 6, 20, tzinfo=dt.UTC)
    assert cert.clever_pause_end == dt.datetime(2026, 8, 15, tzinfo=dt.UTC)
    assert cert.clever_last_sync == dt.datetime(2026, 12, 3, 4, tzinfo=dt.UTC)
    assert cert.clever_state_checked_at > checked

    clever.world.district_state_set(CERT, state="error", error="SFTP upload failed", pause_end=None)
    sync(cert)
    cert.refresh_from_db()
    assert (cert.clever_state, cert.clever_error, cert.clever_pause_end) == (
        "error",
        "SFTP upload failed",
        None,
    )


def test_malformed_district_values_are_reported_and_the_district_syncs(cert, clever):
    clever.world.district_state_set(CERT, launch_date="one day", pause_start=17)
    run = sync(cert)
    assert run.counts["users"]["created"] == 89
    assert run.counts["errors"] == {"count": 2}
    assert sorted(run.errors.values_list("record_type", "clever_id", "message")) == [
        (
            "district",
            CERT,
            "field 'launch_date' is not a date (YYYY-MM-DD): 'one day'; stored empty "
            "(the district syncs all the same)",
        ),
        (
            "district",
            CERT,
            "field 'pause_start' should be a string, got int; stored empty "
            "(the district syncs all the same)",
        ),
    ]
    cert.refresh_from_db()
    assert cert.clever_launch_date is None and cert.clever_pause_start is None
    assert cert.clever_state == "success"


def test_a_dry_run_stores_nothing_of_the_districts_state(cert, clever):
    clever.world.district_state_set(CERT, launch_date="2027-03-01")
    sync(cert, dry_run=True)
    cert.refresh_from_db()
    assert cert.clever_launch_date == dt.date(2025, 8, 1)


def test_rows_staged_in_chunks_land_as_a_whole_page_would(cert, monkeypatch):
    from rostering.sync import engine

    # Large districts stage a page's rows in chunks (STAGE_CHUNK_ROWS); force it on the demo.
    monkeypatch.setattr(engine, "STAGE_CHUNK_ROWS", 3)
    chunked = sync(cert)
    assert chunked.counts["users"]["created"] == 89
    assert chunked.counts["sections"]["created"] == 17
    monkeypatch.undo()
    again = sync(cert)  # unchunked: finds exactly what the chunked run wrote
    assert totals(again, "created") == totals(again, "updated") == totals(again, "archived") == 0
    assert totals(again, "unchanged") == totals(chunked, "created")
