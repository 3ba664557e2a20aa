"""Clever's SFTP CSV roster format: the one parser for it (the look-alike and CSV rostering).

A district is a folder holding ``schools.csv``, ``students.csv``, ``teachers.csv``,
``sections.csv``, ``enrollments.csv`` (required) and ``staff.csv`` (optional). Header names are
exact and case-sensitive, column order is free, files are UTF-8 with or without a BOM. Student
contacts ride on ``students.csv``: one row per contact, the student's columns repeated.

Parsing collects every problem instead of stopping at the first; each names the file, the line
(the header is line 1) and the column, e.g. ``sections.csv line 14: Section_id is required``.
``parse_folder`` reads a whole folder for the look-alike; CSV rostering
(``rostering.csvsource``) streams the same files row by row through ``CsvReader`` and the same
column rules. This module knows nothing about the look-alike, the ORM or HTTP.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

REQUIRED_FILES = ("schools.csv", "students.csv", "teachers.csv", "sections.csv", "enrollments.csv")
OPTIONAL_FILES = ("staff.csv",)
MAX_TEACHERS_PER_SECTION = 10
TEACHER_COLUMNS = ("Teacher_id", *(f"Teacher_{n}_id" for n in range(2, 11)))

CONTACT_TYPES = ("Primary", "Secondary", "Parent/Guardian", "Emergency", "Family", "Other")
CONTACT_RELATIONSHIPS = ("Parent", "Grandparent", "Self", "Aunt/Uncle", "Sibling", "Other")
PHONE_TYPES = ("Cell", "Home", "Work", "Other")
GENDERS = ("M", "F", "X")
YES_NO = ("Y", "N")

# Column sets per file: (required columns whose value must be present, other known columns).
SCHOOL_REQUIRED = ("School_id", "School_name", "School_number")
SCHOOL_OPTIONAL = (
    "State_id",
    "Low_grade",
    "High_grade",
    "Principal",
    "Principal_email",
    "School_address",
    "School_city",
    "School_state",
    "School_zip",
    "School_phone",
    "NCES_id",
    "MDR_number",
)
STUDENT_REQUIRED = ("School_id", "Student_id", "First_name", "Last_name")
CONTACT_COLUMNS = (
    "Contact_type",
    "Contact_name",
    "Contact_relationship",
    "Contact_phone",
    "Contact_phone_type",
    "Contact_email",
    "Contact_sis_id",
)
STUDENT_OPTIONAL = (
    "Student_number",
    "State_id",
    "Middle_name",
    "Grade",
    "Gender",
    "Graduation_year",
    "DOB",
    "Race",
    "Hispanic_Latino",
    "Home_language",
    "Ell_status",
    "Frl_status",
    "IEP_status",
    "Student_street",
    "Student_city",
    "Student_state",
    "Student_zip",
    "Student_email",
    "Username",
    "Password",
    "Unweighted_gpa",
    "Weighted_gpa",
    *CONTACT_COLUMNS,
)
TEACHER_REQUIRED = ("School_id", "Teacher_id", "First_name", "Last_name")
TEACHER_OPTIONAL = (
    "Teacher_number",
    "State_teacher_id",
    "Teacher_email",
    "Middle_name",
    "Title",
    "Username",
    "Password",
)
SECTION_REQUIRED = ("School_id", "Section_id")
SECTION_OPTIONAL = (
    *TEACHER_COLUMNS,
    "Section_number",
    "Name",
    "Grade",
    "Course_name",
    "Course_number",
    "Course_description",
    "Period",
    "Subject",
    "Term_name",
    "Term_start",
    "Term_end",
)
ENROLLMENT_REQUIRED = ("School_id", "Section_id", "Student_id")
STAFF_REQUIRED = ("Staff_id", "First_name", "Last_name")
STAFF_OPTIONAL = (
    "School_id",
    "Staff_email",
    "Title",
    "Username",
    "Password",
    "Role",
    "Department",
)
# Columns that must be in the header even when a row may leave them empty.
SECTION_HEADER_REQUIRED = ("Teacher_id",)
STAFF_HEADER_REQUIRED = ("School_id",)


@dataclass(frozen=True, slots=True)
class CsvError:
    """One problem in a roster file: where it is and what is wrong."""

    file: str
    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file} line {self.line}"
        return f"{where}: {self.message}"


class CsvFormatError(ValueError):
    """The folder is not a valid Clever CSV roster; ``errors`` lists every problem found."""

    def __init__(self, errors: list[CsvError]) -> None:
        self.errors = errors
        shown = "\n".join(str(e) for e in errors[:50])
        more = f"\n... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"{len(errors)} problem(s) in the CSV roster:\n{shown}{more}")


@dataclass(slots=True)
class SchoolRow:
    """A row of schools.csv."""

    line: int
    school_id: str
    name: str
    school_number: str
    state_id: str | None = None
    low_grade: str | None = None
    high_grade: str | None = None
    principal: str | None = None
    principal_email: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    phone: str | None = None
    nces_id: str | None = None
    mdr_number: str | None = None


@dataclass(slots=True)
class ContactRow:
    """A contact of a student (the Contact_* columns of one students.csv row)."""

    line: int
    name: str
    type: str
    relationship: str | None = None
    phone: str | None = None
    phone_type: str | None = None
    email: str | None = None
    sis_id: str | None = None

    @property
    def key(self) -> str:
        """Who this contact is across students: Contact_sis_id, else name, email and phone."""
        if self.sis_id:
            return f"sis:{self.sis_id}"
        return f"name:{self.name}|{(self.email or '').lower()}|{self.phone or ''}"


@dataclass(slots=True)
class StudentRow:
    """A student of students.csv (its contact rows folded into ``contacts``)."""

    line: int
    school_id: str
    student_id: str
    first_name: str
    last_name: str
    middle_name: str | None = None
    student_number: str | None = None
    state_id: str | None = None
    grade: str | None = None
    gender: str | None = None
    graduation_year: str | None = None
    dob: dt.date | None = None
    race: str | None = None
    hispanic_latino: str | None = None
    home_language: str | None = None
    ell_status: str | None = None
    frl_status: str | None = None
    iep_status: str | None = None
    street: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    email: str | None = None
    username: str | None = None
    contacts: list[ContactRow] = field(default_factory=list)


@dataclass(slots=True)
class TeacherRow:
    """A row of teachers.csv."""

    line: int
    school_id: str
    teacher_id: str
    first_name: str
    last_name: str
    middle_name: str | None = None
    teacher_number: str | None = None
    state_teacher_id: str | None = None
    email: str | None = None
    title: str | None = None
    username: str | None = None


@dataclass(slots=True)
class SectionRow:
    """A row of sections.csv; ``teacher_ids`` is Teacher_id then Teacher_2_id.. (primary first)."""

    line: int
    school_id: str
    section_id: str
    teacher_ids: list[str] = field(default_factory=list)
    section_number: str | None = None
    name: str | None = None
    grade: str | None = None
    course_name: str | None = None
    course_number: str | None = None
    course_description: str | None = None
    period: str | None = None
    subject: str | None = None
    term_name: str | None = None
    term_start: dt.date | None = None
    term_end: dt.date | None = None


@dataclass(slots=True)
class EnrollmentRow:
    """A row of enrollments.csv."""

    line: int
    school_id: str
    section_id: str
    student_id: str


@dataclass(slots=True)
class StaffRow:
    """A row of staff.csv."""

    line: int
    staff_id: str
    first_name: str
    last_name: str
    school_id: str | None = None
    email: str | None = None
    title: str | None = None
    username: str | None = None
    role: str | None = None
    department: str | None = None


@dataclass(slots=True)
class Roster:
    """A whole district as its CSV files describe it, every reference checked."""

    schools: list[SchoolRow]
    students: list[StudentRow]
    teachers: list[TeacherRow]
    sections: list[SectionRow]
    enrollments: list[EnrollmentRow]
    staff: list[StaffRow]


class CsvReader:
    """Reads one CSV file row by row, remembering problems with file, line and column."""

    def __init__(self, name: str, text: str | TextIO, errors: list[CsvError]) -> None:
        self.name = name
        self.errors = errors
        # A whole text (the look-alike) or a text stream opened with newline="" (CSV rostering,
        # which reads files row by row so memory stays flat whatever their size).
        stream = io.StringIO(text, newline="") if isinstance(text, str) else text
        self._reader = csv.reader(stream)
        self.header: list[str] = []
        self.index: dict[str, int] = {}

    def error(self, line: int | None, column: str | None, message: str) -> None:
        """Record a problem at this file's ``line`` (and ``column``)."""
        self.errors.append(CsvError(self.name, line, column, message))

    def read_header(self, required: tuple[str, ...]) -> bool:
        """Read the header row; unknown columns are ignored, as Clever ignores them."""
        try:
            self.header = next(self._reader)
        except StopIteration:
            self.error(1, None, "the file is empty: a header row is required")
            return False
        seen: dict[str, int] = {}
        for position, raw in enumerate(self.header):
            name = raw.strip()
            if name in seen:
                self.error(1, name, f"column {name} appears twice in the header")
            seen[name] = position
        self.index = seen
        ok = True
        lowered = {name.lower(): name for name in seen}
        for column in required:
            if column not in seen:
                hint = ""
                if column.lower() in lowered:
                    hint = f" (found {lowered[column.lower()]!r}: header names are case-sensitive)"
                self.error(1, column, f"required column {column} is missing from the header{hint}")
                ok = False
        return ok

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        """Yield (starting line, {column: stripped value}) for each non-blank data row."""
        width = len(self.header)
        while True:
            start = self._reader.line_num + 1
            try:
                values = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                self.error(start, None, f"malformed CSV: {exc}")
                return
            if not any(v.strip() for v in values):
                continue
            if len(values) > width:
                self.error(
                    start, None, f"the row has {len(values)} values but the header has {width}"
                )
                continue
            row = {
                name: (values[pos].strip() if pos < len(values) else "")
                for name, pos in self.index.items()
            }
            yield start, row


def _opt(row: dict[str, str], column: str) -> str | None:
    value = row.get(column, "")
    return value or None


def _required(f: CsvReader, line: int, row: dict[str, str], columns: tuple[str, ...]) -> bool:
    ok = True
    for column in columns:
        if not row.get(column):
            f.error(line, column, f"{column} is required")
            ok = False
    return ok


def _date(f: CsvReader, line: int, row: dict[str, str], column: str) -> dt.date | None:
    """Parse MM/DD/YYYY or YYYY-MM-DD (the two spellings SIS exports use)."""
    value = row.get(column, "")
    if not value:
        return None
    for fmt in ("%m/%d/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    f.error(line, column, f"{column} {value!r} is not a date (use MM/DD/YYYY or YYYY-MM-DD)")
    return None


def _choice(
    f: CsvReader, line: int, row: dict[str, str], column: str, allowed: tuple[str, ...]
) -> str | None:
    value = row.get(column, "")
    if not value:
        return None
    if value not in allowed:
        f.error(line, column, f"{column} {value!r} is not one of: {', '.join(allowed)}")
        return None
    return value


def _decode(path: Path, name: str, errors: list[CsvError]) -> str | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        errors.append(
            CsvError(name, line, None, f"not UTF-8: byte 0x{data[exc.start]:02x} cannot be read")
        )
        return None


def _unique(f: CsvReader, line: int, column: str, value: str, seen: dict[str, int]) -> bool:
    if value in seen:
        f.error(line, column, f"{column} {value!r} repeats line {seen[value]}")
        return False
    seen[value] = line
    return True


def _parse_schools(f: CsvReader) -> list[SchoolRow]:
    out: list[SchoolRow] = []
    if not f.read_header(SCHOOL_REQUIRED):
        return out
    seen: dict[str, int] = {}
    for line, row in f.rows():
        if not _required(f, line, row, SCHOOL_REQUIRED):
            continue
        if not _unique(f, line, "School_id", row["School_id"], seen):
            continue
        out.append(
            SchoolRow(
                line=line,
                school_id=row["School_id"],
                name=row["School_name"],
                school_number=row["School_number"],
                state_id=_opt(row, "State_id"),
                low_grade=_opt(row, "Low_grade"),
                high_grade=_opt(row, "High_grade"),
                principal=_opt(row, "Principal"),
                principal_email=_opt(row, "Principal_email"),
                address=_opt(row, "School_address"),
                city=_opt(row, "School_city"),
                state=_opt(row, "School_state"),
                zip=_opt(row, "School_zip"),
                phone=_opt(row, "School_phone"),
                nces_id=_opt(row, "NCES_id"),
                mdr_number=_opt(row, "MDR_number"),
            )
        )
    return out


_STUDENT_FIELDS = (
    ("School_id", "school_id"),
    ("First_name", "first_name"),
    ("Last_name", "last_name"),
    ("Middle_name", "middle_name"),
    ("Student_number", "student_number"),
    ("State_id", "state_id"),
    ("Grade", "grade"),
    ("Gender", "gender"),
    ("Graduation_year", "graduation_year"),
    ("Race", "race"),
    ("Hispanic_Latino", "hispanic_latino"),
    ("Home_language", "home_language"),
    ("Ell_status", "ell_status"),
    ("Frl_status", "frl_status"),
    ("IEP_status", "iep_status"),
    ("Student_street", "street"),
    ("Student_city", "city"),
    ("Student_state", "state"),
    ("Student_zip", "zip"),
    ("Student_email", "email"),
    ("Username", "username"),
)


def _contact(f: CsvReader, line: int, row: dict[str, str]) -> ContactRow | None:
    if not any(row.get(c) for c in CONTACT_COLUMNS):
        return None
    ok = _required(f, line, row, ("Contact_name", "Contact_type"))
    ctype = _choice(f, line, row, "Contact_type", CONTACT_TYPES)
    relationship = _choice(f, line, row, "Contact_relationship", CONTACT_RELATIONSHIPS)
    phone_type = _choice(f, line, row, "Contact_phone_type", PHONE_TYPES)
    phone = _opt(row, "Contact_phone")
    if phone is not None and not (phone.isdigit() and 10 <= len(phone) <= 11):
        msg = f"Contact_phone {phone!r} must be 10 or 11 digits, no punctuation"
        f.error(line, "Contact_phone", msg)
        ok = False
    bad_choice = (
        (row.get("Contact_type") and ctype is None)
        or (row.get("Contact_relationship") and relationship is None)
        or (row.get("Contact_phone_type") and phone_type is None)
    )
    if not ok or bad_choice:
        return None
    return ContactRow(
        line=line,
        name=row["Contact_name"],
        type=ctype or "",
        relationship=relationship,
        phone=phone,
        phone_type=phone_type,
        email=_opt(row, "Contact_email"),
        sis_id=_opt(row, "Contact_sis_id"),
    )


def _parse_students(f: CsvReader) -> list[StudentRow]:
    out: dict[str, StudentRow] = {}
    if not f.read_header(STUDENT_REQUIRED):
        return []
    for line, row in f.rows():
        if not _required(f, line, row, STUDENT_REQUIRED):
            continue
        student_id = row["Student_id"]
        contact = _contact(f, line, row)
        dob = _date(f, line, row, "DOB")
        gender = _choice(f, line, row, "Gender", GENDERS)
        ell = _choice(f, line, row, "Ell_status", YES_NO)
        hispanic = _choice(f, line, row, "Hispanic_Latino", YES_NO)
        existing = out.get(student_id)
        if existing is not None:
            # A repeated student carries another contact; its own columns must agree.
            for column, attr in _STUDENT_FIELDS:
                if (row.get(column) or None) != getattr(existing, attr):
                    f.error(
                        line,
                        column,
                        f"Student_id {student_id!r} repeats line {existing.line} with a different "
                        f"{column}",
                    )
                    break
            else:
                if contact is None and not any(row.get(c) for c in CONTACT_COLUMNS):
                    f.error(
                        line,
                        "Student_id",
                        f"Student_id {student_id!r} repeats line {existing.line} "
                        "(repeat a student only to add a contact)",
                    )
                elif contact is not None:
                    existing.contacts.append(contact)
            continue
        student = StudentRow(
            line=line,
            student_id=student_id,
            dob=dob,
            **{attr: _opt(row, column) for column, attr in _STUDENT_FIELDS},
        )
        student.gender = gender
        student.ell_status = ell
        student.hispanic_latino = hispanic
        if contact is not None:
            student.contacts.append(contact)
        out[student_id] = student
    return list(out.values())


def _parse_teachers(f: CsvReader) -> list[TeacherRow]:
    out: list[TeacherRow] = []
    if not f.read_header(TEACHER_REQUIRED):
        return out
    seen: dict[str, int] = {}
    for line, row in f.rows():
        if not _required(f, line, row, TEACHER_REQUIRED):
            continue
        if not _unique(f, line, "Teacher_id", row["Teacher_id"], seen):
            continue
        out.append(
            TeacherRow(
                line=line,
                school_id=row["School_id"],
                teacher_id=row["Teacher_id"],
                first_name=row["First_name"],
                last_name=row["Last_name"],
                middle_name=_opt(row, "Middle_name"),
                teacher_number=_opt(row, "Teacher_number"),
                state_teacher_id=_opt(row, "State_teacher_id"),
                email=_opt(row, "Teacher_email"),
                title=_opt(row, "Title"),
                username=_opt(row, "Username"),
            )
        )
    return out


def _parse_sections(f: CsvReader) -> list[SectionRow]:
    out: list[SectionRow] = []
    if not f.read_header(SECTION_REQUIRED + SECTION_HEADER_REQUIRED):
        return out
    seen: dict[str, int] = {}
    for line, row in f.rows():
        if not _required(f, line, row, SECTION_REQUIRED):
            continue
        if not _unique(f, line, "Section_id", row["Section_id"], seen):
            continue
        teacher_ids: list[str] = []
        for column in TEACHER_COLUMNS:
            value = row.get(column, "")
            if not value:
                continue
            if value in teacher_ids:
                f.error(line, column, f"{column} {value!r} is already a teacher of this section")
                continue
            teacher_ids.append(value)
        if teacher_ids and not row.get("Teacher_id"):
            f.error(line, "Teacher_id", "Teacher_id is required when co-teachers are given")
        out.append(
            SectionRow(
                line=line,
                school_id=row["School_id"],
                section_id=row["Section_id"],
                teacher_ids=teacher_ids,
                section_number=_opt(row, "Section_number"),
                name=_opt(row, "Name"),
                grade=_opt(row, "Grade"),
                course_name=_opt(row, "Course_name"),
                course_number=_opt(row, "Course_number"),
                course_description=_opt(row, "Course_description"),
                period=_opt(row, "Period"),
                subject=_opt(row, "Subject"),
                term_name=_opt(row, "Term_name"),
                term_start=_date(f, line, row, "Term_start"),
                term_end=_date(f, line, row, "Term_end"),
            )
        )
    return out


def _parse_enrollments(f: CsvReader) -> list[EnrollmentRow]:
    out: list[EnrollmentRow] = []
    if not f.read_header(ENROLLMENT_REQUIRED):
        return out
    seen: dict[tuple[str, str], int] = {}
    for line, row in f.rows():
        if not _required(f, line, row, ENROLLMENT_REQUIRED):
            continue
        key = (row["Section_id"], row["Student_id"])
        if key in seen:
            f.error(
                line,
                "Student_id",
                f"Student_id {key[1]!r} is already enrolled in Section_id {key[0]!r} "
                f"(line {seen[key]})",
            )
            continue
        seen[key] = line
        out.append(EnrollmentRow(line, row["School_id"], row["Section_id"], row["Student_id"]))
    return out


def _parse_staff(f: CsvReader) -> list[StaffRow]:
    out: list[StaffRow] = []
    if not f.read_header(STAFF_REQUIRED + STAFF_HEADER_REQUIRED):
        return out
    seen: dict[str, int] = {}
    for line, row in f.rows():
        if not _required(f, line, row, STAFF_REQUIRED):
            continue
        if not _unique(f, line, "Staff_id", row["Staff_id"], seen):
            continue
        out.append(
            StaffRow(
                line=line,
                staff_id=row["Staff_id"],
                first_name=row["First_name"],
                last_name=row["Last_name"],
                school_id=_opt(row, "School_id"),
                email=_opt(row, "Staff_email"),
                title=_opt(row, "Title"),
                username=_opt(row, "Username"),
                role=_opt(row, "Role"),
                department=_opt(row, "Department"),
            )
        )
    return out


def _check_references(roster: Roster, errors: list[CsvError]) -> None:
    schools = {s.school_id for s in roster.schools}
    students = {s.student_id: s for s in roster.students}
    teachers = {t.teacher_id for t in roster.teachers}
    sections = {s.section_id: s for s in roster.sections}

    def missing(file: str, line: int, column: str, value: str, target: str) -> None:
        errors.append(CsvError(file, line, column, f"{column} {value!r} is not in {target}"))

    for s in roster.students:
        if s.school_id not in schools:
            missing("students.csv", s.line, "School_id", s.school_id, "schools.csv")
    for t in roster.teachers:
        if t.school_id not in schools:
            missing("teachers.csv", t.line, "School_id", t.school_id, "schools.csv")
    for st in roster.staff:
        if st.school_id and st.school_id not in schools:
            missing("staff.csv", st.line, "School_id", st.school_id, "schools.csv")
    for sec in roster.sections:
        if sec.school_id not in schools:
            missing("sections.csv", sec.line, "School_id", sec.school_id, "schools.csv")
        for column, teacher_id in zip(TEACHER_COLUMNS, sec.teacher_ids, strict=False):
            if teacher_id not in teachers:
                missing("sections.csv", sec.line, column, teacher_id, "teachers.csv")
    for e in roster.enrollments:
        section = sections.get(e.section_id)
        if section is None:
            missing("enrollments.csv", e.line, "Section_id", e.section_id, "sections.csv")
        elif section.school_id != e.school_id:
            errors.append(
                CsvError(
                    "enrollments.csv",
                    e.line,
                    "School_id",
                    f"School_id {e.school_id!r} is not the school of Section_id "
                    f"{e.section_id!r} ({section.school_id!r} in sections.csv)",
                )
            )
        if e.student_id not in students:
            missing("enrollments.csv", e.line, "Student_id", e.student_id, "students.csv")


def parse_folder(folder: Path | str) -> Roster:
    """Parse and cross-check a district's CSV folder; raise CsvFormatError listing every problem."""
    folder = Path(folder)
    errors: list[CsvError] = []
    if not folder.is_dir():
        raise CsvFormatError([CsvError(str(folder), None, None, "is not a folder")])
    texts: dict[str, str | None] = {}
    for name in REQUIRED_FILES + OPTIONAL_FILES:
        path = folder / name
        if not path.exists():
            if name in REQUIRED_FILES:
                errors.append(CsvError(name, None, None, "the file is missing (it is required)"))
            texts[name] = None
            continue
        texts[name] = _decode(path, name, errors)

    def parse(name: str, fn: Callable[[CsvReader], list[Any]]) -> list[Any]:
        text = texts.get(name)
        return fn(CsvReader(name, text, errors)) if text is not None else []

    roster = Roster(
        schools=parse("schools.csv", _parse_schools),
        students=parse("students.csv", _parse_students),
        teachers=parse("teachers.csv", _parse_teachers),
        sections=parse("sections.csv", _parse_sections),
        enrollments=parse("enrollments.csv", _parse_enrollments),
        staff=parse("staff.csv", _parse_staff),
    )
    _check_references(roster, errors)
    if errors:
        raise CsvFormatError(errors)
    return roster


# The column rules CSV rostering applies row by row (``rostering.csvsource``), by public name.
required_present = _required
parse_date = _date
parse_choice = _choice
parse_contact = _contact
