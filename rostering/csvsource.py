"""The CSV roster source: a district's Clever-format files, read row by row as typed records.

``CsvSource`` implements ``rostering.sources.RosterSource`` over files opened from Django's
storage (``rostering.csvfiles``), so the sync engine merges them exactly as it merges Clever's
API: upsert by id, archive and restore on the same row, the mass-archive guard.

- **Ids are the files' own, scoped to the district**: stored as ``csv:<district pk>:<kind>:<id>``
  (``scoped_id``). A colon never appears in a Clever id, so CSV and Clever rows never collide;
  students (``stu``), teachers and staff (``tch``, one id space: the same id is one person with
  both roles) and contacts (``con``) each have their own space. The export's ``sis_id`` is the
  file's id (``file_id``).
- **Before anything is read** ``check`` refuses a missing required file or column, a file that
  is not UTF-8 (naming file and line) or has no header: the run stops before a row is staged.
- **A bad row** (a missing required value, an unknown school, section, teacher or student, a
  duplicate id) is reported with file, line and reason and skipped; a row that still names its
  record keeps what we hold for it (never archived for it). Grades outside Clever's list become
  Other and the row is reported.
- **Memory stays flat in the file size**: rows are streamed (``csv`` over a text stream, BOM,
  CRLF and quoted newlines as the csv module reads them) and handed on in batches; only the
  district's ids (to check references) and its staff rows (to merge with teachers) are held.
"""

from __future__ import annotations

import codecs
import hashlib
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from clever import records
from clever.grades import normalize_grade
from rostering import csvformat as fmt
from rostering.models import District, School
from rostering.sources import Batch
from rostering.sync.specs import ErrorSink

# Records handed to the engine per batch.
BATCH_ROWS = 5000
# The stored id column's width (Clever ids, User.clever_id).
ID_MAX = 64
Opener = Callable[[], IO[bytes]]

FILE_ORDER = (*fmt.REQUIRED_FILES, *fmt.OPTIONAL_FILES)
HEADER_REQUIRED = {
    "schools.csv": fmt.SCHOOL_REQUIRED,
    "students.csv": fmt.STUDENT_REQUIRED,
    "teachers.csv": fmt.TEACHER_REQUIRED,
    "sections.csv": fmt.SECTION_REQUIRED + fmt.SECTION_HEADER_REQUIRED,
    "enrollments.csv": fmt.ENROLLMENT_REQUIRED,
    "staff.csv": fmt.STAFF_REQUIRED + fmt.STAFF_HEADER_REQUIRED,
}
# Kinds whose id is derived (a digest), not a file's id: they export no sis_id.
_DERIVED_KINDS = {"trm", "crn", "coh"}


def scoped_id(district_pk: int, kind: str, file_id: str) -> str:
    """The stored id of a file's record: ``csv:<district pk>:<kind>:<file id>``."""
    return f"csv:{district_pk}:{kind}:{file_id}"


def file_id(stored: str) -> str | None:
    """The file's own id behind a stored CSV id (None for derived ids and Clever ids)."""
    parts = stored.split(":", 3)
    if len(parts) != 4 or parts[0] != "csv" or parts[2] in _DERIVED_KINDS:
        return None
    return parts[3]


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]


@dataclass
class FileStats:
    """What a run did with one file's rows."""

    read: int = 0
    applied: int = 0
    skipped: int = 0


@dataclass
class _Pending:
    """A batch being filled."""

    name: str
    first_line: int = 0
    last_line: int = 0
    records: list[Any] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)

    def size(self) -> int:
        return len(self.records) + len(self.rejected) + sum(len(v) for v in self.rows.values())

    def batch(self) -> Batch:
        lines = f" lines {self.first_line}-{self.last_line}" if self.first_line else ""
        return Batch(
            where=f"{self.name}{lines}",
            records=self.records,
            rejected=self.rejected,
            rows=self.rows,
        )


def _utf8_problem(name: str, stream: IO[bytes]) -> str | None:
    """Why the file cannot be read as UTF-8 (naming its line), or None."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    while True:
        chunk = stream.read(1 << 20)
        if not chunk:
            break
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            at = max(0, min(exc.start, len(chunk) - 1))
            where = line + chunk[:at].count(b"\n")
            return (
                f"{name} line {where}: the file is not UTF-8 (byte 0x{chunk[at]:02x} cannot be "
                "read); export it as UTF-8 and upload it again"
            )
        line += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return f"{name} line {line}: the file is not UTF-8 (it ends inside a character)"
    return None


class CsvSource:
    """One CSV district's roster from its files (``files``: name -> opener of the bytes)."""

    def __init__(
        self,
        *,
        district: District,
        files: dict[str, Opener],
        log: ErrorSink,
        roles: tuple[str, ...] = records.ROLE_NAMES,
    ) -> None:
        self.district_row = district
        self.files = files
        self.log = log
        self.roles = roles
        self.stats: dict[str, FileStats] = {name: FileStats() for name in files}
        self.notes: list[str] = []
        # File ids seen (valid or named by a skipped row), to check references.
        self.school_ids: set[str] = set()
        # Teacher and staff ids -> their primary school's file id ("" for none).
        self.teacher_ids: dict[str, str] = {}
        self.student_ids: set[str] = set()
        self.section_school: dict[str, str] = {}
        self._courses: list[records.CourseRecord] = []

    # --- ids and reports ---------------------------------------------------------------------

    def _id(self, kind: str, value: str) -> str:
        return scoped_id(self.district_row.pk, kind, value)

    def _too_long(self, kind: str, value: str) -> bool:
        return len(self._id(kind, value)) > ID_MAX

    def _report(self, record_type: str, stored: str, file: str, line: int, why: str) -> None:
        self.log.append((record_type, stored, f"{file} line {line}: {why}"))

    # --- checks before anything is read -----------------------------------------------------

    def check(self) -> list[str]:
        """Every problem that must stop the run before a row is read ([] when none)."""
        problems = []
        for name in fmt.REQUIRED_FILES:
            if name not in self.files:
                problems.append(f"{name}: the file is missing (it is required)")
        for name in FILE_ORDER:
            if name not in self.files:
                continue
            with self.files[name]() as stream:
                bad = _utf8_problem(name, stream)
            if bad:
                problems.append(bad)
                continue
            errors: list[fmt.CsvError] = []
            with self._open(name) as text:
                fmt.CsvReader(name, text, errors).read_header(HEADER_REQUIRED[name])
            problems.extend(str(e) for e in errors)
        return problems

    @contextmanager
    def _open(self, name: str) -> Iterator[io.TextIOWrapper]:
        with self.files[name]() as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            try:
                yield text
            finally:
                text.detach()

    def _rows(self, name: str) -> Iterator[tuple[int, dict[str, str], list[fmt.CsvError]]]:
        """(line, row, problems the column rules found in it) for each data row of ``name``."""
        errors: list[fmt.CsvError] = []
        with self._open(name) as text:
            reader = fmt.CsvReader(name, text, errors)
            reader.read_header(HEADER_REQUIRED[name])
            errors.clear()
            stats = self.stats[name]
            for line, row in reader.rows():
                self._reader_errors(name, errors)
                stats.read += 1
                yield line, row, errors
                errors.clear()
            self._reader_errors(name, errors)

    def _reader_errors(self, name: str, errors: list[fmt.CsvError]) -> None:
        """Rows the reader itself refused (too many values) are skipped; a malformed file stops
        the run: the rest of it was not read, so nothing it did not show may be archived."""
        for error in errors:
            if error.message.startswith("malformed CSV"):
                raise fmt.CsvFormatError(
                    [
                        fmt.CsvError(
                            error.file,
                            error.line,
                            None,
                            f"{error.message}; the file cannot be read to its end, so the run "
                            "stopped before writing anything",
                        )
                    ]
                )
            self.stats[name].read += 1
            self.stats[name].skipped += 1
            self.log.append(("row", "", f"{error}; row skipped"))
        errors.clear()

    # --- RosterSource ------------------------------------------------------------------------

    def district(self) -> records.DistrictRecord:
        """The district's own record (its name is ours: the files carry none)."""
        return records.DistrictRecord(id=self.district_row.clever_id, name=self.district_row.name)

    def latest_event_id(self) -> str:
        """CSV files have no change feed."""
        return ""

    def batches(self, name: str) -> Iterator[Batch]:
        """Every record of type ``name``, from the file(s) it comes from."""
        yield from {
            "schools": self._schools,
            "terms": self._terms,
            "courses": self._course_batches,
            "users": self._users,
            "sections": self._sections,
        }[name]()

    def _batched(self, name: str, items: Iterator[tuple[int, str, Any]]) -> Iterator[Batch]:
        """Batches from (line, kind, item): kind "record", "rejected" or a staged row type."""
        pending = _Pending(name)
        for line, kind, item in items:
            if not pending.first_line:
                pending.first_line = line
            pending.last_line = line
            if kind == "record":
                pending.records.append(item)
            elif kind == "rejected":
                pending.rejected.append(item)
            else:
                pending.rows.setdefault(kind, []).append(item)
            if pending.size() >= BATCH_ROWS:
                yield pending.batch()
                pending = _Pending(name)
        if pending.size() or not pending.first_line:
            yield pending.batch()

    # --- schools -------------------------------------------------------------------------------

    def _schools(self) -> Iterator[Batch]:
        yield from self._batched("schools.csv", self._school_items())
        self._note_school_id_changes()

    def _school_items(self) -> Iterator[tuple[int, str, Any]]:
        name = "schools.csv"
        stats = self.stats[name]
        seen: dict[str, int] = {}
        self._school_keys: dict[tuple[str, str], str] = {}
        for line, row, problems in self._rows(name):
            sid = row.get("School_id", "")
            if not fmt.required_present(_Sink(problems, name), line, row, fmt.SCHOOL_REQUIRED):
                yield from self._skip(stats, "school", "sch", sid, name, line, problems)
                continue
            why = self._id_problem("sch", "School_id", sid, seen, line)
            if why:
                stats.skipped += 1
                self._report("school", "", name, line, f"{why}; row skipped")
                continue
            self.school_ids.add(sid)
            self._school_keys[(row["School_name"], row["School_number"])] = sid
            low, high = row.get("Low_grade", ""), row.get("High_grade", "")
            for column, value in (("Low_grade", low), ("High_grade", high)):
                self._grade_note("school", self._id("sch", sid), name, line, column, value)
            stats.applied += 1
            yield (
                line,
                "record",
                records.SchoolRecord(
                    id=self._id("sch", sid),
                    name=row["School_name"],
                    sis_id=sid,
                    school_number=row["School_number"],
                    state_id=row.get("State_id", ""),
                    nces_id=row.get("NCES_id", ""),
                    low_grade=normalize_grade(low),
                    high_grade=normalize_grade(high),
                ),
            )

    def _note_school_id_changes(self) -> None:
        """Say in words when a school (same name and number) comes back under a new id."""
        held = School.objects.filter(district=self.district_row, archived_at__isnull=True)
        for old_cid, name, number in held.values_list("clever_id", "name", "school_number"):
            old = file_id(old_cid)
            new = self._school_keys.get((name, number))
            if old is None or new is None or old == new or old in self.school_ids:
                continue
            self.notes.append(
                f"School {name!r} (number {number}) changed id from {old!r} to {new!r} between "
                f"exports: the old school and what only it held are archived, the new one added."
            )

    # --- terms and courses, from the section columns --------------------------------------------

    def _section_term_course(
        self, row: dict[str, str], line: int, sink: _Sink | None = None
    ) -> tuple[str, str]:
        term = course = ""
        sink = sink or _Sink([], "sections.csv")
        start = fmt.parse_date(sink, line, row, "Term_start")
        end = fmt.parse_date(sink, line, row, "Term_end")
        term_name = row.get("Term_name", "")
        if term_name or start or end:
            term = self._id("trm", _digest(f"{term_name}|{start or ''}|{end or ''}"))
        number, cname = row.get("Course_number", ""), row.get("Course_name", "")
        if number and not self._too_long("crs", number):
            course = self._id("crs", number)
        elif number or cname:
            # Clever keys a course on its number when given, else on its name.
            course = self._id("crn", _digest(number or cname))
        return term, course

    def _terms(self) -> Iterator[Batch]:
        terms: list[records.TermRecord] = []
        seen_terms: set[str] = set()
        seen_courses: set[str] = set()
        self._courses = []
        errors: list[fmt.CsvError] = []
        with self._open("sections.csv") as text:
            reader = fmt.CsvReader("sections.csv", text, errors)
            reader.read_header(HEADER_REQUIRED["sections.csv"])
            for line, row in reader.rows():
                if not row.get("Section_id") or not row.get("School_id"):
                    continue
                term, course = self._section_term_course(row, line)
                sink = _Sink([], "sections.csv")
                if term and term not in seen_terms:
                    seen_terms.add(term)
                    terms.append(
                        records.TermRecord(
                            id=term,
                            name=row.get("Term_name", ""),
                            start_date=fmt.parse_date(sink, line, row, "Term_start"),
                            end_date=fmt.parse_date(sink, line, row, "Term_end"),
                        )
                    )
                if course and course not in seen_courses:
                    seen_courses.add(course)
                    self._courses.append(
                        records.CourseRecord(
                            id=course,
                            name=row.get("Course_name", ""),
                            number=row.get("Course_number", ""),
                        )
                    )
        for i in range(0, max(len(terms), 1), BATCH_ROWS):
            yield Batch(where="sections.csv (terms)", records=terms[i : i + BATCH_ROWS])

    def _course_batches(self) -> Iterator[Batch]:
        courses, self._courses = self._courses, []
        for i in range(0, max(len(courses), 1), BATCH_ROWS):
            yield Batch(where="sections.csv (courses)", records=courses[i : i + BATCH_ROWS])

    # --- users: teachers and staff (one id space), students and their contacts ----------------

    def _users(self) -> Iterator[Batch]:
        staff = self._read_staff() if "staff.csv" in self.files else {}
        yield from self._batched("teachers.csv", self._teacher_items(staff))
        if "staff.csv" in self.files:
            yield from self._batched("staff.csv", self._staff_items(staff))
        yield from self._batched("students.csv", self._student_items())

    def _read_staff(self) -> dict[str, tuple[int, dict[str, str]]]:
        """Valid staff rows by Staff_id (held: a teacher with the same id is the same person)."""
        name = "staff.csv"
        stats = self.stats[name]
        out: dict[str, tuple[int, dict[str, str]]] = {}
        seen: dict[str, int] = {}
        self._staff_rejected: list[tuple[int, str, Any]] = []
        for line, row, problems in self._rows(name):
            sid = row.get("Staff_id", "")
            if not fmt.required_present(_Sink(problems, name), line, row, fmt.STAFF_REQUIRED):
                self._staff_rejected.extend(
                    self._skip(stats, "user", "tch", sid, name, line, problems)
                )
                if sid:
                    self.teacher_ids.setdefault(sid, "")
                continue
            why = self._id_problem("tch", "Staff_id", sid, seen, line)
            if why:
                stats.skipped += 1
                self._report("user", "", name, line, f"{why}; row skipped")
                continue
            school = row.get("School_id", "")
            if school and school not in self.school_ids:
                stats.skipped += 1
                self.teacher_ids.setdefault(sid, "")
                self._staff_rejected.append(
                    self._rejected(
                        sid, "tch", name, line, f"School_id {school!r} is not in schools.csv"
                    )
                )
                continue
            out[sid] = (line, row)
        return out

    def _rejected(
        self, value: str, kind: str, file: str, line: int, why: str
    ) -> tuple[int, str, Any]:
        return (
            line,
            "rejected",
            (
                self._id(kind, value),
                f"{file} line {line}: {why}; row skipped (what we hold for it is kept)",
            ),
        )

    def _staff_role(self, row: dict[str, str]) -> records.RoleRecord:
        school = row.get("School_id", "")
        cid = self._id("sch", school) if school else ""
        return records.RoleRecord(
            role="staff",
            school=cid,
            schools=(cid,) if cid else (),
            sis_id=row["Staff_id"],
            number=row["Staff_id"],
            district_username=row.get("Username", ""),
            title=row.get("Title", ""),
        )

    def _user(self, stored: str, row: dict[str, str], email: str, roles: list[Any]) -> Any:
        kept = tuple(r for r in roles if r.role in self.roles)
        return records.UserRecord(
            id=stored,
            first_name=row.get("First_name", ""),
            last_name=row.get("Last_name", ""),
            middle_name=row.get("Middle_name", ""),
            email=email,
            roles=kept,
            district=self.district_row.clever_id,
        )

    def _teacher_items(
        self, staff: dict[str, tuple[int, dict[str, str]]]
    ) -> Iterator[tuple[int, str, Any]]:
        name = "teachers.csv"
        stats = self.stats[name]
        seen: dict[str, int] = {}
        for line, row, problems in self._rows(name):
            tid = row.get("Teacher_id", "")
            if not fmt.required_present(_Sink(problems, name), line, row, fmt.TEACHER_REQUIRED):
                yield from self._skip(stats, "user", "tch", tid, name, line, problems)
                if tid:
                    self.teacher_ids.setdefault(tid, "")
                continue
            why = self._id_problem("tch", "Teacher_id", tid, seen, line)
            if why:
                stats.skipped += 1
                self._report("user", "", name, line, f"{why}; row skipped")
                continue
            if row["School_id"] not in self.school_ids:
                stats.skipped += 1
                self.teacher_ids[tid] = ""
                yield self._rejected(
                    tid, "tch", name, line, f"School_id {row['School_id']!r} is not in schools.csv"
                )
                continue
            self.teacher_ids[tid] = row["School_id"]
            school = self._id("sch", row["School_id"])
            roles: list[Any] = [
                records.RoleRecord(
                    role="teacher",
                    school=school,
                    schools=(school,),
                    sis_id=tid,
                    number=row.get("Teacher_number", ""),
                    state_id=row.get("State_teacher_id", ""),
                    district_username=row.get("Username", ""),
                    title=row.get("Title", ""),
                )
            ]
            both = staff.pop(tid, None)  # the same id in staff.csv: the same person
            if both is not None:
                roles.append(self._staff_role(both[1]))
                self.stats["staff.csv"].applied += 1
            stats.applied += 1
            stored = self._id("tch", tid)
            yield line, "record", self._user(stored, row, row.get("Teacher_email", ""), roles)

    def _staff_items(
        self, staff: dict[str, tuple[int, dict[str, str]]]
    ) -> Iterator[tuple[int, str, Any]]:
        stats = self.stats["staff.csv"]
        yield from self._staff_rejected
        for sid, (line, row) in staff.items():
            self.teacher_ids[sid] = row.get("School_id", "")
            stats.applied += 1
            stored = self._id("tch", sid)
            role = self._staff_role(row)
            yield line, "record", self._user(stored, row, row.get("Staff_email", ""), [role])

    def _student_items(self) -> Iterator[tuple[int, str, Any]]:
        name = "students.csv"
        stats = self.stats[name]
        # Student_id -> (first line, digest of its own columns): a repeated student only adds
        # a contact, and must agree with its first row.
        first: dict[str, tuple[int, str]] = {}
        contacts_seen: set[str] = set()
        own_columns = [c for c in fmt.STUDENT_OPTIONAL if c not in fmt.CONTACT_COLUMNS]
        for line, row, problems in self._rows(name):
            sink = _Sink(problems, name)
            sid = row.get("Student_id", "")
            if not fmt.required_present(sink, line, row, fmt.STUDENT_REQUIRED):
                yield from self._skip(stats, "user", "stu", sid, name, line, problems)
                if sid:
                    self.student_ids.add(sid)
                continue
            stored = self._id("stu", sid)
            own = _digest(
                "\x1f".join(row.get(c, "") for c in (*fmt.STUDENT_REQUIRED, *own_columns))
            )
            earlier = first.get(sid)
            if earlier is not None:
                if earlier[1] != own:
                    stats.skipped += 1
                    self._report(
                        "user",
                        stored,
                        name,
                        line,
                        f"Student_id {sid!r} repeats line {earlier[0]} with different student "
                        "columns (repeat a student only to add a contact); row skipped",
                    )
                    continue
            else:
                if self._too_long("stu", sid):
                    stats.skipped += 1
                    self._report(
                        "user", "", name, line, f"Student_id {sid!r} is too long; row skipped"
                    )
                    continue
                first[sid] = (line, own)
                self.student_ids.add(sid)
                if row["School_id"] not in self.school_ids:
                    stats.skipped += 1
                    yield self._rejected(
                        sid,
                        "stu",
                        name,
                        line,
                        f"School_id {row['School_id']!r} is not in schools.csv",
                    )
                    continue
                grade_raw = row.get("Grade", "")
                self._grade_note("user", stored, name, line, "Grade", grade_raw)
                school = self._id("sch", row["School_id"])
                role = records.RoleRecord(
                    role="student",
                    school=school,
                    schools=(school,),
                    sis_id=sid,
                    number=row.get("Student_number", ""),
                    state_id=row.get("State_id", ""),
                    district_username=row.get("Username", ""),
                    grade=normalize_grade(grade_raw),
                    grade_raw=grade_raw,
                )
                yield line, "record", self._user(stored, row, row.get("Student_email", ""), [role])
            problems.clear()
            contact = fmt.parse_contact(sink, line, row)
            for problem in problems:
                self._report("user", stored, name, line, f"{problem.message}; contact skipped")
            if earlier is not None and contact is None:
                if not problems:
                    stats.skipped += 1
                    self._report(
                        "user",
                        stored,
                        name,
                        line,
                        f"Student_id {sid!r} repeats line {earlier[0]} without a contact "
                        "(a duplicate id); row skipped",
                    )
                else:
                    stats.skipped += 1
                continue
            stats.applied += 1
            if contact is None or "contact" not in self.roles:
                continue
            ckind, ckey = (
                ("con", contact.sis_id) if contact.sis_id else ("coh", _digest(contact.key))
            )
            if self._too_long(ckind, ckey):
                ckind, ckey = "coh", _digest(contact.key)
            cid = self._id(ckind, ckey)
            if cid not in contacts_seen:
                contacts_seen.add(cid)
                first_name, _, last_name = contact.name.rpartition(" ")
                yield (
                    line,
                    "record",
                    records.UserRecord(
                        id=cid,
                        first_name=first_name or last_name,
                        last_name=last_name if first_name else "",
                        middle_name="",
                        email=contact.email or "",
                        roles=(records.RoleRecord(role="contact", sis_id=contact.sis_id or ""),),
                        district=self.district_row.clever_id,
                    ),
                )
            yield (
                line,
                "contact_relationships",
                (cid, stored, contact.relationship or "", contact.type),
            )

    # --- sections, their teachers and enrolments ---------------------------------------------

    def _sections(self) -> Iterator[Batch]:
        yield from self._batched("sections.csv", self._section_items())
        yield from self._batched("enrollments.csv", self._enrollment_items())

    def _section_items(self) -> Iterator[tuple[int, str, Any]]:
        name = "sections.csv"
        stats = self.stats[name]
        seen: dict[str, int] = {}
        teacher_schools: set[tuple[str, str]] = set()
        for line, row, problems in self._rows(name):
            sink = _Sink(problems, name)
            sec = row.get("Section_id", "")
            if not fmt.required_present(sink, line, row, fmt.SECTION_REQUIRED):
                yield from self._skip(stats, "section", "sec", sec, name, line, problems)
                continue
            why = self._id_problem("sec", "Section_id", sec, seen, line)
            if why:
                stats.skipped += 1
                self._report("section", "", name, line, f"{why}; row skipped")
                continue
            stored = self._id("sec", sec)
            school_fid = row["School_id"]
            self.section_school[sec] = school_fid
            if school_fid not in self.school_ids:
                stats.skipped += 1
                yield self._rejected(
                    sec, "sec", name, line, f"School_id {school_fid!r} is not in schools.csv"
                )
                continue
            school = self._id("sch", school_fid)
            teachers: list[str] = []
            for column in fmt.TEACHER_COLUMNS:
                tid = row.get(column, "")
                if not tid or self._id("tch", tid) in teachers:
                    continue
                if tid not in self.teacher_ids:
                    self._report(
                        "section",
                        stored,
                        name,
                        line,
                        f"{column} {tid!r} is not in teachers.csv or staff.csv; that teacher is "
                        "left out of the section",
                    )
                    continue
                teachers.append(self._id("tch", tid))
                if self.teacher_ids[tid] != school_fid and (tid, school_fid) not in teacher_schools:
                    # A teacher at several schools is linked to the others through sections.
                    teacher_schools.add((tid, school_fid))
                    yield line, "user_schools", (self._id("tch", tid), school, "teacher")
            grade_raw = row.get("Grade", "")
            self._grade_note("section", stored, name, line, "Grade", grade_raw)
            term, course = self._section_term_course(row, line, sink)
            for problem in problems:
                self._report("section", stored, name, line, problem.message)
            stats.applied += 1
            section_name = row.get("Name") or " - ".join(
                p
                for p in (row.get("Course_name") or row.get("Course_number"), row.get("Period"))
                if p
            )
            yield (
                line,
                "record",
                records.SectionRecord(
                    id=stored,
                    school=school,
                    course=course,
                    term=term,
                    name=section_name,
                    sis_id=sec,
                    section_number=row.get("Section_number", ""),
                    period=row.get("Period", ""),
                    subject=row.get("Subject", ""),
                    grade=normalize_grade(grade_raw),
                    grade_raw=grade_raw,
                    teachers=tuple(teachers),
                    students=(),
                ),
            )

    def _enrollment_items(self) -> Iterator[tuple[int, str, Any]]:
        name = "enrollments.csv"
        stats = self.stats[name]
        for line, row, problems in self._rows(name):
            sink = _Sink(problems, name)
            why = ""
            if not fmt.required_present(sink, line, row, fmt.ENROLLMENT_REQUIRED):
                why = "; ".join(p.message for p in problems)
            else:
                sec, student = row["Section_id"], row["Student_id"]
                if sec not in self.section_school:
                    why = f"Section_id {sec!r} is not in sections.csv"
                elif student not in self.student_ids:
                    why = f"Student_id {student!r} is not in students.csv"
                elif self.section_school[sec] != row["School_id"]:
                    why = (
                        f"School_id {row['School_id']!r} is not the school of Section_id {sec!r} "
                        f"({self.section_school[sec]!r} in sections.csv)"
                    )
            if why:
                stats.skipped += 1
                self._report("enrollment", "", name, line, f"{why}; row skipped")
                continue
            stats.applied += 1
            yield line, "enrollments", (self._id("sec", sec), self._id("stu", student))

    # --- shared row rules ---------------------------------------------------------------------

    def _id_problem(
        self, kind: str, column: str, value: str, seen: dict[str, int], line: int
    ) -> str:
        """Why a row's id cannot be taken ("" when it can); remembers it."""
        if value in seen:
            return f"{column} {value!r} repeats line {seen[value]} (a duplicate id)"
        if self._too_long(kind, value):
            return f"{column} {value!r} is too long (at most {ID_MAX - len(self._id(kind, ''))})"
        seen[value] = line
        return ""

    def _skip(
        self,
        stats: FileStats,
        record_type: str,
        kind: str,
        value: str,
        file: str,
        line: int,
        problems: list[fmt.CsvError],
    ) -> Iterator[tuple[int, str, Any]]:
        """Report a row missing required values; keep what we hold when it names its id."""
        stats.skipped += 1
        why = "; ".join(p.message for p in problems) + "; row skipped"
        if value and not self._too_long(kind, value):
            yield (
                line,
                "rejected",
                (
                    self._id(kind, value),
                    f"{file} line {line}: {why} (what we hold for it is kept)",
                ),
            )
        else:
            self._report(record_type, "", file, line, why)

    def _grade_note(
        self, record_type: str, stored: str, file: str, line: int, column: str, raw: str
    ) -> None:
        if raw and normalize_grade(raw) == "Other" and raw.strip().lower() != "other":
            self._report(
                record_type,
                stored,
                file,
                line,
                f"{column} {raw!r} is not one of Clever's grades; stored as Other",
            )


class _Sink:
    """The minimal reader the column rules report into (``csvformat`` helpers call ``error``)."""

    def __init__(self, errors: list[fmt.CsvError], name: str) -> None:
        self.errors = errors
        self.name = name

    def error(self, line: int | None, column: str | None, message: str) -> None:
        self.errors.append(fmt.CsvError(self.name, line, column, message))
