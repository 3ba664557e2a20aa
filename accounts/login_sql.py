"""SQL for what every login reads (the district, the account and its roles, the session's user, the
class lists) and the one column it writes on the account (last_login).

Through the ORM each of these reads cost several times what the database spends answering it:
``filter(...).first()`` about 0.55 ms of Python, ``get(pk=...)`` 0.37 ms, against 0.18 ms for the
same row through ``Model.objects.raw()`` (which still applies each field's converters, so rows are
the same model instances on PostgreSQL and SQLite). The home page's class lists (sections with
their school, term and course; the teachers and students on them, ordered across a join) were
three ORM queries at about 1 ms of Python each; here they are two plain SQL queries that run the
same on PostgreSQL and SQLite. Sections become unsaved model instances with only the fields the
pages show; people (a class list can hold a hundred) become ``Member``s, a tenth of the cost of a
User instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.db import connection, models

from accounts.models import User, display_name
from rostering.models import (
    Course,
    District,
    School,
    Section,
    SectionStudent,
    SectionTeacher,
    Term,
    UserRole,
)

M = TypeVar("M", bound=models.Model)

TEACHER = 0
STUDENT = 1


@dataclass(frozen=True, slots=True)
class Member:
    """What the class lists show of a person."""

    pk: int
    username: str
    display_name: str


@dataclass(frozen=True, slots=True)
class Person:
    """One person on one section: who, as what, and (teachers) at which position."""

    section_id: int
    kind: int
    position: int
    user: Member


def _row_where(model: type[M], column: str, value: object) -> M | None:
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"SELECT * FROM {table} WHERE {connection.ops.quote_name(column)} = %s"
    return next(iter(model.objects.raw(sql, [value])), None)


def user_by_clever_id(*, clever_id: str) -> User | None:
    """The account keyed by this Clever ID, if any."""
    return _row_where(User, "clever_id", clever_id)


def user_by_pk(*, pk: int) -> User | None:
    """The account with this primary key, if any (the session's user, on every request)."""
    return _row_where(User, "id", pk)


def district_by_clever_id(*, clever_id: str) -> District | None:
    """The district with this Clever ID, whatever its status, if any."""
    return _row_where(District, "clever_id", clever_id)


def last_login_update(*, user_id: int, at: datetime) -> None:
    """Set one account's last_login (one UPDATE; the ORM's save() costs twice the Python)."""
    table = connection.ops.quote_name(User._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_login = %s WHERE id = %s", [db_datetime(at), user_id]
        )


def db_datetime(at: datetime) -> object:
    """``at`` as the ORM stores a DateTimeField (SQLite: naive UTC text), so rows written with
    raw SQL compare like the ORM's own."""
    return connection.ops.adapt_datetimefield_value(at)


def roles_of(*, user_id: int) -> list[UserRole]:
    """Every role row of this user, archived ones included."""
    table = connection.ops.quote_name(UserRole._meta.db_table)
    sql = f"SELECT * FROM {table} WHERE user_id = %s"
    return list(UserRole.objects.raw(sql, [user_id]))


def _tables() -> dict[str, str]:
    return {
        "section": Section._meta.db_table,
        "school": School._meta.db_table,
        "term": Term._meta.db_table,
        "course": Course._meta.db_table,
        "teacher": SectionTeacher._meta.db_table,
        "student": SectionStudent._meta.db_table,
        "user": User._meta.db_table,
    }


def sections_of(*, user_id: int, kind: int) -> list[Section]:
    """Live sections this user teaches (TEACHER) or is enrolled in (STUDENT), in page order."""
    t = _tables()
    link = t["teacher"] if kind == TEACHER else t["student"]
    sql = f"""
        SELECT s.id, s.name, s.period, s.grade,
               s.school_id, sc.name, s.term_id, te.name,
               s.course_id, c.name, c.number, c.clever_id
        FROM {t["section"]} s
        LEFT OUTER JOIN {t["school"]} sc ON sc.id = s.school_id
        LEFT OUTER JOIN {t["term"]} te ON te.id = s.term_id
        LEFT OUTER JOIN {t["course"]} c ON c.id = s.course_id
        WHERE s.archived_at IS NULL
          AND s.id IN (
            SELECT l.section_id FROM {link} l WHERE l.user_id = %s AND l.archived_at IS NULL
          )
        ORDER BY sc.name ASC, s.period ASC, s.name ASC, s.id ASC
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id])
        rows = cursor.fetchall()
    sections = []
    for (pk, name, period, grade, school_id, school_name, term_id, term_name, course_id,
         course_name, course_number, course_clever_id) in rows:  # fmt: skip
        section = Section(id=pk, name=name, period=period, grade=grade)
        section.school = School(id=school_id, name=school_name) if school_id else None
        section.term = Term(id=term_id, name=term_name) if term_id else None
        section.course = (
            Course(id=course_id, name=course_name, number=course_number, clever_id=course_clever_id)
            if course_id
            else None
        )
        sections.append(section)
    return sections


def people_on(*, section_ids: list[int], students: bool) -> list[Person]:
    """Live teachers (and students) of these sections: teachers by position then name,
    students by name."""
    if not section_ids:
        return []
    t = _tables()
    marks = ", ".join(["%s"] * len(section_ids))
    person = "u.id, u.username, u.first_name, u.last_name, u.preferred_name"
    sql = f"""
        SELECT l.section_id, {TEACHER}, l.position, {person}
        FROM {t["teacher"]} l INNER JOIN {t["user"]} u ON u.id = l.user_id
        WHERE l.archived_at IS NULL AND u.archived_at IS NULL AND l.section_id IN ({marks})
    """
    params = list(section_ids)
    if students:
        sql += f"""
        UNION ALL
        SELECT l.section_id, {STUDENT}, 0, {person}
        FROM {t["student"]} l INNER JOIN {t["user"]} u ON u.id = l.user_id
        WHERE l.archived_at IS NULL AND u.archived_at IS NULL AND l.section_id IN ({marks})
        """
        params += section_ids
    # kind, position, last name, first name, user id
    sql += " ORDER BY 2, 3, 7, 6, 4"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        Person(
            section_id=section_id,
            kind=kind,
            position=position,
            user=Member(pk=pk, username=username, display_name=display_name(first, last, pref)),
        )
        for section_id, kind, position, pk, username, first, last, pref in rows
    ]
