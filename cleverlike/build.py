"""Turn a parsed CSV roster into Clever Data API v3.0 records, as Clever derives them.

Clever IDs are 24 hex characters derived from (district key, record kind, SIS id), so the same CSV
always gives the same IDs. Terms and courses are synthesised from sections.csv, employees who
appear as teacher and staff with the same email (case-insensitive) are one user with both roles,
and students and contacts are never merged with anyone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from clever.grades import normalize_grade
from rostering.csvformat import Roster, SectionRow, StaffRow, StudentRow, TeacherRow

RECORD_TYPES = ("districts", "schools", "users", "sections", "terms", "courses")
USER_ROLES = ("student", "teacher", "staff", "district_admin", "contact")
# staff.csv Role values (case-insensitive) that make the person a district admin.
DISTRICT_ADMIN_ROLES = frozenset({"district admin", "district_admin", "district administrator"})
SUBJECTS = (
    "english/language arts",
    "math",
    "science",
    "social studies",
    "language",
    "homeroom/advisory",
    "interventions/online learning",
    "technology and engineering",
    "PE and health",
    "arts and music",
    "other",
)
_SUBJECT_ALIASES = {
    "english": "english/language arts",
    "ela": "english/language arts",
    "language arts": "english/language arts",
    "reading": "english/language arts",
    "mathematics": "math",
    "history": "social studies",
    "homeroom": "homeroom/advisory",
    "advisory": "homeroom/advisory",
    "pe": "PE and health",
    "health": "PE and health",
    "art": "arts and music",
    "music": "arts and music",
    "technology": "technology and engineering",
    "computer science": "technology and engineering",
}


UserFn = Callable[[str, str, str, "str | None", "str | None"], dict[str, Any]]
CidFn = Callable[[str, str], str]


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON, as served."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def display_name(name: dict[str, Any]) -> str:
    """How the login pages show a user: "First Last"."""
    first, last = name.get("first") or "", name.get("last") or ""
    return f"{first} {last}".strip() or "(no name)"


def clever_id(district_key: str, kind: str, sis_id: str) -> str:
    """A deterministic ObjectID-like Clever ID (24 hex) for one record of one district."""
    digest = hashlib.sha1(f"{district_key}\x1f{kind}\x1f{sis_id}".encode(), usedforsecurity=False)
    return digest.hexdigest()[:24]


def district_id_for(district_key: str) -> str:
    """The Clever ID of the district whose folder (key) is ``district_key``."""
    return clever_id(district_key, "district", district_key)


def timestamp(moment: dt.datetime) -> str:
    """Clever's timestamp spelling: YYYY-MM-DDTHH:MM:SS.SSSZ (UTC)."""
    moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _date_ts(value: dt.date | None) -> str | None:
    return None if value is None else f"{value.isoformat()}T00:00:00.000Z"


def subject_for(raw: str | None) -> str:
    """Clever's subject enum value for a sections.csv Subject ("" when absent)."""
    if not raw:
        return ""
    lowered = raw.strip().lower()
    for subject in SUBJECTS:
        if subject.lower() == lowered:
            return subject
    return _SUBJECT_ALIASES.get(lowered, "other")


def _put(obj: dict[str, Any], key: str, value: Any) -> None:
    """Set an optional field only when there is a value (Clever omits absent optional fields)."""
    if value not in (None, ""):
        obj[key] = value


@dataclass
class Built:
    """A district's records (API shape, by type and id) and the facts the look-alike indexes."""

    district_id: str
    records: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {t: {} for t in RECORD_TYPES}
    )
    user_roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    user_names: dict[str, str] = field(default_factory=dict)


def _name(first: str | None, last: str | None, middle: str | None = None) -> dict[str, Any]:
    name: dict[str, Any] = {"first": first or "", "last": last or ""}
    _put(name, "middle", middle)
    return name


def _credentials(username: str | None) -> dict[str, str] | None:
    return {"district_username": username} if username else None


def _section_name(sec: SectionRow, teachers: dict[str, TeacherRow]) -> str:
    """sections.csv Name, else Clever's generated "Course - TeacherLast - Period"."""
    if sec.name:
        return sec.name
    parts = [sec.course_name or sec.course_number or "Section"]
    if sec.teacher_ids and sec.teacher_ids[0] in teachers:
        parts.append(teachers[sec.teacher_ids[0]].last_name)
    if sec.period:
        parts.append(sec.period)
    return " - ".join(parts)


def _location(
    address: str | None, city: str | None, state: str | None, zip_: str | None
) -> dict[str, Any] | None:
    if not any((address, city, state, zip_)):
        return None
    loc: dict[str, Any] = {}
    _put(loc, "address", address)
    _put(loc, "city", city)
    _put(loc, "state", state)
    _put(loc, "zip", zip_)
    return loc


def build_district(key: str, roster: Roster, meta: dict[str, Any], now: dt.datetime) -> Built:
    """Every record of one district in Clever's API shape (created/last_modified = ``now``)."""
    did = district_id_for(key)
    built = Built(district_id=did)
    ts = timestamp(now)
    rec = built.records

    def cid(kind: str, sis_id: str) -> str:
        return clever_id(key, kind, sis_id)

    # District
    district: dict[str, Any] = {
        "id": did,
        "name": meta.get("name") or key,
        "sis_type": "sftp",
        "launch_date": meta.get("launch_date", "2025-08-01"),
        "portal_url": meta.get("portal_url", f"https://clever.com/in/{key}"),
        "login_methods": meta.get("login_methods", ["clever"]),
        "state": meta.get("state", "success"),
        "last_sync": meta.get("last_sync", ts),
        "error": meta.get("error", ""),
        "mdr_number": meta.get("mdr_number"),
        "nces_id": meta.get("nces_id"),
        "pause_start": meta.get("pause_start"),
        "pause_end": meta.get("pause_end"),
    }
    rec["districts"][did] = district

    # Schools
    school_ids: dict[str, str] = {}
    for s in roster.schools:
        sid = cid("school", s.school_id)
        school_ids[s.school_id] = sid
        school: dict[str, Any] = {
            "id": sid,
            "district": did,
            "name": s.name,
            "created": ts,
            "last_modified": ts,
            "sis_id": s.school_id,
            "school_number": s.school_number,
            "principal": {"name": s.principal, "email": s.principal_email},
        }
        _put(school, "state_id", s.state_id)
        _put(school, "nces_id", s.nces_id)
        _put(school, "mdr_number", s.mdr_number)
        if s.low_grade:
            school["low_grade"] = normalize_grade(s.low_grade)
        if s.high_grade:
            school["high_grade"] = normalize_grade(s.high_grade)
        _put(school, "phone", s.phone)
        location = _location(s.address, s.city, s.state, s.zip)
        if location:
            school["location"] = location
        rec["schools"][sid] = school

    teachers_by_sis: dict[str, TeacherRow] = {t.teacher_id: t for t in roster.teachers}

    # Employees: a teacher and a staff row with the same email are one user.
    employee_id: dict[tuple[str, str], str] = {}  # (kind, sis id) -> user id
    teacher_by_email: dict[str, str] = {}
    for t in roster.teachers:
        uid = cid("employee", f"teacher:{t.teacher_id}")
        employee_id[("teacher", t.teacher_id)] = uid
        if t.email:
            teacher_by_email.setdefault(t.email.lower(), uid)
    for st in roster.staff:
        merged = teacher_by_email.get(st.email.lower()) if st.email else None
        employee_id[("staff", st.staff_id)] = merged or cid("employee", f"staff:{st.staff_id}")

    # Terms and courses, synthesised from sections.csv.
    section_term: dict[str, str | None] = {}
    section_course: dict[str, str | None] = {}
    for sec in roster.sections:
        term_id = None
        if sec.term_name or sec.term_start or sec.term_end:
            term_key = f"{sec.term_name or ''}|{sec.term_start or ''}|{sec.term_end or ''}"
            term_id = cid("term", term_key)
            if term_id not in rec["terms"]:
                rec["terms"][term_id] = {
                    "id": term_id,
                    "district": did,
                    "name": sec.term_name,
                    "start_date": _date_ts(sec.term_start),
                    "end_date": _date_ts(sec.term_end),
                }
        section_term[sec.section_id] = term_id
        course_id = None
        if sec.course_number or sec.course_name:
            # Clever keys courses on Course_number when given (stable), else on the name.
            course_key = (
                f"number:{sec.course_number}" if sec.course_number else (f"name:{sec.course_name}")
            )
            course_id = cid("course", course_key)
            if course_id not in rec["courses"]:
                rec["courses"][course_id] = {
                    "id": course_id,
                    "district": did,
                    "name": sec.course_name,
                    "number": sec.course_number,
                }
        section_course[sec.section_id] = course_id

    # Sections and who is in them.
    student_ids = {s.student_id: cid("student", s.student_id) for s in roster.students}
    section_students: dict[str, list[str]] = {sec.section_id: [] for sec in roster.sections}
    student_sections: dict[str, list[SectionRow]] = {}
    sections_by_sis = {sec.section_id: sec for sec in roster.sections}
    for e in roster.enrollments:
        section_students[e.section_id].append(student_ids[e.student_id])
        student_sections.setdefault(e.student_id, []).append(sections_by_sis[e.section_id])
    teacher_schools: dict[str, list[str]] = {}
    for sec in roster.sections:
        secid = cid("section", sec.section_id)
        teacher_uids = [employee_id[("teacher", t)] for t in sec.teacher_ids]
        for t in sec.teacher_ids:
            teacher_schools.setdefault(t, []).append(school_ids[sec.school_id])
        section: dict[str, Any] = {
            "id": secid,
            "district": did,
            "school": school_ids[sec.school_id],
            "name": _section_name(sec, teachers_by_sis),
            "sis_id": sec.section_id,
            "subject": subject_for(sec.subject),
            "students": section_students[sec.section_id],
            "teacher": teacher_uids[0] if teacher_uids else None,
            "teachers": teacher_uids,
            "term_id": section_term[sec.section_id],
            "course": section_course[sec.section_id],
            "created": ts,
            "last_modified": ts,
        }
        if sec.grade:
            section["grade"] = normalize_grade(sec.grade)
        _put(section, "period", sec.period)
        _put(section, "section_number", sec.section_number)
        rec["sections"][secid] = section

    users = rec["users"]

    def user(
        uid: str, first: str, last: str, middle: str | None, email: str | None
    ) -> dict[str, Any]:
        if uid not in users:
            users[uid] = {
                "id": uid,
                "district": did,
                "name": _name(first, last, middle),
                "created": ts,
                "last_modified": ts,
                "roles": {},
            }
            _put(users[uid], "email", email)
        return users[uid]

    # Students
    for s in roster.students:
        _add_student(s, user, student_ids, school_ids, student_sections, cid)
        # Students are never merged with anyone: serialise now, so a million-student district
        # never holds every student as a dict and as bytes at once.
        uid = student_ids[s.student_id]
        built.user_roles[uid] = ("student",)
        built.user_names[uid] = display_name(users[uid]["name"])
        users[uid] = dumps(users[uid])

    # Teachers
    for t in roster.teachers:
        uid = employee_id[("teacher", t.teacher_id)]
        u = user(uid, t.first_name, t.last_name, t.middle_name, t.email)
        primary = school_ids[t.school_id]
        teacher: dict[str, Any] = {
            "school": primary,
            "schools": _unique([primary, *teacher_schools.get(t.teacher_id, [])]),
            "sis_id": t.teacher_id,
            "legacy_id": cid("legacy-teacher", t.teacher_id),
        }
        _put(teacher, "teacher_number", t.teacher_number)
        _put(teacher, "state_id", t.state_teacher_id)
        _put(teacher, "title", t.title)
        creds = _credentials(t.username)
        if creds:
            teacher["credentials"] = creds
        u["roles"]["teacher"] = teacher

    # Staff (and district admins)
    for st in roster.staff:
        _add_staff(st, user, employee_id, school_ids, cid)

    # Contacts: one user per distinct contact (never merged with employees or students).
    for s in roster.students:
        for c in s.contacts:
            uid = cid("contact", c.key)
            u = user(uid, "", c.name, None, c.email)
            contact = u["roles"].setdefault(
                "contact",
                {"student_relationships": [], "legacy_id": cid("legacy-contact", c.key)},
            )
            rel = {
                "student": student_ids[s.student_id],
                "relationship": c.relationship or "",
                "type": c.type,
            }
            if rel not in contact["student_relationships"]:
                contact["student_relationships"].append(rel)
            _put(contact, "phone", c.phone)
            _put(contact, "phone_type", c.phone_type)
            _put(contact, "sis_id", c.sis_id)

    for uid, u in users.items():
        if isinstance(u, dict):
            built.user_roles[uid] = tuple(r for r in USER_ROLES if r in u["roles"])
            built.user_names[uid] = display_name(u["name"])
    return built


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _add_student(
    s: StudentRow,
    user: UserFn,
    student_ids: dict[str, str],
    school_ids: dict[str, str],
    student_sections: dict[str, list[SectionRow]],
    cid: CidFn,
) -> None:
    uid = student_ids[s.student_id]
    u = user(uid, s.first_name, s.last_name, s.middle_name, s.email)
    primary = school_ids[s.school_id]
    sections = student_sections.get(s.student_id, [])
    schools = _unique([primary, *(school_ids[sec.school_id] for sec in sections)])
    student: dict[str, Any] = {
        "school": primary,
        "schools": schools,
        "sis_id": s.student_id,
        "legacy_id": cid("legacy-student", s.student_id),
        "enrollments": _enrollments(schools, sections, school_ids),
    }
    _put(student, "student_number", s.student_number)
    _put(student, "state_id", s.state_id)
    if s.grade:
        student["grade"] = normalize_grade(s.grade)
    if s.dob:
        student["dob"] = s.dob.strftime("%m/%d/%Y")
    _put(student, "gender", s.gender)
    _put(student, "graduation_year", s.graduation_year)
    if s.race:
        student["race"] = s.race
    _put(student, "hispanic_ethnicity", s.hispanic_latino)
    _put(student, "ell_status", s.ell_status)
    location = _location(s.street, s.city, s.state, s.zip)
    if location:
        student["location"] = location
    creds = _credentials(s.username)
    if creds:
        student["credentials"] = creds
    u["roles"]["student"] = student


def _enrollments(
    schools: list[str],
    sections: list[SectionRow],
    school_ids: dict[str, str],
) -> list[dict[str, Any]]:
    """Per school: the span of the student's sections' terms there (dates only when known)."""
    out = []
    for school in schools:
        starts, ends = [], []
        for sec in sections:
            if school_ids[sec.school_id] != school:
                continue
            if sec.term_start:
                starts.append(sec.term_start)
            if sec.term_end:
                ends.append(sec.term_end)
        item: dict[str, Any] = {"school": school}
        _put(item, "start_date", _date_ts(min(starts)) if starts else None)
        _put(item, "end_date", _date_ts(max(ends)) if ends else None)
        out.append(item)
    return out


def _add_staff(
    st: StaffRow,
    user: UserFn,
    employee_id: dict[tuple[str, str], str],
    school_ids: dict[str, str],
    cid: CidFn,
) -> None:
    uid = employee_id[("staff", st.staff_id)]
    u = user(uid, st.first_name, st.last_name, None, st.email)
    is_admin = (st.role or "").strip().lower() in DISTRICT_ADMIN_ROLES
    if is_admin:
        admin: dict[str, Any] = {"legacy_id": cid("legacy-district_admin", st.staff_id)}
        _put(admin, "title", st.title)
        u["roles"]["district_admin"] = admin
    if st.school_id or not is_admin:
        staff: dict[str, Any] = {
            "schools": [school_ids[st.school_id]] if st.school_id else [],
            "staff_id": st.staff_id,
            "legacy_id": cid("legacy-staff", st.staff_id),
            "roles": [st.role] if st.role else [],
        }
        _put(staff, "title", st.title)
        _put(staff, "department", st.department)
        creds = _credentials(st.username)
        if creds:
            staff["credentials"] = creds
        u["roles"]["staff"] = staff
