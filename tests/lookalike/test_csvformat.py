"""The Clever SFTP CSV parser: what it accepts, and errors naming file, line and column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from rostering.csvformat import CsvFormatError, parse_folder

GOOD = {
    "schools.csv": "School_id,School_name,School_number\nS1,North High,101\nS2,South Middle,102\n",
    "students.csv": (
        "Student_id,School_id,First_name,Last_name,Grade,DOB,Contact_name,Contact_type,"
        "Contact_relationship,Contact_phone\n"
        "ST1,S1,Ana,Lopez,9,2010-03-04,Maria Lopez,Parent/Guardian,Parent,5551234567\n"
        "ST1,S1,Ana,Lopez,9,2010-03-04,Jorge Lopez,Emergency,Grandparent,\n"
        "ST2,S2,Ben,Okafor,,,,,,\n"
    ),
    "teachers.csv": "School_id,Teacher_id,First_name,Last_name,Teacher_email\n"
    "S1,T1,Tess,Ng,tess@example.org\nS2,T2,Uma,Roy,\n",
    "sections.csv": "School_id,Section_id,Teacher_id,Teacher_2_id,Name,Term_name,Term_start\n"
    "S1,SEC1,T1,T2,Algebra,Fall,09/01/2025\nS2,SEC2,,,Study hall,,\n",
    "enrollments.csv": "School_id,Section_id,Student_id\nS1,SEC1,ST1\nS1,SEC1,ST2\n",
}


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode()
        (folder / name).write_bytes(data)
    return folder


def messages(folder: Path) -> list[str]:
    with pytest.raises(CsvFormatError) as info:
        parse_folder(folder)
    return [str(e) for e in info.value.errors]


def test_parses_a_valid_folder_with_contacts_coteachers_and_dates(tmp_path: Path) -> None:
    roster = parse_folder(write(tmp_path, GOOD))
    assert [s.school_id for s in roster.schools] == ["S1", "S2"]
    ana = roster.students[0]
    assert (ana.student_id, ana.grade, ana.dob) == ("ST1", "9", dt.date(2010, 3, 4))
    assert [c.name for c in ana.contacts] == ["Maria Lopez", "Jorge Lopez"]
    assert ana.contacts[0].phone == "5551234567"
    assert roster.students[1].grade is None and roster.students[1].contacts == []
    assert roster.sections[0].teacher_ids == ["T1", "T2"]
    assert roster.sections[0].term_start == dt.date(2025, 9, 1)
    assert roster.sections[1].teacher_ids == []
    assert roster.teachers[1].email is None
    assert roster.staff == []  # staff.csv is optional
    assert len(roster.enrollments) == 2


def test_bom_and_any_column_order_are_accepted(tmp_path: Path) -> None:
    files = dict(GOOD)
    files["schools.csv"] = b"\xef\xbb\xbfSchool_number,School_name,School_id\n101,N,S1\n102,S,S2\n"
    roster = parse_folder(write(tmp_path, files))
    assert roster.schools[0].school_id == "S1" and roster.schools[0].school_number == "101"


def test_errors_name_file_line_and_column_and_all_are_collected(tmp_path: Path) -> None:
    files = dict(GOOD)
    files["sections.csv"] = (
        "School_id,Section_id,Teacher_id\nS1,,T1\nS1,SEC1,T9\nS1,SEC1,T1\nS2,SEC2,\n"
    )
    files["enrollments.csv"] = "School_id,Section_id,Student_id\nS1,SEC1,ST1\nS1,SEC404,ST404\n"
    found = messages(write(tmp_path, files))
    assert "sections.csv line 2: Section_id is required" in found
    assert "sections.csv line 3: Teacher_id 'T9' is not in teachers.csv" in found
    assert "sections.csv line 4: Section_id 'SEC1' repeats line 3" in found
    assert "enrollments.csv line 3: Section_id 'SEC404' is not in sections.csv" in found
    assert "enrollments.csv line 3: Student_id 'ST404' is not in students.csv" in found


def test_header_names_are_case_sensitive(tmp_path: Path) -> None:
    files = dict(GOOD)
    files["schools.csv"] = "school_id,School_name,School_number\nS1,N,1\n"
    found = messages(write(tmp_path, files))
    assert any(
        m.startswith("schools.csv line 1: required column School_id is missing")
        and "case-sensitive" in m
        for m in found
    )


def test_missing_required_file_and_bad_encoding_are_named(tmp_path: Path) -> None:
    files = {k: v for k, v in GOOD.items() if k != "enrollments.csv"}
    files["teachers.csv"] = b"School_id,Teacher_id,First_name,Last_name\nS1,T1,Z\xf6e,Ng\n"
    found = messages(write(tmp_path, files))
    assert "enrollments.csv: the file is missing (it is required)" in found
    assert any(m.startswith("teachers.csv line 2: not UTF-8") for m in found)


def test_bad_values_are_rejected_with_the_column(tmp_path: Path) -> None:
    files = dict(GOOD)
    files["students.csv"] = (
        "Student_id,School_id,First_name,Last_name,DOB,Contact_name,Contact_type,Contact_phone\n"
        "ST1,S1,Ana,Lopez,31/31/2010,Maria,Aunt,555-1234\n"
        "ST2,S1,Ben,Okafor,,,,\n"
        "ST2,S1,Benny,Okafor,,,,\n"
    )
    found = messages(write(tmp_path, files))
    assert any(m.startswith("students.csv line 2: DOB '31/31/2010' is not a date") for m in found)
    assert any(m.startswith("students.csv line 2: Contact_type 'Aunt' is not one") for m in found)
    assert any(m.startswith("students.csv line 2: Contact_phone '555-1234'") for m in found)
    assert (
        "students.csv line 4: Student_id 'ST2' repeats line 3 with a different First_name" in found
    )


def test_multiline_quoted_values_keep_line_numbers(tmp_path: Path) -> None:
    files = dict(GOOD)
    files["schools.csv"] = 'School_id,School_name,School_number\nS1,"North\nHigh",101\nS2,South,\n'
    found = messages(write(tmp_path, files))
    assert "schools.csv line 4: School_number is required" in found
