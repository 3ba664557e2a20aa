"""CSV rostering through the sync engine: files (as a zip) in, the same guarantees as the API."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from accounts.models import User
from rostering.csvsource import scoped_id
from rostering.models import (
    ContactRelationship,
    Course,
    CsvRunFile,
    CsvRunNote,
    School,
    Section,
    SectionStudent,
    SectionTeacher,
    SyncError,
    SyncRun,
    Term,
    UserRole,
)
from tests.csv.conftest import (
    SCHOOLS,
    SECTIONS,
    STUDENT_HEADER,
    district_files,
    enrollments,
    student,
    students,
    sync_zip,
    to_csv,
)


def _errors(run: SyncRun) -> list[str]:
    return list(SyncError.objects.filter(run=run).values_list("message", flat=True))


def _user(district, kind: str, file_id: str) -> User:
    return User.objects.get(clever_id=scoped_id(district.pk, kind, file_id))


def test_a_district_is_rostered_from_its_files(district):
    run = sync_zip(district, district_files())
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert _errors(run) == []
    assert School.objects.filter(district=district, archived_at=None).count() == 2
    # Students, teachers and staff each have their own ids; T1 is a teacher and staff member.
    tara = _user(district, "tch", "T1")
    assert set(UserRole.objects.filter(user=tara).values_list("role", flat=True)) == {
        "teacher",
        "staff",
    }
    assert User.objects.filter(district=district).count() == 30 + 3 + 1 + 1  # + ST9, contact
    # Co-teachers in order after the primary.
    sec3 = Section.objects.get(clever_id=scoped_id(district.pk, "sec", "SEC3"))
    order = SectionTeacher.objects.filter(section=sec3).order_by("position")
    assert [link.user.clever_id.rsplit(":", 1)[1] for link in order] == ["T3", "T1"]
    sec1 = Section.objects.get(clever_id=scoped_id(district.pk, "sec", "SEC1"))
    assert [t.user.first_name for t in sec1.teacher_links.order_by("position")] == ["Tara", "Cory"]
    assert SectionStudent.objects.filter(section=sec1).count() == 15
    # Terms and courses from the section columns.
    assert Term.objects.filter(district=district).count() == 1
    assert sorted(Course.objects.filter(district=district).values_list("name", flat=True)) == [
        "Math",
        "Reading",
        "Science",
    ]
    assert sec1.term.name == "Fall" and sec1.course.number == "M3"
    # One contact with both students.
    rels = ContactRelationship.objects.filter(
        contact__clever_id=scoped_id(district.pk, "con", "C1")
    )
    assert sorted(r.student.first_name for r in rels) == ["Kid1", "Kid3"]
    assert {(r.relationship, r.type) for r in rels} == {("Parent", "Family")}
    # Per-file counts.
    counts = {
        f.file.name: (f.rows_read, f.rows_applied, f.rows_skipped) for f in run.csv_files.all()
    }
    assert counts["students.csv"] == (32, 32, 0)
    assert counts["enrollments.csv"] == (32, 32, 0)
    assert counts["staff.csv"] == (2, 2, 0)


def test_export_carries_the_files_ids_and_roles(district, capsys):
    sync_zip(district, district_files())
    call_command("district_export", "pine")
    data = json.loads(capsys.readouterr().out)
    assert data["district"]["id"] == "csv:pine"
    schools = {s["sis_id"]: s for s in data["schools"]}
    assert set(schools) == {"S1", "S2"} and not schools["S1"]["archived"]
    users = {(u["sis_id"], tuple(u["roles"])) for u in data["users"]}
    assert ("T1", ("staff", "teacher")) in users and ("P0", ("student",)) in users
    assert all("sis_id" in r and "archived" in r for r in data["sections"] + data["courses"])


def test_bad_rows_are_reported_with_file_line_and_reason_and_skipped(district):
    rows = students(30)
    rows.insert(3, ["", "S1", "No", "Id", "3", "", "", "", "", "", ""])  # line 4: no Student_id
    rows.insert(4, ["PX", "S9", "Lost", "School", "3", "", "", "", "", "", ""])  # line 5
    rows.insert(5, ["PY", "S1", "", "Nameless", "3", "", "", "", "", "", ""])  # line 6
    sections = [*SECTIONS, ["SEC1", "S1", "T1", "", "", "Again", "", "", "", "", "", "", ""]]
    sections.append(["SEC4", "S1", "T404", "", "", "Ghost teacher", "", "", "", "", "", "", ""])
    enrol = [*enrollments(30), ["S1", "SEC9", "P1"], ["S1", "SEC1", "P999"], ["S2", "SEC1", "P1"]]
    files = district_files(
        students_csv=to_csv(rows), sections_csv=to_csv(sections), enrollments_csv=to_csv(enrol)
    )
    run = sync_zip(district, files)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    errors = _errors(run)
    expected = [
        "students.csv line 4: Student_id is required; row skipped",
        "students.csv line 5: School_id 'S9' is not in schools.csv",
        "students.csv line 6: First_name is required; row skipped",
        "sections.csv line 5: Section_id 'SEC1' repeats line 2 (a duplicate id); row skipped",
        "sections.csv line 6: Teacher_id 'T404' is not in teachers.csv or staff.csv",
        "enrollments.csv line 34: Section_id 'SEC9' is not in sections.csv; row skipped",
        "enrollments.csv line 35: Student_id 'P999' is not in students.csv; row skipped",
        "enrollments.csv line 36: School_id 'S2' is not the school of Section_id 'SEC1'",
    ]
    for text in expected:
        assert any(e.startswith(text) for e in errors), (text, errors)
    # The rest was applied.
    assert User.objects.filter(district=district, clever_roles__role="student").count() == 30
    assert not User.objects.filter(clever_id=scoped_id(district.pk, "stu", "PX")).exists()
    assert Section.objects.get(clever_id=scoped_id(district.pk, "sec", "SEC1")).name == "Math 3"
    assert Section.objects.filter(clever_id=scoped_id(district.pk, "sec", "SEC4")).exists()
    counts = {
        f.file.name: (f.rows_read, f.rows_applied, f.rows_skipped) for f in run.csv_files.all()
    }
    assert counts["students.csv"] == (35, 32, 3)
    assert counts["enrollments.csv"] == (35, 32, 3)


def test_a_bad_row_keeps_what_we_hold_for_it(district):
    sync_zip(district, district_files())
    rows = students(30)
    rows[5] = ["P4", "S2", "", "Family4", "7", "N4", "", "", "", "", ""]  # First_name dropped
    run = sync_zip(district, district_files(students_csv=to_csv(rows)))
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    kept = _user(district, "stu", "P4")
    assert kept.archived_at is None and kept.first_name == "Kid4"
    assert any("students.csv line 6: First_name is required" in e for e in _errors(run))


@pytest.mark.parametrize(
    "files, message",
    [
        ({"enrollments_csv": None}, "enrollments.csv: the file is missing (it is required)"),
        (
            {"students_csv": b"Student_id,school_id,First_name,Last_name\nP1,S1,A,B\n"},
            "students.csv line 1: required column School_id is missing from the header (found "
            "'school_id': header names are case-sensitive)",
        ),
        ({"teachers_csv": b""}, "teachers.csv line 1: the file is empty"),
        (
            {"schools_csv": b"School_id,School_name,School_number\nS1,Caf\xe9,1\n"},
            "schools.csv line 2: the file is not UTF-8 (byte 0xe9",
        ),
    ],
)
def test_missing_files_columns_and_non_utf8_stop_the_run_before_anything_is_written(
    district, files, message
):
    run = sync_zip(district, district_files(**files))
    assert run.status == SyncRun.Status.FAILED
    assert "refused before anything was written" in run.error and message in run.error, run.error
    assert not School.objects.filter(district=district).exists()
    assert not User.objects.filter(district=district).exists()


def test_bom_crlf_quoted_newlines_and_free_column_order(district):
    header = ["Last_name", "First_name", "School_id", "Student_id"]  # any order
    rows = [header, ['O"Brien', "Line\r\none, two", "S1", "P1"], ["Smith", "Ann", "S2", "P2"]]
    files = district_files(
        students_csv=to_csv(rows, crlf=True, bom=True),
        enrollments_csv=to_csv([["School_id", "Section_id", "Student_id"], ["S1", "SEC1", "P1"]]),
        schools_csv=to_csv(SCHOOLS, crlf=True, bom=True),
    )
    run = sync_zip(district, files)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert _errors(run) == []
    p1 = _user(district, "stu", "P1")
    assert p1.first_name == "Line\r\none, two" and p1.last_name == 'O"Brien'
    assert School.objects.get(clever_id=scoped_id(district.pk, "sch", "S1")).name == (
        "North Elementary"
    )


def test_grades_outside_clevers_list_become_other_and_are_reported(district):
    rows = [STUDENT_HEADER, student(1, "S1", "Year 3"), student(2, "S1", "03")]
    files = district_files(
        students_csv=to_csv(rows),
        enrollments_csv=to_csv([["School_id", "Section_id", "Student_id"], ["S1", "SEC1", "P1"]]),
    )
    run = sync_zip(district, files)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    role = UserRole.objects.get(user=_user(district, "stu", "P1"), role="student")
    assert (role.grade, role.grade_raw) == ("Other", "Year 3")
    assert UserRole.objects.get(user=_user(district, "stu", "P2"), role="student").grade == "3"
    assert _errors(run) == [
        "students.csv line 2: Grade 'Year 3' is not one of Clever's grades; stored as Other"
    ]


def test_archive_and_restore_on_the_same_row_across_two_exports(district, settings):
    settings.CLEVER_SYNC_ARCHIVE_MIN_COUNT = 20
    sync_zip(district, district_files())
    p5 = _user(district, "stu", "P5")
    rows = [r for r in students(30) if r[0] != "P5"]
    enrol = [r for r in enrollments(30) if r[2] != "P5"]
    run = sync_zip(
        district, district_files(students_csv=to_csv(rows), enrollments_csv=to_csv(enrol))
    )
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.counts["users"]["archived"] == 1
    p5.refresh_from_db()
    assert p5.archived_at is not None
    run = sync_zip(district, district_files())
    assert run.counts["users"]["restored"] == 1
    again = _user(district, "stu", "P5")
    assert again.pk == p5.pk and again.archived_at is None
    assert SectionStudent.objects.get(user=again).archived_at is None


def test_a_truncated_file_never_archives_the_district(district):
    sync_zip(district, district_files(n_students=60))
    cut = to_csv(students(60))[:400]  # a transfer cut short: a few rows survive
    run = sync_zip(district, district_files(n_students=60, students_csv=cut))
    assert run.status == SyncRun.Status.NEEDS_REVIEW, run.error
    assert any("would archive" in reason for reason in run.plan["reasons"])
    assert User.objects.filter(district=district, archived_at=None).count() == 60 + 3 + 1 + 1


def test_an_empty_students_file_never_archives_the_district(district):
    sync_zip(district, district_files(n_students=60))
    run = sync_zip(
        district, district_files(students_csv=to_csv([STUDENT_HEADER]), enrollments_csv=None)
    )
    assert run.status == SyncRun.Status.FAILED  # enrolments missing: refused outright
    run = sync_zip(
        district,
        district_files(
            students_csv=to_csv([STUDENT_HEADER]),
            enrollments_csv=to_csv([["School_id", "Section_id", "Student_id"]]),
        ),
    )
    assert run.status == SyncRun.Status.NEEDS_REVIEW
    assert User.objects.filter(district=district, archived_at=None).count() == 65


def test_a_school_whose_id_changed_is_archived_and_the_run_says_so(district):
    sync_zip(district, district_files())
    renamed = [[c.replace("S2", "S2-NEW") for c in row] for row in SCHOOLS]
    swap = lambda rows: [[c.replace("S2", "S2-NEW") for c in row] for row in rows]  # noqa: E731
    files = district_files()
    files = {
        name: to_csv(swap([line.split(",") for line in data.decode().splitlines()]))
        for name, data in files.items()
    }
    files["schools.csv"] = to_csv(renamed)
    run = sync_zip(district, files)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    old = School.objects.get(clever_id=scoped_id(district.pk, "sch", "S2"))
    new = School.objects.get(clever_id=scoped_id(district.pk, "sch", "S2-NEW"))
    assert old.archived_at is not None and new.archived_at is None and new.name == old.name
    notes = list(CsvRunNote.objects.filter(run=run).values_list("message", flat=True))
    assert notes == [
        "School 'South Middle' (number 102) changed id from 'S2' to 'S2-NEW' between exports: "
        "the old school and what only it held are archived, the new one added."
    ]
    sec2 = Section.objects.get(clever_id=scoped_id(district.pk, "sec", "SEC2"))
    assert sec2.school == new


def test_a_dry_run_writes_nothing(district):
    run = sync_zip(district, district_files(), dry_run=True)
    assert run.status == SyncRun.Status.SUCCEEDED and run.counts["users"]["created"] == 35
    assert not User.objects.filter(district=district).exists()
    assert CsvRunFile.objects.filter(run=run).count() == 6
