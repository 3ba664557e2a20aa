"""The sync's merge rules, declared once: what each record type and association mirrors, how a
row is keyed, what counts as changed, what is archived and restored, which timestamps move, what
a new row starts with, and the words a skipped reference is reported in.

Both stores read these declarations and keep only their mechanics: ``rostering.sync.pg`` (COPY
and set-based SQL) and ``rostering.sync.orm`` (the ORM in batches). The rules:

- **Keyed by Clever ID.** Entities (schools, terms, courses, users, sections) by ``clever_id``;
  associations (roles, user schools, contact relationships, enrolments, section teachers) by
  the Clever IDs of both ends (``LinkSpec.keys``), resolved only against rows the run shares.
- **Changed** means the digest of the synced columns differs (``digest``), a resolved reference
  differs, or the row is archived (then it is *restored*: same row, same primary key).
- **Archived** are the district's rows the run did not stage, except records the source named
  but could not read (``keep``: kept as they are). Associations are archived within the
  district, scoped by their first key (``LinkSpec.scope``). Only rows the sync manages are
  touched (``EntitySpec.managed``: users created in our app are never updated or archived).
- **Timestamps**: a write to an entity moves ``updated_at`` (``touches_updated_at``);
  associations carry only ``created_at``. Every written row gets ``last_seen_run``.
- **New rows** start with ``insert_defaults`` (users: an account with no usable password that
  only Clever logs in, named by ``accounts.models.clever_username``).

A staged row is a plain tuple in the spec's ``stage_columns`` order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from django.db import models

from accounts.models import USERNAME_PREFIX, User
from clever import records
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

Rows = dict[str, list[tuple[Any, ...]]]
RecordError = tuple[str, str, str]  # (record type, Clever ID, message)


class ErrorSink(Protocol):
    """Where a merge reports the records it could not take (``rostering.runs.ErrorLog``)."""

    def append(self, item: RecordError, /) -> None: ...


@dataclass(frozen=True)
class Ref:
    """A foreign key column filled by resolving a Clever ID against an entity type."""

    column: str  # e.g. "school_id"
    entity: str  # e.g. "schools"

    @property
    def field(self) -> str:
        """The model field behind the column ("school" for "school_id")."""
        return self.column.removesuffix("_id")

    @property
    def record_type(self) -> str:
        """The singular record type it points at ("school"), for messages."""
        return ENTITY_BY_NAME[self.entity].record_type


def _has_updated_at(model: type[models.Model]) -> bool:
    return any(f.name == "updated_at" for f in model._meta.get_fields())


@dataclass(frozen=True)
class EntitySpec:
    name: str  # count key and staging-table suffix, e.g. "schools"
    record_type: str  # singular, for errors: "school"
    model: type[models.Model]
    columns: tuple[str, ...]  # synced data columns
    to_rows: Callable[[Any], Rows]  # a typed record -> its staged rows, per type
    refs: tuple[Ref, ...] = ()  # optional FKs (unknown Clever ID: NULL and a SyncError)
    # (column, value) a row must have for the sync to update or archive it.
    managed: tuple[str, str] | None = None
    # Values a new row starts with beyond the synced columns (constants only).
    insert_defaults: dict[str, Any] = field(default_factory=dict)
    # Columns a new row fills with a prefix and its Clever ID.
    insert_prefixed: dict[str, str] = field(default_factory=dict)
    # Columns a new row sets to the time of the merge.
    insert_now: tuple[str, ...] = ("created_at", "updated_at")

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def stage_columns(self) -> tuple[str, ...]:
        return ("clever_id", "digest", *self.columns, *(f"{r.column}_cid" for r in self.refs))

    @cached_property
    def touches_updated_at(self) -> bool:
        return _has_updated_at(self.model)

    def is_managed(self, obj: models.Model) -> bool:
        """Whether the sync may update or archive this existing row."""
        return self.managed is None or getattr(obj, self.managed[0]) == self.managed[1]

    def other_district(self, clever_id: str) -> RecordError:
        """The error a record we hold for another district is refused with."""
        return (
            self.record_type,
            clever_id,
            f"{self.record_type} {clever_id} belongs to another district here; not taken "
            "(one district's sync never changes another's rows)",
        )

    def unknown_ref(self, clever_id: str, ref: Ref, ref_cid: str) -> RecordError:
        """The error a record referring to an unknown or unshared record is reported with."""
        return (
            self.record_type,
            clever_id,
            f"{self.record_type} {clever_id} refers to unknown or unshared "
            f"{ref.record_type} {ref_cid}; kept without it",
        )


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
    def data_columns(self) -> tuple[str, ...]:
        """What an existing association's update writes: its columns and optional FKs."""
        return (*self.columns, *(r.column for r in self.refs))

    @property
    def stage_columns(self) -> tuple[str, ...]:
        keys = tuple(f"{k.column}_cid" if isinstance(k, Ref) else k for k in self.keys)
        return (*keys, *self.columns, *(f"{r.column}_cid" for r in self.refs))

    @cached_property
    def touches_updated_at(self) -> bool:
        return _has_updated_at(self.model)

    def unknown_ends(self, cids: list[str], unknown: list[tuple[Ref, str]]) -> RecordError:
        """The error an association with an end we do not share is skipped with."""
        named = ", ".join(f"{ref.record_type} {cid}" for ref, cid in unknown)
        return (
            self.scope.record_type,
            cids[0],
            f"{self.record_type} {' / '.join(cids)} skipped: unknown or unshared {named}",
        )


def archive_values(spec: EntitySpec | LinkSpec, now: Any) -> dict[str, Any]:
    """What archiving a row writes (and restoring clears): ``archived_at``, and ``updated_at``
    where the type has one."""
    return {"archived_at": now, **({"updated_at": now} if spec.touches_updated_at else {})}


def digest(*values: Any) -> str:
    """A stable digest of the synced fields (32 hex characters, fits ``sync_digest``)."""
    text = "\x1f".join("" if v is None else str(v) for v in values)
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


# --- Records to staged rows ---------------------------------------------------------------------


def school_rows(r: records.SchoolRecord) -> Rows:
    data = (r.name, r.sis_id, r.school_number, r.state_id, r.nces_id, r.low_grade, r.high_grade)
    return {"schools": [(r.id, digest(*data), *data)]}


def term_rows(r: records.TermRecord) -> Rows:
    data = (r.name, r.start_date, r.end_date)
    return {"terms": [(r.id, digest(*data), *data)]}


def course_rows(r: records.CourseRecord) -> Rows:
    data = (r.name, r.number)
    return {"courses": [(r.id, digest(*data), *data)]}


def user_rows(r: records.UserRecord) -> Rows:
    if not r.roles:
        return {}  # none of the roles we mirror
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


def section_rows(r: records.SectionRecord) -> Rows:
    data = (r.name, r.sis_id, r.section_number, r.period, r.subject, r.grade, r.grade_raw)
    refs = (r.school, r.course, r.term)
    return {
        "sections": [(r.id, digest(*data, *refs), *data, *refs)],
        "enrollments": [(r.id, student) for student in r.students],
        "section_teachers": [(r.id, teacher, pos) for pos, teacher in enumerate(r.teachers)],
    }


SCHOOLS = EntitySpec(
    "schools",
    "school",
    School,
    ("name", "sis_id", "school_number", "state_id", "nces_id", "low_grade", "high_grade"),
    school_rows,
)
TERMS = EntitySpec("terms", "term", Term, ("name", "start_date", "end_date"), term_rows)
COURSES = EntitySpec("courses", "course", Course, ("name", "number"), course_rows)
USERS = EntitySpec(
    "users",
    "user",
    User,
    ("first_name", "last_name", "middle_name", "email"),
    user_rows,
    managed=("source", User.Source.CLEVER),
    insert_defaults={
        "password": "!",  # unusable: only Clever logs them in
        "is_superuser": False,
        "is_staff": False,
        "is_active": True,
        "source": User.Source.CLEVER,
        "preferred_name": "",
        "sis_id": "",
    },
    insert_prefixed={"username": USERNAME_PREFIX},
    insert_now=("date_joined",),
)
SECTIONS = EntitySpec(
    "sections",
    "section",
    Section,
    ("name", "sis_id", "section_number", "period", "subject", "grade", "grade_raw"),
    section_rows,
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


def links_of(entity: EntitySpec) -> tuple[LinkSpec, ...]:
    """The associations scoped by this entity type (they hang off its rows)."""
    return tuple(link for link in LINKS if link.scope.entity == entity.name)


def iter_rows(rows: Rows) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    yield from ((name, items) for name, items in rows.items() if items)
