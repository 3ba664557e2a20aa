"""Typed records of what Clever sends, shared by SSO and the sync, and the parsers that build them.

Records are plain frozen dataclasses. Parsers read raw JSON field by field, so a malformed
payload raises ``CleverMalformedError`` naming the record (type and Clever ID) and the field.
Grades are normalised onto Clever's list (``clever.grades``) with the raw value kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from clever import usertypes
from clever.errors import CleverMalformedError
from clever.grades import normalize_grade

# --- Typed records ------------------------------------------------------------------------------


# --- Identity (OAuth 2.0, OIDC, /me) --------------------------------------------------------------


@dataclass(frozen=True)
class TokenResponse:
    """What the code exchange returns: the user's token (and id_token with OIDC)."""

    access_token: str = field(repr=False)
    id_token: str = field(default="", repr=False)


@dataclass(frozen=True)
class Me:
    """What ``GET /v3.0/me`` says about the logged-in user."""

    user_id: str
    district_id: str
    login_type: str
    authorized_by: str
    # The canonical link to the user record, relative to the API host, when Clever sent one.
    canonical_path: str


@dataclass(frozen=True)
class IdTokenClaims:
    """The validated claims of an OIDC id_token we use."""

    sub: str
    district_id: str
    login_type: str
    email: str
    given_name: str
    family_name: str


# --- Data API ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DistrictToken:
    district_id: str
    access_token: str = field(repr=False)
    created: str = ""
    scopes: tuple[str, ...] = ()


# Clever's district ``state`` values (its SIS sync to Clever): pending = the district must fix
# something, error = Clever must, paused = the district shows last year's data (pause window).
DISTRICT_STATES = ("running", "pending", "error", "paused", "success")


@dataclass(frozen=True, slots=True)
class DistrictRecord:
    """What ``GET /v3.0/districts/{id}`` says of a district: its name, launch and SIS sync."""

    id: str
    name: str
    # The day Clever shows the app to the district's users (set in Clever's dashboard).
    launch_date: date | None = None
    state: str = ""  # one of DISTRICT_STATES, "" when Clever sent none
    pause_start: datetime | None = None
    pause_end: datetime | None = None
    # Clever's last sync of the district's SIS, and the error it reported.
    last_sync: datetime | None = None
    error: str = ""
    # Optional fields Clever sent malformed: stored empty, each reported here ("field: why").
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SchoolRecord:
    id: str
    name: str
    sis_id: str
    school_number: str
    state_id: str
    nces_id: str
    low_grade: str
    high_grade: str


@dataclass(frozen=True, slots=True)
class TermRecord:
    id: str
    name: str
    start_date: date | None
    end_date: date | None


@dataclass(frozen=True, slots=True)
class CourseRecord:
    id: str
    name: str
    number: str


@dataclass(frozen=True, slots=True)
class SectionRecord:
    id: str
    school: str
    course: str
    term: str
    name: str
    sis_id: str
    section_number: str
    period: str
    subject: str
    grade: str  # normalised (clever.grades)
    grade_raw: str
    teachers: tuple[str, ...]  # primary first
    students: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StudentRelationshipRecord:
    student: str
    relationship: str
    type: str


@dataclass(frozen=True, slots=True)
class RoleRecord:
    """One role of a user, with the role's fields we use (matching reads sis_id and
    district_username)."""

    role: str
    school: str = ""  # primary school ("" when the role has none)
    schools: tuple[str, ...] = ()
    sis_id: str = ""
    number: str = ""  # student_number / teacher_number / staff_id
    state_id: str = ""
    district_username: str = ""
    title: str = ""
    grade: str = ""
    grade_raw: str = ""
    relationships: tuple[StudentRelationshipRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class UserRecord:
    """One person with all their roles (a multi-role user is one record)."""

    id: str
    first_name: str
    last_name: str
    middle_name: str
    email: str
    roles: tuple[RoleRecord, ...]
    district: str = ""

    def role(self, name: str) -> RoleRecord | None:
        return next((r for r in self.roles if r.role == name), None)


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: str
    type: str  # e.g. "users.updated"
    created: str
    object: Mapping[str, Any]
    previous_attributes: Mapping[str, Any]

    @property
    def record_type(self) -> str:
        return self.type.split(".", 1)[0]

    @property
    def action(self) -> str:
        return self.type.rsplit(".", 1)[-1]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list endpoint: its number (1-based), the call, and its raw items."""

    number: int
    where: str
    items: list[Mapping[str, Any]]


# --- Parsing: field by field, naming the record on any problem ----------------------------------


# (record type, Clever ID, what was wrong): values a parser dropped or repaired in a record it
# kept. The sync reports them with the run's errors.
Notes = list[tuple[str, str, str]]


class NoteSink(Protocol):
    """Where parsers note what they dropped or repaired (a list, or a run's error log)."""

    def append(self, item: tuple[str, str, str], /) -> None: ...


# Clever IDs are 24 hex characters; we store up to this many.
MAX_ID_LENGTH = 64


def _bad_id(value: Any) -> str:
    """Why ``value`` cannot be a Clever ID ("" when it can)."""
    if not isinstance(value, str) or not value:
        return f"is not an id (got {value!r:.40})"
    if len(value) > MAX_ID_LENGTH:
        return f"is longer than {MAX_ID_LENGTH} characters ({value[:30]!r}...)"
    if "\x00" in value:
        return f"has a NUL character ({value!r:.40})"
    return ""


class _Fields:
    """Reads one raw record's fields, raising CleverMalformedError naming the record when it
    cannot be taken, and noting (``notes``) the values it dropped or repaired when it can."""

    def __init__(
        self, raw: Any, record_type: str, where: str = "", notes: NoteSink | None = None
    ) -> None:
        if not isinstance(raw, Mapping):
            raise CleverMalformedError(
                f"{record_type} record is a {type(raw).__name__}, not an object",
                record_type=record_type,
                where=where,
            )
        self.raw = raw
        self.record_type = record_type
        self.where = where
        self.notes = notes
        rid = raw.get("id")
        if not isinstance(rid, str) or not rid:
            raise CleverMalformedError(
                f"{record_type} record has no id (got {rid!r:.40})",
                record_type=record_type,
                where=where,
            )
        problem = _bad_id(rid)
        if problem:
            raise CleverMalformedError(
                f"{record_type} record id {problem}",
                record_type=record_type,
                clever_id=rid[:MAX_ID_LENGTH],
                where=where,
            )
        self.id = rid

    def fail(self, problem: str) -> CleverMalformedError:
        return CleverMalformedError(
            f"{self.record_type} {self.id}: {problem}",
            record_type=self.record_type,
            clever_id=self.id,
            where=self.where,
        )

    def note(self, problem: str) -> None:
        if self.notes is not None:
            self.notes.append(
                (self.record_type, self.id, f"{self.record_type} {self.id}: {problem}")
            )

    def text(self, key: str, source: Mapping[str, Any] | None = None, prefix: str = "") -> str:
        value = (self.raw if source is None else source).get(key)
        if value.__class__ is str:  # the common case, first: this runs millions of times
            if value.isascii() and "\x00" not in value:
                return value
            return self._clean(value, prefix + key)
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(f"field {prefix + key!r} should be a string, got {_kind(value)}")
        return str(value)

    def _clean(self, value: str, name: str) -> str:
        """What we store of a string PostgreSQL cannot hold as sent: NUL characters removed,
        unpaired surrogates (not characters at all) replaced by U+FFFD; each noted. Other
        control characters are data and kept."""
        if "\x00" in value:
            value = value.replace("\x00", "")
            self.note(f"field {name!r} had NUL characters; removed")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in value)
            self.note(f"field {name!r} had unpaired surrogates; replaced by U+FFFD")
        return value

    def obj(self, key: str, source: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
        value = (self.raw if source is None else source).get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(f"field {key!r} should be an object, got {_kind(value)}")
        return value

    def ids(
        self, key: str, source: Mapping[str, Any] | None = None, prefix: str = ""
    ) -> tuple[str, ...]:
        value = (self.raw if source is None else source).get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(f"field {prefix + key!r} should be a list of ids, got {_kind(value)}")
        if not value:
            return ()
        # The common case in a few passes of C (a section lists hundreds of students): every
        # entry a string, none empty, too long or with a NUL.
        try:
            joined = "".join(value)
        except TypeError:
            joined = "\x00"  # not all strings: the slow path says which
        if "\x00" not in joined and "" not in value and max(map(len, value)) <= MAX_ID_LENGTH:
            return tuple(dict.fromkeys(value))
        good = []
        for item in value:
            problem = _bad_id(item)
            if problem:
                self.note(f"field {prefix + key!r}: an entry {problem}; dropped")
            else:
                good.append(item)
        # Order kept (teachers: primary first); duplicates dropped.
        return tuple(dict.fromkeys(good))

    def ref(self, key: str, source: Mapping[str, Any] | None = None, prefix: str = "") -> str:
        """One id field (a section's school, a role's school): "" and noted when malformed."""
        value = self.text(key, source, prefix)
        problem = _bad_id(value) if value else ""
        if problem:
            self.note(f"field {prefix + key!r} {problem}; dropped")
            return ""
        return value

    def day(self, key: str) -> date | None:
        value = self.text(key)
        if not value:
            return None
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            self.note(f"field {key!r} is not a date ({value!r:.40}); stored empty")
            return None


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


# Fields only one of the Data API's list types has (Clever's v3.0 schemas). A record on one
# type's endpoint carrying another type's and none of its own is not of that type.
_OWN_FIELDS = {
    "school": ("school_number", "low_grade", "high_grade", "principal", "location", "phone"),
    "term": ("start_date", "end_date"),
    "course": ("number",),
    "user": ("roles", "email"),
    "section": ("students", "teachers", "course", "term_id", "teacher", "section_number"),
}


def foreign_type(raw: Any, record_type: str) -> str:
    """The other record type ``raw`` is plainly of ("" when it may be a ``record_type``)."""
    # Its own fields first, the most common first: a record of the right type costs one lookup.
    if not isinstance(raw, Mapping) or any(f in raw for f in _OWN_FIELDS[record_type]):
        return ""
    for other, own in _OWN_FIELDS.items():
        if other != record_type and any(f in raw for f in own):
            return other
    return ""


def _moment(value: str) -> datetime:
    """A Clever timestamp (``YYYY-MM-DDTHH:MM:SS.SSSZ``) as an aware datetime (UTC if naive)."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_district(raw: Any, where: str = "") -> DistrictRecord:
    """A DistrictRecord from a raw /districts item; a malformed optional field is left empty and
    named in ``problems`` (the district's record is never refused for one)."""
    f = _Fields(raw, "district", where)
    problems: list[str] = []

    def read(key: str, convert: Any, empty: Any, what: str = "") -> Any:
        value = f.raw.get(key)
        if value is None or value == "":
            return empty
        if not isinstance(value, str):
            problems.append(f"field {key!r} should be a string, got {_kind(value)}; stored empty")
            return empty
        if not (value.isascii() and "\x00" not in value):
            notes: Notes = []
            f.notes = notes
            value = f._clean(value, key)
            problems.extend(problem.split(": ", 1)[1] for *_, problem in notes)
        try:
            return convert(value)
        except ValueError:
            problems.append(f"field {key!r} is not {what}: {value!r:.40}; stored empty")
            return empty

    def state(value: str) -> str:
        if value not in DISTRICT_STATES:
            raise ValueError(value)
        return value

    def day(value: str) -> date:
        return date.fromisoformat(value[:10])

    timestamp = "a timestamp (YYYY-MM-DDTHH:MM:SS.SSSZ)"
    return DistrictRecord(
        id=f.id,
        name=read("name", str, ""),
        launch_date=read("launch_date", day, None, "a date (YYYY-MM-DD)"),
        state=read("state", state, "", f"one of Clever's states ({', '.join(DISTRICT_STATES)})"),
        pause_start=read("pause_start", _moment, None, timestamp),
        pause_end=read("pause_end", _moment, None, timestamp),
        last_sync=read("last_sync", _moment, None, timestamp),
        error=read("error", str, ""),
        problems=tuple(problems),
    )


def parse_school(raw: Any, where: str = "", notes: NoteSink | None = None) -> SchoolRecord:
    """A SchoolRecord from a raw /schools item."""
    f = _Fields(raw, "school", where, notes)
    return SchoolRecord(
        id=f.id,
        name=f.text("name"),
        sis_id=f.text("sis_id"),
        school_number=f.text("school_number"),
        state_id=f.text("state_id"),
        nces_id=f.text("nces_id"),
        low_grade=normalize_grade(f.text("low_grade")),
        high_grade=normalize_grade(f.text("high_grade")),
    )


def parse_term(raw: Any, where: str = "", notes: NoteSink | None = None) -> TermRecord:
    """A TermRecord from a raw /terms item."""
    f = _Fields(raw, "term", where, notes)
    return TermRecord(
        id=f.id, name=f.text("name"), start_date=f.day("start_date"), end_date=f.day("end_date")
    )


def parse_course(raw: Any, where: str = "", notes: NoteSink | None = None) -> CourseRecord:
    """A CourseRecord from a raw /courses item."""
    f = _Fields(raw, "course", where, notes)
    return CourseRecord(id=f.id, name=f.text("name"), number=f.text("number"))


def parse_section(raw: Any, where: str = "", notes: NoteSink | None = None) -> SectionRecord:
    """A SectionRecord from a raw /sections item; teachers primary first."""
    f = _Fields(raw, "section", where, notes)
    teachers = f.ids("teachers")
    primary = f.ref("teacher")
    if primary and (not teachers or teachers[0] != primary):
        teachers = (primary, *(t for t in teachers if t != primary))
    grade_raw = f.text("grade")
    return SectionRecord(
        id=f.id,
        school=f.ref("school"),
        course=f.ref("course"),
        term=f.ref("term_id"),
        name=f.text("name"),
        sis_id=f.text("sis_id"),
        section_number=f.text("section_number"),
        period=f.text("period"),
        subject=f.text("subject"),
        grade=normalize_grade(grade_raw),
        grade_raw=grade_raw,
        teachers=teachers,
        students=f.ids("students"),
    )


_ROLE_NUMBER_FIELD = {"student": "student_number", "teacher": "teacher_number", "staff": "staff_id"}
ROLE_NAMES = usertypes.ROLES


def parse_user(
    raw: Any, where: str = "", roles: tuple[str, ...] = ROLE_NAMES, notes: NoteSink | None = None
) -> UserRecord:
    """A UserRecord from a raw /users item, keeping only ``roles``."""
    f = _Fields(raw, "user", where, notes)
    name = f.obj("name")
    raw_roles = f.obj("roles")
    parsed: list[RoleRecord] = []
    for role in ROLE_NAMES:
        if role not in roles or raw_roles.get(role) is None:
            continue
        data = f.obj(role, raw_roles)
        credentials = f.obj("credentials", data)
        prefix = f"roles.{role}."
        grade_raw = f.text("grade", data, prefix)
        relationships: tuple[StudentRelationshipRecord, ...] = ()
        if role == "contact":
            rels = data.get("student_relationships") or []
            if not isinstance(rels, list):
                raise f.fail("field 'roles.contact.student_relationships' should be a list")
            seen: dict[str, StudentRelationshipRecord] = {}
            for rel in rels:
                student = rel.get("student") if isinstance(rel, Mapping) else None
                if _bad_id(student):
                    f.note(f"a contact student_relationship has no student ({rel!r:.80}); dropped")
                    continue
                seen[rel["student"]] = StudentRelationshipRecord(
                    student=rel["student"],
                    relationship=f.text("relationship", rel),
                    type=f.text("type", rel),
                )
            relationships = tuple(seen.values())
        schools = f.ids("schools", data, prefix)
        school = f.ref("school", data, prefix)
        if school and school not in schools:
            schools = (school, *schools)
        parsed.append(
            RoleRecord(
                role=role,
                school=school,
                schools=schools,
                sis_id=f.text("sis_id", data, prefix),
                number=f.text(_ROLE_NUMBER_FIELD.get(role, "-"), data),
                state_id=f.text("state_id", data, prefix),
                district_username=f.text("district_username", credentials),
                title=f.text("title", data, prefix),
                grade=normalize_grade(grade_raw),
                grade_raw=grade_raw,
                relationships=relationships,
            )
        )
    return UserRecord(
        id=f.id,
        first_name=f.text("first", name, "name."),
        last_name=f.text("last", name, "name."),
        middle_name=f.text("middle", name, "name."),
        email=f.text("email").strip(),
        roles=tuple(parsed),
        district=f.text("district"),
    )


def parse_event(raw: Any, where: str = "") -> EventRecord:
    """An EventRecord; previous_attributes read from the event or from its data object."""
    f = _Fields(raw, "event", where)
    etype = f.text("type")
    if "." not in etype:
        raise f.fail(f"event type {etype!r} is not '<records>.<action>'")
    data = f.obj("data")
    obj = f.obj("object", data)
    # Clever's docs put previous_attributes on the event; its spec puts them beside the object.
    previous = f.obj("previous_attributes") or f.obj("previous_attributes", data)
    return EventRecord(
        id=f.id, type=etype, created=f.text("created"), object=obj, previous_attributes=previous
    )
