"""What the sync mirrors: one spec per record type and per association, and the staged rows.

A staged row is a plain tuple in the spec's staging-column order. Entities (schools, terms,
courses, users, sections) are keyed by Clever ID and carry a digest of their synced fields, so a
re-sync writes only rows whose data changed. Associations (enrolments, section teachers, roles,
user schools, contact relationships) are keyed by the Clever IDs of both ends.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models

from accounts.models import User
from rostering import clever_api
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


@dataclass(frozen=True)
class Ref:
    """A foreign key column filled by resolving a Clever ID against an entity type."""

    column: str  # e.g. "school_id"
    entity: str  # e.g. "schools"


@dataclass(frozen=True)
class EntitySpec:
    name: str  # count key and staging-table suffix, e.g. "schools"
    record_type: str  # singular, for errors: "school"
    model: type[models.Model]
    path: str
    columns: tuple[str, ...]  # synced data columns
    refs: tuple[Ref, ...] = ()  # optional FKs (unknown Clever ID: NULL and a SyncError)

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def stage_columns(self) -> tuple[str, ...]:
        return ("clever_id", "digest", *self.columns, *(f"{r.column}_cid" for r in self.refs))


@dataclass(frozen=True)
class LinkSpec:
    name: str
    record_type: str
    model: type[models.Model]
    keys: tuple[Ref | str, ...]  # Ref: required FK by Clever ID; str: a literal key column
    columns: tuple[str, ...] = ()
    refs: tuple[Ref, ...] = ()  # optional FKs

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def scope(self) -> Ref:
        """The key whose entity belongs to the district (archive only within it)."""
        first = self.keys[0]
        assert isinstance(first, Ref)
        return first

    @property
    def key_columns(self) -> tuple[str, ...]:
        return tuple(k.column if isinstance(k, Ref) else k for k in self.keys)

    @property
    def stage_columns(self) -> tuple[str, ...]:
        keys = tuple(f"{k.column}_cid" if isinstance(k, Ref) else k for k in self.keys)
        return (*keys, *self.columns, *(f"{r.column}_cid" for r in self.refs))


SCHOOLS = EntitySpec(
    "schools",
    "school",
    School,
    clever_api.SCHOOLS_PATH,
    ("name", "sis_id", "school_number", "state_id", "nces_id", "low_grade", "high_grade"),
)
TERMS = EntitySpec("terms", "term", Term, clever_api.TERMS_PATH, ("name", "start_date", "end_date"))
COURSES = EntitySpec("courses", "course", Course, clever_api.COURSES_PATH, ("name", "number"))
USERS = EntitySpec(
    "users",
    "user",
    User,
    clever_api.USERS_PATH,
    ("first_name", "last_name", "middle_name", "email"),
)
SECTIONS = EntitySpec(
    "sections",
    "section",
    Section,
    clever_api.SECTIONS_PATH,
    ("name", "sis_id", "section_number", "period", "subject", "grade", "grade_raw"),
    refs=(Ref("school_id", "schools"), Ref("course_id", "courses"), Ref("term_id", "terms")),
)
# Fetch and merge order: what sections refer to comes first.
ENTITIES: tuple[EntitySpec, ...] = (SCHOOLS, TERMS, COURSES, USERS, SECTIONS)

_USER = Ref("user_id", "users")
USER_ROLES = LinkSpec(
    "user_roles",
    "user role",
    UserRole,
    keys=(_USER, "role"),
    columns=(
        "sis_id",
        "number",
        "state_id",
        "district_username",
        "title",
        "grade",
        "grade_raw",
    ),
    refs=(Ref("school_id", "schools"),),
)
USER_SCHOOLS = LinkSpec(
    "user_schools", "user school", UserSchool, keys=(_USER, Ref("school_id", "schools"), "role")
)
CONTACTS = LinkSpec(
    "contact_relationships",
    "contact relationship",
    ContactRelationship,
    keys=(Ref("contact_id", "users"), Ref("student_id", "users")),
    columns=("relationship", "type"),
)
ENROLLMENTS = LinkSpec(
    "enrollments",
    "enrollment",
    SectionStudent,
    keys=(Ref("section_id", "sections"), _USER),
)
SECTION_TEACHERS = LinkSpec(
    "section_teachers",
    "section teacher",
    SectionTeacher,
    keys=(Ref("section_id", "sections"), _USER),
    columns=("position",),
)
LINKS: tuple[LinkSpec, ...] = (USER_ROLES, USER_SCHOOLS, CONTACTS, ENROLLMENTS, SECTION_TEACHERS)

ALL_NAMES: tuple[str, ...] = tuple(s.name for s in (*ENTITIES, *LINKS))
ENTITY_BY_NAME = {s.name: s for s in ENTITIES}
SPEC_BY_NAME: dict[str, EntitySpec | LinkSpec] = {s.name: s for s in (*ENTITIES, *LINKS)}


def digest(*values: Any) -> str:
    """A stable digest of the synced fields (32 hex characters, fits ``sync_digest``)."""
    text = "\x1f".join("" if v is None else str(v) for v in values)
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


# --- Records to staged rows ---------------------------------------------------------------------

Rows = dict[str, list[tuple[Any, ...]]]


def school_rows(r: clever_api.SchoolRecord) -> Rows:
    data = (r.name, r.sis_id, r.school_number, r.state_id, r.nces_id, r.low_grade, r.high_grade)
    return {"schools": [(r.id, digest(*data), *data)]}


def term_rows(r: clever_api.TermRecord) -> Rows:
    data = (r.name, r.start_date, r.end_date)
    return {"terms": [(r.id, digest(*data), *data)]}


def course_rows(r: clever_api.CourseRecord) -> Rows:
    data = (r.name, r.number)
    return {"courses": [(r.id, digest(*data), *data)]}


def user_rows(r: clever_api.UserRecord) -> Rows:
    data = (r.first_name, r.last_name, r.middle_name, r.email)
    roles, schools, contacts = [], [], []
    for role in r.roles:
        roles.append(
            (
                r.id,
                role.role,
                role.sis_id,
                role.number,
                role.state_id,
                role.district_username,
                role.title,
                role.grade,
                role.grade_raw,
                role.school,
            )
        )
        schools.extend((r.id, school, role.role) for school in role.schools)
        contacts.extend(
            (r.id, rel.student, rel.relationship, rel.type) for rel in role.relationships
        )
    return {
        "users": [(r.id, digest(*data), *data)],
        "user_roles": roles,
        "user_schools": schools,
        "contact_relationships": contacts,
    }


def section_rows(r: clever_api.SectionRecord) -> Rows:
    data = (r.name, r.sis_id, r.section_number, r.period, r.subject, r.grade, r.grade_raw)
    refs = (r.school, r.course, r.term)
    return {
        "sections": [(r.id, digest(*data, *refs), *data, *refs)],
        "enrollments": [(r.id, student) for student in r.students],
        "section_teachers": [(r.id, teacher, pos) for pos, teacher in enumerate(r.teachers)],
    }


def parse_and_rows(
    spec: EntitySpec, raw: Any, where: str, roles: tuple[str, ...]
) -> tuple[str, Rows]:
    """(Clever ID, staged rows) for one raw record of ``spec``'s type; raises if malformed."""
    if spec is SCHOOLS:
        school = clever_api.parse_school(raw, where)
        return school.id, school_rows(school)
    if spec is TERMS:
        term = clever_api.parse_term(raw, where)
        return term.id, term_rows(term)
    if spec is COURSES:
        course = clever_api.parse_course(raw, where)
        return course.id, course_rows(course)
    if spec is USERS:
        user = clever_api.parse_user(raw, where, roles)
        if not user.roles:
            return user.id, {}  # none of the roles we mirror
        return user.id, user_rows(user)
    section = clever_api.parse_section(raw, where)
    return section.id, section_rows(section)


def iter_rows(rows: Rows) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    yield from ((name, items) for name, items in rows.items() if items)
