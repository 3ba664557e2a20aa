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
  CRLF and quoted newlines as the csv module reads them) and handed on in batches; what a run
  must remember (the ids read, to check references and repeats with the line of each first
  occurrence; staff rows, to merge with teachers; terms and courses) is held on disk in a
  temporary SQLite database (``rostering.csvheld``), never in Python sets. ``close`` drops it.
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
from rostering.csvheld import Held
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
        # The ids read so far (valid or named by a skipped row), to check references.
        self.held = Held()

    def close(self) -> None:
        """Drop what the run held of the files (call once the engine is done with them)."""
        self.held.close()

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
        for line, row, problems in self._rows(name):
            sid = row.get("School_id", "")
            if not fmt.required_present(_Sink(problems, name), line, row, fmt.SCHOOL_REQUIRED):
                yield from self._skip(stats, "school", "sch", sid, name, line, problems)
                continue
            why = self._id_problem("sch", "School_id", sid) or _repeats(
                "School_id",
                sid,
                self.held.school_first(sid, line, row["School_name"], row["School_number"]),
            )
            if why:
                stats.skipped += 1
                self._report("school", "", name, line, f"{why}; row skipped")
                continue
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
            new = self.held.school_named(name, number)
            if old is None or new is None or old == new or self.held.school_known(old):
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
        errors: list[fmt.CsvError] = []
        with self._open("sections.csv") as text:
            reader = fmt.CsvReader("sections.csv", text, errors)
            reader.read_header(HEADER_REQUIRED["sections.csv"])
            for line, row in reader.rows():
                if not row.get("Section_id") or not row.get("School_id"):
                    continue
                term, course = self._section_term_course(row, line)
                sink = _Sink([], "sections.csv")
                if term and not self.held.term_known(term):
                    self.held.term_add(
                        term,
                        row.get("Term_name", ""),
                        fmt.parse_date(sink, line, row, "Term_start"),
                        fmt.parse_date(sink, line, row, "Term_end"),
                    )
                if course:
                    self.held.course_add(
                        course, row.get("Course_name", ""), row.get("Course_number", "")
                    )
        terms = (
            records.TermRecord(id=tid, name=name, start_date=start, end_date=end)
            for tid, name, start, end in self.held.terms()
        )
        yield from _in_batches("sections.csv (terms)", terms)

    def _course_batches(self) -> Iterator[Batch]:
        courses = (
            records.CourseRecord(id=cid, name=name, number=number)
            for cid, name, number in self.held.courses()
        )
        yield from _in_batches("sections.csv (courses)", courses)

    # --- users: teachers and staff (one id space), students and their contacts ----------------

    def _users(self) -> Iterator[Batch]:
        if "staff.csv" in self.files:
            self._read_staff()
        yield from self._batched("teachers.csv", self._teacher_items())
        if "staff.csv" in self.files:
            yield from self._batched("staff.csv", self._staff_items())
        yield from self._batched("students.csv", self._student_items())

    def _read_staff(self) -> None:
        """Hold the valid staff rows by Staff_id (a teacher with the same id is the same person)
        and the refused ones' reports, until the teachers are read."""
        name = "staff.csv"
        stats = self.stats[name]
        for line, row, problems in self._rows(name):
            sid = row.get("Staff_id", "")
            if not fmt.required_present(_Sink(problems, name), line, row, fmt.STAFF_REQUIRED):
                for _, _, (stored, why) in self._skip(
                    stats, "user", "tch", sid, name, line, problems
                ):
                    self.held.staff_reject(line, stored, why)
                if sid:
                    self.held.teacher_set(sid, "", replace=False)
                continue
            why = self._id_problem("tch", "Staff_id", sid) or _repeats(
                "Staff_id", sid, self.held.staff_row_first(sid, line)
            )
            if why:
                stats.skipped += 1
                self._report("user", "", name, line, f"{why}; row skipped")
                continue
            school = row.get("School_id", "")
            if school and not self.held.school_known(school):
                stats.skipped += 1
                self.held.teacher_set(sid, "", replace=False)
                _, _, (stored, why) = self._rejected(
                    sid, "tch", name, line, f"School_id {school!r} is not in schools.csv"
                )
                self.held.staff_reject(line, stored, why)
                continue
            self.held.staff_hold(sid, row)

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

    def _teacher_items(self) -> Iterator[tuple[int, str, Any]]:
        name = "teachers.csv"
        stats = self.stats[name]
        staff = "staff.csv" in self.files
        for line, row, problems in self._rows(name):
            tid = row.get("Teacher_id", "")
            if not fmt.required_present(_Sink(problems, name), line, row, fmt.TEACHER_REQUIRED):
                yield from self._skip(stats, "user", "tch", tid, name, line, problems)
                if tid:
                    self.held.teacher_set(tid, "", replace=False)
                continue
            why = self._id_problem("tch", "Teacher_id", tid) or _repeats(
                "Teacher_id", tid, self.held.teacher_row_first(tid, line)
            )
            if why:
                stats.skipped += 1
                self._report("user", "", name, line, f"{why}; row skipped")
                continue
            if not self.held.school_known(row["School_id"]):
                stats.skipped += 1
                self.held.teacher_set(tid, "")
                yield self._rejected(
                    tid, "tch", name, line, f"School_id {row['School_id']!r} is not in schools.csv"
                )
                continue
            self.held.teacher_set(tid, row["School_id"])
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
            # The same id in staff.csv: the same person.
            both = self.held.staff_take(tid) if staff else None
            if both is not None:
                roles.append(self._staff_role(both[1]))
                self.stats["staff.csv"].applied += 1
            stats.applied += 1
            stored = self._id("tch", tid)
            yield line, "record", self._user(stored, row, row.get("Teacher_email", ""), roles)

    def _staff_items(self) -> Iterator[tuple[int, str, Any]]:
        stats = self.stats["staff.csv"]
        for line, stored, why in self.held.staff_rejected():
            yield line, "rejected", (stored, why)
        for sid, line, row in self.held.staff_left():
            self.held.teacher_set(sid, row.get("School_id", ""))
            stats.applied += 1
            stored = self._id("tch", sid)
            role = self._staff_role(row)
            yield line, "record", self._user(stored, row, row.get("Staff_email", ""), [role])

    def _student_items(self) -> Iterator[tuple[int, str, Any]]:
        name = "students.csv"
        stats = self.stats[name]
        # A repeated student only adds a contact, and must agree with its first row (held: its
        # line and a digest of its own columns).
        own_columns = [c for c in fmt.STUDENT_OPTIONAL if c not in fmt.CONTACT_COLUMNS]
        for line, row, problems in self._rows(name):
            sink = _Sink(problems, name)
            sid = row.get("Student_id", "")
            if not fmt.required_present(sink, line, row, fmt.STUDENT_REQUIRED):
                yield from self._skip(stats, "user", "stu", sid, name, line, problems)
                if sid:
                    self.held.student_named(sid)
                continue
            stored = self._id("stu", sid)
            own = _digest(
                "\x1f".join(row.get(c, "") for c in (*fmt.STUDENT_REQUIRED, *own_columns))
            )
            # An id too long to store is never held, so it never repeats an earlier row.
            too_long = self._too_long("stu", sid)
            earlier = None if too_long else self.held.student_first(sid, line, own)
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
                if too_long:
                    stats.skipped += 1
                    self._report(
                        "user", "", name, line, f"Student_id {sid!r} is too long; row skipped"
                    )
                    continue
                if not self.held.school_known(row["School_id"]):
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
            if self.held.contact_new(cid):
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
        for line, row, problems in self._rows(name):
            sink = _Sink(problems, name)
            sec = row.get("Section_id", "")
            if not fmt.required_present(sink, line, row, fmt.SECTION_REQUIRED):
                yield from self._skip(stats, "section", "sec", sec, name, line, problems)
                continue
            school_fid = row["School_id"]
            why = self._id_problem("sec", "Section_id", sec) or _repeats(
                "Section_id", sec, self.held.section_first(sec, line, school_fid)
            )
            if why:
                stats.skipped += 1
                self._report("section", "", name, line, f"{why}; row skipped")
                continue
            stored = self._id("sec", sec)
            if not self.held.school_known(school_fid):
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
                primary = self.held.teacher_school(tid)
                if primary is None:
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
                if primary != school_fid and self.held.teacher_school_new(tid, school_fid):
                    # A teacher at several schools is linked to the others through sections.
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
                section_school = self.held.section_school(sec)
                if section_school is None:
                    why = f"Section_id {sec!r} is not in sections.csv"
                elif not self.held.student_known(student):
                    why = f"Student_id {student!r} is not in students.csv"
                elif section_school != row["School_id"]:
                    why = (
                        f"School_id {row['School_id']!r} is not the school of Section_id {sec!r} "
                        f"({section_school!r} in sections.csv)"
                    )
            if why:
                stats.skipped += 1
                self._report("enrollment", "", name, line, f"{why}; row skipped")
                continue
            stats.applied += 1
            yield line, "enrollments", (self._id("sec", sec), self._id("stu", student))

    # --- shared row rules ---------------------------------------------------------------------

    def _id_problem(self, kind: str, column: str, value: str) -> str:
        """Why a row's id is too long to store ("" when it is not). Checked before the id is
        remembered (``_repeats``): an id too long is never held, so it never repeats a row."""
        if self._too_long(kind, value):
            return f"{column} {value!r} is too long (at most {ID_MAX - len(self._id(kind, ''))})"
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


def _repeats(column: str, value: str, earlier: int | None) -> str:
    """Why a row's id cannot be taken for repeating line ``earlier`` ("" when it is new)."""
    if earlier is None:
        return ""
    return f"{column} {value!r} repeats line {earlier} (a duplicate id)"


def _in_batches(where: str, items: Iterator[Any]) -> Iterator[Batch]:
    """``items`` in batches of BATCH_ROWS (one empty batch when there are none)."""
    chunk: list[Any] = []
    handed = False
    for item in items:
        chunk.append(item)
        if len(chunk) >= BATCH_ROWS:
            yield Batch(where=where, records=chunk)
            chunk, handed = [], True
    if chunk or not handed:
        yield Batch(where=where, records=chunk)


class _Sink:
    """The minimal reader the column rules report into (``csvformat`` helpers call ``error``)."""

    def __init__(self, errors: list[fmt.CsvError], name: str) -> None:
        self.errors = errors
        self.name = name

    def error(self, line: int | None, column: str | None, message: str) -> None:
        self.errors.append(fmt.CsvError(self.name, line, column, message))
