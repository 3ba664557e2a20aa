"""Per-role home pages over the synced roster: what each person sees, in a bounded query count."""

from __future__ import annotations

import pytest
from django.utils import timezone

from rostering.models import Course, SyncRun, Term
from tests.factories import (
    CleverUserFactory,
    DistrictFactory,
    SchoolFactory,
    SectionFactory,
    SectionStudentFactory,
    SectionTeacherFactory,
    SyncRunFactory,
    UserFactory,
    UserRoleFactory,
)

pytestmark = pytest.mark.django_db


def _login(client, user, login_type: str | None) -> None:
    client.force_login(user)
    if login_type:
        session = client.session
        session["clever_login_type"] = login_type
        session.save()


def test_anonymous_home_offers_log_in_with_clever(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Log in with Clever" in response.content
    assert b'href="/sso/clever/login"' in response.content


@pytest.fixture
def roster():
    district = DistrictFactory(name="Springfield USD")
    school = SchoolFactory(district=district, name="Springfield Elementary")
    teacher = CleverUserFactory(district=district, first_name="Edna", last_name="Krabappel")
    co_teacher = CleverUserFactory(district=district, first_name="Elizabeth", last_name="Hoover")
    departed = CleverUserFactory(district=district, first_name="Dewey", last_name="Largo")
    term = Term.objects.create(clever_id="t" * 24, district=district, name="Fall 2026")
    course = Course.objects.create(clever_id="c" * 24, district=district, name="Mathematics 4")
    math = SectionFactory(school=school, name="Math 4", period="2", grade="4", term=term)
    math.course = course
    math.save()
    reading = SectionFactory(school=school, name="Reading 4", period="3")
    old = SectionFactory(school=school, name="Old section", archived_at=timezone.now())
    SectionTeacherFactory(section=math, user=teacher, position=0)
    SectionTeacherFactory(section=math, user=co_teacher, position=1)
    SectionTeacherFactory(section=math, user=departed, position=2, archived_at=timezone.now())
    SectionTeacherFactory(section=reading, user=teacher, position=0)
    SectionTeacherFactory(section=old, user=teacher, position=0)
    bart = CleverUserFactory(district=district, first_name="Bart", last_name="Simpson")
    lisa = CleverUserFactory(district=district, first_name="Lisa", last_name="Simpson")
    moved = CleverUserFactory(district=district, first_name="Milhouse", last_name="VanHouten")
    for student in (bart, lisa):
        SectionStudentFactory(section=math, user=student)
    SectionStudentFactory(section=math, user=moved, archived_at=timezone.now())
    # Clever stopped sharing Nelson (archived account) though his enrolment row is still live.
    nelson = CleverUserFactory(
        district=district, first_name="Nelson", last_name="Muntz", archived_at=timezone.now()
    )
    SectionStudentFactory(section=math, user=nelson)
    martin = CleverUserFactory(district=district, first_name="Martin", last_name="Prince")
    SectionStudentFactory(section=math, user=martin)
    SectionStudentFactory(section=reading, user=lisa)
    SyncRunFactory(district=district)
    return {
        "district": district,
        "teacher": teacher,
        "co_teacher": co_teacher,
        "bart": bart,
        "lisa": lisa,
        "math": math,
        "reading": reading,
    }


def test_teacher_sees_sections_with_students_and_co_teachers(
    client, roster, django_assert_num_queries, session_queries
):
    _login(client, roster["teacher"], "teacher")
    # (session,) user, sections, everyone on them (teachers and students in one query)
    with django_assert_num_queries(session_queries + 3):
        response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Logged in as <strong>Edna Krabappel</strong>" in page
    assert page.index("Math 4") < page.index("Reading 4")
    assert "Old section" not in page
    math_card = page[page.index("Math 4") : page.index("Reading 4")]
    assert "Co-teachers:" in math_card and "Elizabeth Hoover" in math_card
    assert "Dewey Largo" not in math_card  # archived co-teacher link
    # Students by last name, then first name.
    assert math_card.index("Martin Prince") < math_card.index("Bart Simpson")
    assert math_card.index("Bart Simpson") < math_card.index("Lisa Simpson")
    assert "Milhouse" not in page  # archived enrolment
    assert "Nelson" not in page  # archived account
    assert "Students (3)" in math_card
    meta = " ".join(math_card.split('class="muted section-meta">')[1].split("</p>")[0].split())
    assert meta == "Springfield Elementary · Period 2 · Grade 4 · Fall 2026 · Mathematics 4"
    reading_card = page[page.index("Reading 4") :]
    assert "Lisa Simpson" in reading_card and "Bart Simpson" not in reading_card


def test_co_teacher_sees_who_is_primary(client, roster):
    _login(client, roster["co_teacher"], "teacher")
    page = client.get("/").content.decode()
    assert "Also teaching:" in page and "Edna Krabappel (primary)" in page
    assert "Reading 4" not in page


def test_teacher_home_query_count_does_not_grow_with_sections(
    client, roster, django_assert_num_queries, session_queries
):
    for n in range(10):
        section = SectionFactory(school=roster["math"].school, name=f"Extra {n}")
        SectionTeacherFactory(section=section, user=roster["teacher"])
        SectionStudentFactory(section=section)
    _login(client, roster["teacher"], "teacher")
    with django_assert_num_queries(session_queries + 3):
        response = client.get("/")
    assert response.content.decode().count('data-testid="section"') == 12


def test_student_sees_sections_and_teachers(
    client, roster, django_assert_num_queries, session_queries
):
    _login(client, roster["lisa"], "student")
    with django_assert_num_queries(session_queries + 3):
        response = client.get("/")
    page = response.content.decode()
    rows = page.split('data-testid="section"')[1:]
    assert len(rows) == 2
    assert "Math 4" in rows[0] and "Edna Krabappel (primary), Elizabeth Hoover" in rows[0]
    assert "Reading 4" in rows[1] and "Edna Krabappel" in rows[1]
    assert "Bart" not in page  # classmates are not listed to students


def test_admin_sees_schools_and_last_sync(
    client, roster, django_assert_num_queries, session_queries
):
    district = roster["district"]
    SchoolFactory(district=district, name="Shelbyville High")
    SchoolFactory(district=district, name="Closed School", archived_at=timezone.now())
    SyncRunFactory(district=district, status=SyncRun.Status.FAILED)
    admin = CleverUserFactory(district=district, first_name="Gary", last_name="Chalmers")
    _login(client, admin, "district_admin")
    with django_assert_num_queries(session_queries + 5):
        response = client.get("/")
    page = response.content.decode()
    assert "Springfield USD" in page
    assert "Springfield Elementary" in page and "Shelbyville High" in page
    assert "Closed School" not in page
    assert "Failed" in page and "Last successful sync" in page
    school_rows = page.split('data-testid="school"')[1:]
    assert "Shelbyville High" in school_rows[0] and "<td>0</td>" in school_rows[0]
    # two live sections at Springfield Elementary (the archived one is not counted)
    assert "Springfield Elementary" in school_rows[1] and "<td>2</td>" in school_rows[1]


def test_teacher_before_first_sync_is_told_the_roster_is_coming(client):
    teacher = CleverUserFactory()
    _login(client, teacher, "teacher")
    response = client.get("/")
    assert response.status_code == 200
    assert "haven't synced yet" in response.content.decode()


def test_teacher_with_no_sections_after_a_sync(client):
    teacher = CleverUserFactory()
    SyncRunFactory(district=teacher.district)
    _login(client, teacher, "teacher")
    page = client.get("/").content.decode()
    assert "no classes in Clever right now" in page


def test_admin_before_first_sync(client):
    admin = CleverUserFactory()
    _login(client, admin, "staff")
    page = client.get("/").content.decode()
    assert "hasn't synced yet" in page
    assert "No schools yet" in page


def test_home_role_falls_back_to_clever_roles_without_a_login_type(client, roster):
    UserRoleFactory(user=roster["teacher"], role="teacher")
    _login(client, roster["teacher"], None)
    assert "Math 4" in client.get("/").content.decode()


def test_local_account_sees_the_plain_welcome(client):
    _login(client, UserFactory(first_name="Ops", last_name="Person"), None)
    page = client.get("/").content.decode()
    assert "You are logged in as Ops Person" in page
    assert "isn't linked to Clever" in page
