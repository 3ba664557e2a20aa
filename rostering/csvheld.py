"""What a CSV run remembers of the files it has read, in a temporary SQLite database on disk.

Why SQL here: to check a row's references (an unknown school, section, teacher or student) and
its repeats (a duplicate id, a student repeated with other columns) with the file and line of the
first occurrence, a run must remember every id it has read. Held in Python sets and dicts that
grows with the files (about 400 bytes a student); here SQLite keeps a bounded page cache
(``CACHE_KIB``) and spills the rest to a file of its own (a private temporary database, removed
when it is closed), so a run's memory is the same for 10,000 students or a million. Each check is
one prepared statement on one connection, a few microseconds; nothing is committed (the data
lives only for the run). ``rostering.csvsource.CsvSource`` is the only user.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sqlite3
from collections.abc import Iterator

# SQLite's page cache for the run's ids: big enough that a typical district never touches the
# file, small enough to be noise beside the sync's own memory.
CACHE_KIB = 4096
_FETCH = 1000
# Answers remembered in memory for lookups made only once their table is read whole (a school,
# a section or a teacher, asked for each student, enrolment or section): bounded, and a
# district's schools, sections and teachers usually fit.
_MEMO = 4096

_SCHEMA = """
CREATE TABLE schools (id TEXT PRIMARY KEY, line INTEGER, name TEXT, number TEXT) WITHOUT ROWID;
CREATE INDEX schools_key ON schools (name, number, line);
CREATE TABLE teacher_rows (id TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID;
CREATE TABLE staff_rows (id TEXT PRIMARY KEY, line INTEGER, row TEXT) WITHOUT ROWID;
CREATE TABLE staff_rejected (line INTEGER, id TEXT, why TEXT);
CREATE TABLE teachers (id TEXT PRIMARY KEY, school TEXT) WITHOUT ROWID;
CREATE TABLE students (id TEXT PRIMARY KEY, line INTEGER, digest TEXT) WITHOUT ROWID;
CREATE TABLE contacts (id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE sections (id TEXT PRIMARY KEY, line INTEGER, school TEXT) WITHOUT ROWID;
CREATE TABLE teacher_schools (
    teacher TEXT, school TEXT, PRIMARY KEY (teacher, school)
) WITHOUT ROWID;
CREATE TABLE terms (id TEXT UNIQUE, name TEXT, start_date TEXT, end_date TEXT);
CREATE TABLE courses (id TEXT UNIQUE, name TEXT, number TEXT);
"""
# Per id table: (remember an id with its line and columns, the line it was first read at).
_FIRST = {
    "schools": (
        "INSERT INTO schools VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        "SELECT line FROM schools WHERE id = ?",
    ),
    "teacher_rows": (
        "INSERT INTO teacher_rows VALUES (?, ?) ON CONFLICT DO NOTHING",
        "SELECT line FROM teacher_rows WHERE id = ?",
    ),
    "staff_rows": (
        "INSERT INTO staff_rows VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        "SELECT line FROM staff_rows WHERE id = ?",
    ),
    "sections": (
        "INSERT INTO sections VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        "SELECT line FROM sections WHERE id = ?",
    ),
}
_TEACHER_SET = (
    "INSERT INTO teachers VALUES (?, ?) ON CONFLICT DO UPDATE SET school = excluded.school"
)
_TEACHER_SETDEFAULT = "INSERT INTO teachers VALUES (?, ?) ON CONFLICT DO NOTHING"


class Held:
    """One run's ids and held rows (a private temporary SQLite database; ``close`` drops it)."""

    def __init__(self) -> None:
        # "" opens a private temporary database: in the page cache while small, else in a file
        # SQLite removes itself. No journal and no fsync: nothing here outlives the run.
        self._db = sqlite3.connect("", isolation_level=None)
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        self._db.executescript(_SCHEMA)
        self._db.execute("BEGIN")
        self._cur = self._db.cursor()
        self.school_known = functools.lru_cache(maxsize=_MEMO)(self._school_known)
        self.teacher_school = functools.lru_cache(maxsize=_MEMO)(self._teacher_school)
        self.section_school = functools.lru_cache(maxsize=_MEMO)(self._section_school)

    def close(self) -> None:
        """Drop the database (its file, if it had one, goes with it)."""
        self._db.close()

    def _insert(self, sql: str, params: tuple[object, ...]) -> bool:
        """Run an INSERT ... ON CONFLICT DO NOTHING; whether it added the row."""
        self._cur.execute(sql, params)
        return self._cur.rowcount == 1

    def _one(self, sql: str, params: tuple[object, ...]) -> tuple | None:
        return self._cur.execute(sql, params).fetchone()

    def _first_line(self, table: str, value: str, line: int, *extra: str | None) -> int | None:
        """Remember ``value`` first read at ``line`` (None), or the line it was first read at."""
        insert, select = _FIRST[table]
        if self._insert(insert, (value, line, *extra)):
            return None
        found = self._one(select, (value,))
        assert found is not None
        return found[0]

    # --- schools.csv ---------------------------------------------------------------------------

    def school_first(self, sid: str, line: int, name: str, number: str) -> int | None:
        """Take a school's row (None), or the line its id was first read at."""
        return self._first_line("schools", sid, line, name, number)

    def _school_known(self, sid: str) -> bool:
        """Whether schools.csv gave the school (``school_known``: asked once it is read)."""
        return self._one("SELECT 1 FROM schools WHERE id = ?", (sid,)) is not None

    def school_named(self, name: str, number: str) -> str | None:
        """The id of the last school row with this name and number (None when none)."""
        found = self._one(
            "SELECT id FROM schools WHERE name = ? AND number = ? ORDER BY line DESC LIMIT 1",
            (name, number),
        )
        return found[0] if found else None

    # --- teachers.csv and staff.csv (one id space) ----------------------------------------------

    def teacher_row_first(self, tid: str, line: int) -> int | None:
        """Take a teachers.csv row's id (None), or the line it was first read at."""
        return self._first_line("teacher_rows", tid, line)

    def staff_row_first(self, sid: str, line: int) -> int | None:
        """Take a staff.csv row's id (None), or the line it was first read at."""
        return self._first_line("staff_rows", sid, line, None)

    def staff_hold(self, sid: str, row: dict[str, str]) -> None:
        """Keep a valid staff row until the teachers are read (the same id: the same person)."""
        self._cur.execute("UPDATE staff_rows SET row = ? WHERE id = ?", (json.dumps(row), sid))

    def staff_take(self, tid: str) -> tuple[int, dict[str, str]] | None:
        """The held staff row (line, row) of a teacher with the same id, no longer held."""
        found = self._one(
            "SELECT line, row FROM staff_rows WHERE id = ? AND row IS NOT NULL", (tid,)
        )
        if found is None:
            return None
        self._cur.execute("UPDATE staff_rows SET row = NULL WHERE id = ?", (tid,))
        return found[0], json.loads(found[1])

    def staff_left(self) -> Iterator[tuple[str, int, dict[str, str]]]:
        """(id, line, row) of each held staff row no teacher took, in file order."""
        rows = self._db.execute(
            "SELECT id, line, row FROM staff_rows WHERE row IS NOT NULL ORDER BY line"
        )
        while chunk := rows.fetchmany(_FETCH):
            for sid, line, row in chunk:
                yield sid, line, json.loads(row)

    def staff_reject(self, line: int, stored: str, why: str) -> None:
        """Keep a refused staff row's report until the staff are handed on."""
        self._cur.execute("INSERT INTO staff_rejected VALUES (?, ?, ?)", (line, stored, why))

    def staff_rejected(self) -> Iterator[tuple[int, str, str]]:
        """(line, stored id, why) of each refused staff row, in file order."""
        rows = self._db.execute("SELECT line, id, why FROM staff_rejected ORDER BY rowid")
        while chunk := rows.fetchmany(_FETCH):
            yield from chunk

    def teacher_set(self, tid: str, school: str, *, replace: bool = True) -> None:
        """A teacher or staff id and its primary school's file id ("" for none); ``replace``
        False keeps a school already set."""
        self._cur.execute(_TEACHER_SET if replace else _TEACHER_SETDEFAULT, (tid, school))

    def _teacher_school(self, tid: str) -> str | None:
        """A teacher or staff id's primary school ("" for none); None: not in either file
        (``teacher_school``: asked once both are read)."""
        found = self._one("SELECT school FROM teachers WHERE id = ?", (tid,))
        return found[0] if found else None

    # --- students.csv -----------------------------------------------------------------------

    def student_named(self, sid: str) -> None:
        """A student id named by a row that was skipped (enrolments naming it are not refused)."""
        self._cur.execute(
            "INSERT INTO students VALUES (?, NULL, NULL) ON CONFLICT DO NOTHING", (sid,)
        )

    def student_first(self, sid: str, line: int, digest: str) -> tuple[int, str] | None:
        """Take a student's first row (None), or (line, digest of its columns) of that row."""
        if self._insert(
            "INSERT INTO students VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET line = excluded.line,"
            " digest = excluded.digest WHERE line IS NULL",
            (sid, line, digest),
        ):
            return None
        return self._one("SELECT line, digest FROM students WHERE id = ?", (sid,))

    def contact_new(self, cid: str) -> bool:
        """Whether a contact's stored id is read for the first time (and remember it)."""
        return self._insert("INSERT INTO contacts VALUES (?) ON CONFLICT DO NOTHING", (cid,))

    # --- sections.csv and enrollments.csv ------------------------------------------------------

    def section_first(self, sec: str, line: int, school: str) -> int | None:
        """Take a section's row and its school (None), or the line its id was first read at."""
        return self._first_line("sections", sec, line, school)

    def teacher_school_new(self, tid: str, school: str) -> bool:
        """Whether a (teacher, school) pair is read for the first time (and remember it)."""
        return self._insert(
            "INSERT INTO teacher_schools VALUES (?, ?) ON CONFLICT DO NOTHING", (tid, school)
        )

    def _section_school(self, sec: str) -> str | None:
        """A section's school; None: not in sections.csv (``section_school``: asked once it is
        read)."""
        found = self._one("SELECT school FROM sections WHERE id = ?", (sec,))
        return found[0] if found else None

    def student_known(self, sid: str) -> bool:
        """Whether students.csv names the student (in a row taken or skipped)."""
        return self._one("SELECT 1 FROM students WHERE id = ?", (sid,)) is not None

    # --- terms and courses, from the section columns ------------------------------------------

    def term_add(self, tid: str, name: str, start: dt.date | None, end: dt.date | None) -> None:
        """Remember a term the first time a section names it."""
        self._cur.execute(
            "INSERT INTO terms VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (tid, name, start and start.isoformat(), end and end.isoformat()),
        )

    def term_known(self, tid: str) -> bool:
        """Whether a section named the term already."""
        return self._one("SELECT 1 FROM terms WHERE id = ?", (tid,)) is not None

    def terms(self) -> Iterator[tuple[str, str, dt.date | None, dt.date | None]]:
        """(id, name, start, end) of each term, in the order sections named them."""
        rows = self._db.execute("SELECT id, name, start_date, end_date FROM terms ORDER BY rowid")
        while chunk := rows.fetchmany(_FETCH):
            for tid, name, start, end in chunk:
                yield (
                    tid,
                    name,
                    dt.date.fromisoformat(start) if start else None,
                    dt.date.fromisoformat(end) if end else None,
                )

    def course_add(self, cid: str, name: str, number: str) -> None:
        """Remember a course the first time a section names it."""
        self._cur.execute(
            "INSERT INTO courses VALUES (?, ?, ?) ON CONFLICT DO NOTHING", (cid, name, number)
        )

    def courses(self) -> Iterator[tuple[str, str, str]]:
        """(id, name, number) of each course, in the order sections named them."""
        rows = self._db.execute("SELECT id, name, number FROM courses ORDER BY rowid")
        while chunk := rows.fetchmany(_FETCH):
            yield from chunk
