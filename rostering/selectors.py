"""Named reads over the roster: the district export, the admin's district overview, and what
every login and home page reads of it.

The login path's reads (the district by Clever ID, a user's roles) and the home pages' class lists
are raw SQL. Through the ORM each of these reads cost several times what the database spends
answering it: ``filter(...).first()`` about 0.55 ms of Python, ``get(pk=...)`` 0.37 ms, against
0.18 ms for the same row through ``Model.objects.raw()`` (which still applies each field's
converters, so rows are the same model instances on PostgreSQL and SQLite). The home page's class
lists (sections with their school, term and course; the teachers and students on them, ordered
across a join) were three ORM queries at about 1 ms of Python each; here they are two plain SQL
queries that run the same on PostgreSQL and SQLite. Sections become unsaved model instances with
only the fields the pages show; people (a class list can hold a hundred) become ``Member``s, a
tenth of the cost of a User instance. Table names come from model metadata and every value is a
query parameter.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.login_sql import row_where
from accounts.models import User, display_name
from rostering import csvsource
from rostering.models import (
    ContactRelationship,
    Course,
    District,
    School,
    Section,
    SectionStudent,
    SectionTeacher,
    SyncError,
    SyncRun,
    Term,
    UserRole,
    UserSchool,
)
from rostering.sync.specs import ENTITIES, SPEC_BY_NAME, EntitySpec, LinkSpec

CHUNK = 2000


def count_per_district(queryset: QuerySet, district_field: str = "district") -> Coalesce:
    """An annotation for a District queryset: how many rows of ``queryset`` belong to each
    district (``district_field`` leads from a row to its district), 0 when none."""
    counted = (
        queryset.filter(**{district_field: OuterRef("pk")})
        .order_by()
        .values(district_field)
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _live(model: type) -> QuerySet:
    return model.objects.filter(archived_at__isnull=True)


def district_overview() -> QuerySet[District]:
    """Districts with their last run and live sharing counts, in one query (the admin list)."""
    last = SyncRun.objects.filter(district=OuterRef("pk")).order_by("-created_at")
    return District.objects.annotate(
        last_run_id=Subquery(last.values("pk")[:1]),
        last_run_status=Subquery(last.values("status")[:1]),
        last_run_at=Subquery(last.values("created_at")[:1]),
        live_schools=count_per_district(_live(School)),
        live_sections=count_per_district(_live(Section)),
        live_users=count_per_district(_live(User)),
    )


def district_export_record(district: District) -> dict[str, Any]:
    """The district itself, as the export shows it."""
    return {
        "id": district.clever_id,
        "archived": district.status == District.Status.DISCONNECTED,
        "name": district.name,
        "status": district.status,
    }


def _chunked(qs: QuerySet) -> Iterator[list[Any]]:
    """Rows of ``qs`` in pk order, a chunk at a time (keyset pagination, bounded memory)."""
    last = 0
    while True:
        chunk = list(qs.filter(pk__gt=last).order_by("pk")[:CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].pk


def _date(value: Any) -> str | None:
    return value.isoformat() if value else None


def _schools(district: District) -> Iterator[dict[str, Any]]:
    for chunk in _chunked(School.objects.filter(district=district)):
        for s in chunk:
            yield {
                "id": s.clever_id,
                "archived": s.is_archived,
                "name": s.name,
                "sis_id": s.sis_id,
                "school_number": s.school_number,
                "state_id": s.state_id,
                "nces_id": s.nces_id,
                "low_grade": s.low_grade,
                "high_grade": s.high_grade,
            }


def _terms(district: District) -> Iterator[dict[str, Any]]:
    for chunk in _chunked(Term.objects.filter(district=district)):
        for t in chunk:
            yield {
                "id": t.clever_id,
                "archived": t.is_archived,
                "name": t.name,
                "start_date": _date(t.start_date),
                "end_date": _date(t.end_date),
            }


def _courses(district: District) -> Iterator[dict[str, Any]]:
    for chunk in _chunked(Course.objects.filter(district=district)):
        for c in chunk:
            yield {"id": c.clever_id, "archived": c.is_archived, "name": c.name, "number": c.number}


def _sections(district: District) -> Iterator[dict[str, Any]]:
    qs = Section.objects.filter(district=district).select_related("school", "course", "term")
    for chunk in _chunked(qs):
        ids = [s.pk for s in chunk]
        archived = {s.pk for s in chunk if s.is_archived}
        teachers: dict[int, list[str]] = defaultdict(list)
        students: dict[int, list[str]] = defaultdict(list)
        # A live section lists its live associations; an archived one those it had.
        for model, target in ((SectionTeacher, teachers), (SectionStudent, students)):
            links = model.objects.filter(section_id__in=ids).order_by(
                "section_id",
                *(["position"] if model is SectionTeacher else []),
                "user__clever_id",
            )
            for section_id, user_cid, link_archived in links.values_list(
                "section_id", "user__clever_id", "archived_at"
            ):
                if link_archived is None or section_id in archived:
                    target[section_id].append(user_cid)
        for s in chunk:
            yield {
                "id": s.clever_id,
                "archived": s.is_archived,
                "name": s.name,
                "sis_id": s.sis_id,
                "section_number": s.section_number,
                "period": s.period,
                "subject": s.subject,
                "grade": s.grade,
                "school": s.school.clever_id if s.school else None,
                "course": s.course.clever_id if s.course else None,
                "term": s.term.clever_id if s.term else None,
                "teachers": teachers[s.pk],
                "students": students[s.pk],
            }


def _users(district: District) -> Iterator[dict[str, Any]]:
    for chunk in _chunked(User.objects.filter(district=district)):
        ids = [u.pk for u in chunk]
        roles: dict[int, dict[str, Any]] = defaultdict(dict)
        for r in (
            UserRole.objects.filter(user_id__in=ids, archived_at__isnull=True)
            .select_related("school")
            .order_by("user_id", "role")
        ):
            roles[r.user_id][r.role] = {
                "sis_id": r.sis_id,
                "number": r.number,
                "state_id": r.state_id,
                "district_username": r.district_username,
                "title": r.title,
                "grade": r.grade,
                "school": r.school.clever_id if r.school else None,
            }
        schools: dict[int, list[str]] = defaultdict(list)
        for user_id, school_cid in (
            UserSchool.objects.filter(user_id__in=ids, archived_at__isnull=True)
            .order_by("user_id", "school__clever_id")
            .values_list("user_id", "school__clever_id")
        ):
            if school_cid not in schools[user_id]:
                schools[user_id].append(school_cid)
        students: dict[int, list[dict[str, str]]] = defaultdict(list)
        # Every list in a stable order, so two exports of unchanged data are identical.
        for c in (
            ContactRelationship.objects.filter(Q(contact_id__in=ids), archived_at__isnull=True)
            .order_by("contact_id", "student__clever_id")
            .values("contact_id", "student__clever_id", "relationship", "type")
        ):
            students[c["contact_id"]].append(
                {
                    "id": c["student__clever_id"],
                    "relationship": c["relationship"],
                    "type": c["type"],
                }
            )
        for u in chunk:
            record: dict[str, Any] = {
                "id": u.clever_id,
                "archived": u.archived_at is not None,
                "username": u.username,
                # The matching rule that linked an account made in our app; None when the sync
                # or a login created it.
                "matched_by": u.matched_by or None,
                "roles": sorted(roles[u.pk]),
                "first_name": u.first_name,
                "middle_name": u.middle_name,
                "last_name": u.last_name,
                "preferred_name": u.preferred_name,
                "email": u.email,
                "source": u.source,
                "schools": schools[u.pk],
                "role_details": roles[u.pk],
            }
            if students[u.pk]:
                record["students"] = students[u.pk]
            yield record


def district_export_sections(district: District) -> Iterator[tuple[str, Iterator[dict[str, Any]]]]:
    """The export's lists in order, each a generator of records (bounded memory)."""
    lists = (
        ("schools", _schools(district)),
        ("terms", _terms(district)),
        ("courses", _courses(district)),
        ("sections", _sections(district)),
        ("users", _users(district)),
    )
    for name, records in lists:
        yield name, (_with_file_id(records) if district.source == District.Source.CSV else records)


def _with_file_id(records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """A CSV district's records carry ``sis_id``: the file's own id (None where derived)."""
    for record in records:
        record["sis_id"] = csvsource.file_id(record["id"])
        yield record


def district_by_reference(value: str) -> District | None:
    """The district with this Clever ID, or the CSV district with this KEY."""
    return District.objects.filter(Q(clever_id=value) | Q(csv__key=value)).first()


def mirrored_record_types() -> list[str]:
    """The Clever record types the sync mirrors, in fetch order ("schools", ..., "sections");
    the events pass applies events of these types and of "districts"."""
    return [spec.name for spec in ENTITIES]


# --- What every login and home page reads (raw SQL: see the module docstring) --------------------

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


def district_by_clever_id(*, clever_id: str) -> District | None:
    """The district with this Clever ID, whatever its status, if any."""
    return row_where(District, "clever_id", clever_id)


def roles_of(*, user_id: int) -> list[UserRole]:
    """Every role row of this user, archived ones included."""
    table = connection.ops.quote_name(UserRole._meta.db_table)
    sql = f"SELECT * FROM {table} WHERE user_id = %s"  # noqa: S608
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
    """  # noqa: S608
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
    """  # noqa: S608
    params = list(section_ids)
    if students:
        sql += f"""
        UNION ALL
        SELECT l.section_id, {STUDENT}, 0, {person}
        FROM {t["student"]} l INNER JOIN {t["user"]} u ON u.id = l.user_id
        WHERE l.archived_at IS NULL AND u.archived_at IS NULL AND l.section_id IN ({marks})
        """  # noqa: S608
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


# --- What the home pages read through the ORM ----------------------------------------------------


def district_synced(*, district_id: int) -> bool:
    """Whether a sync (not a dry run) of this district has ever succeeded."""
    return SyncRun.objects.filter(
        district_id=district_id, status=SyncRun.Status.SUCCEEDED, dry_run=False
    ).exists()


def live_schools_of(*, district: District) -> list[School]:
    """The district's live schools by name, each with ``section_count``: its live sections."""
    return list(
        School.objects.filter(district=district, archived_at=None)
        .annotate(
            section_count=Count("sections", filter=Q(sections__archived_at=None), distinct=True)
        )
        .order_by("name", "id")
    )


def last_runs_of(*, district: District) -> tuple[SyncRun | None, SyncRun | None]:
    """(the district's latest sync run, its latest successful one); dry runs are left out."""
    runs = SyncRun.objects.filter(district=district, dry_run=False).order_by("-created_at", "-id")
    return runs.first(), runs.filter(status=SyncRun.Status.SUCCEEDED).first()


# --- held runs: what they would archive, by name ------------------------------------------------


def _describe(spec: EntitySpec | LinkSpec, obj: Any) -> str:
    """A record by name ("North High"), an association by its ends ("Algebra 1 · Molly Lee")."""
    if isinstance(spec, EntitySpec):
        return str(obj)
    return " · ".join(
        getattr(obj, k) if isinstance(k, str) else str(getattr(obj, k.field)) for k in spec.keys
    )


def held_records(*, run: SyncRun, limit: int = 50) -> dict[str, tuple[list[str], int]]:
    """Per type, the names of (up to ``limit``) records a held run would archive, and how many
    it would archive in all."""
    named: dict[str, tuple[list[str], int]] = {}
    for name, entry in (run.plan.get("archive") or {}).items():
        spec = SPEC_BY_NAME.get(name)
        ids = list(entry.get("ids") or [])
        if spec is None or not ids:
            continue
        qs = spec.model.objects.filter(pk__in=ids[:limit]).order_by("pk")
        if isinstance(spec, LinkSpec):
            qs = qs.select_related(*(k.field for k in spec.keys if not isinstance(k, str)))
        named[name] = ([_describe(spec, obj) for obj in qs], entry.get("count", len(ids)))
    return named


# A term ending this close to today (before or after) makes a mass archive of its sections a
# rollover, not an accident.
ROLLOVER_WINDOW = dt.timedelta(days=45)


def rollover_note(*, section_ids: list[int], today: dt.date) -> str:
    """When most sections to archive belong to one term ending around today: a rollover, in
    words ("" otherwise). Reads at most 10,000 of the ids."""
    sample = section_ids[:10000]
    if not sample:
        return ""
    groups = (
        Section.objects.filter(pk__in=sample)
        .values("term__name", "term__end_date")
        .annotate(n=Count("pk"))
        .order_by("-n")
    )
    top = next(iter(groups), None)
    end = top["term__end_date"] if top is not None else None
    if end is None or abs(end - today) > ROLLOVER_WINDOW:
        return ""
    if top["n"] * 2 < len(sample):
        return ""
    return (
        f"Looks like a rollover: {top['n']} of the {len(sample)} sections to archive belong to "
        f"{top['term__name'] or 'a term'}, which ends on {end:%Y-%m-%d}. Approve once the new "
        "term's sections have arrived."
    )


def csv_run_report(run: SyncRun) -> list[str]:
    """A CSV run's files (name, size, time, rows read / applied / skipped), notes and row errors,
    as lines (the command's output; the admin shows the same)."""
    lines = []
    for entry in run.csv_files.select_related("file").order_by("file__name"):
        f = entry.file
        lines.append(
            f"  {f.name:<16} {f.size:>10} bytes  received {f.received_at:%Y-%m-%d %H:%M:%S}  "
            f"read {entry.rows_read}, applied {entry.rows_applied}, skipped {entry.rows_skipped}"
        )
    lines += [f"  note: {n}" for n in run.csv_notes.values_list("message", flat=True)]
    errors = run.errors.order_by("pk").values_list("message", flat=True)
    lines += [f"  row error: {message}" for message in errors[:200]]
    return lines


# --- the run page: a held run's records, searchable and paged ---------------------------------

_USER_NAME = ("first_name", "last_name", "preferred_name", "clever_id")
# Per type: where a row's name is searched, and the path to its school (None: it has none).
_HELD_SEARCH: dict[str, tuple[tuple[str, ...], str | None]] = {
    "schools": (("name", "clever_id"), ""),
    "terms": (("name", "clever_id"), None),
    "courses": (("name", "number", "clever_id"), None),
    "users": (_USER_NAME, None),
    "sections": (("name", "clever_id"), "school"),
    "user_roles": (tuple(f"user__{f}" for f in _USER_NAME), "school"),
    "user_schools": (tuple(f"user__{f}" for f in _USER_NAME), "school"),
    "contact_relationships": (
        tuple(f"{who}__{f}" for who in ("contact", "student") for f in _USER_NAME),
        None,
    ),
    "enrollments": (
        ("section__name", *(f"user__{f}" for f in _USER_NAME)),
        "section__school",
    ),
    "section_teachers": (
        ("section__name", *(f"user__{f}" for f in _USER_NAME)),
        "section__school",
    ),
}
HELD_PAGE_SIZE = 50


@dataclass
class HeldRow:
    record_type: str
    name: str
    school: str
    last_seen: dt.datetime | None


@dataclass
class HeldPage:
    """One page of the records a held run would archive, and where it sits among them."""

    rows: list[HeldRow]
    total: int
    page: int
    pages: int
    query: str
    # Per type: how many it would archive (all), and how many match the search.
    per_type: list[tuple[str, int, int]]


def _held_queryset(name: str, ids: list[int], query: str) -> QuerySet:
    spec = SPEC_BY_NAME[name]
    fields, school = _HELD_SEARCH[name]
    qs = spec.model.objects.filter(pk__in=ids)
    if query:
        match = Q()
        for f in fields:
            match |= Q(**{f"{f}__icontains": query})
        qs = qs.filter(match)
    related = [
        k.field.removesuffix("_id") for k in getattr(spec, "keys", ()) if hasattr(k, "field")
    ]
    if school:
        related.append(school)
    return qs.select_related(*related, "last_seen_run").order_by("pk")


def _held_school(name: str, obj: Any) -> str:
    path = _HELD_SEARCH[name][1]
    if path is None:
        return ""
    target = obj
    for part in path.split("__") if path else ():
        target = getattr(target, part, None)
        if target is None:
            return ""
    return str(target)


def _held_name(name: str, obj: Any) -> str:
    if isinstance(obj, User):
        return obj.display_name or obj.clever_id or obj.username
    if name in ("enrollments", "section_teachers"):
        return f"{obj.user.display_name or obj.user.clever_id} in {obj.section}"
    if name in ("user_roles", "user_schools"):
        return f"{obj.user.display_name or obj.user.clever_id} as {obj.role}"
    if name == "contact_relationships":
        return f"{obj.contact.display_name} for {obj.student.display_name}"
    return str(obj)


def held_page(*, run: SyncRun, query: str = "", page: int = 1) -> HeldPage:
    """The records a held run would archive (type, name, school, when last seen), searched by
    name and paged; at most HELD_PAGE_SIZE rows are read."""
    query = query.strip()
    plan = run.plan.get("archive") or {}
    per_type: list[tuple[str, int, int]] = []
    querysets: list[tuple[str, QuerySet, int]] = []
    for name in (n for n in SPEC_BY_NAME if n in plan):
        ids = list(plan[name].get("ids") or [])
        if not ids:
            continue
        qs = _held_queryset(name, ids, query)
        matching = qs.count() if query else len(ids)
        per_type.append((name, plan[name].get("count", len(ids)), matching))
        querysets.append((name, qs, matching))
    total = sum(n for _, _, n in querysets)
    pages = max(1, -(-total // HELD_PAGE_SIZE))
    page = min(max(page, 1), pages)
    skip, want = (page - 1) * HELD_PAGE_SIZE, HELD_PAGE_SIZE
    rows: list[HeldRow] = []
    for name, qs, n in querysets:
        if skip >= n:
            skip -= n
            continue
        label = SPEC_BY_NAME[name].record_type
        for obj in qs[skip : skip + want]:
            seen = obj.last_seen_run
            rows.append(
                HeldRow(
                    label,
                    _held_name(name, obj),
                    _held_school(name, obj),
                    (seen.finished_at or seen.created_at) if seen else None,
                )
            )
        want -= min(want, n - skip)
        skip = 0
        if want <= 0:
            break
    return HeldPage(rows, total, page, pages, query, per_type)


def district_counts(*, district: District) -> list[tuple[str, int, int]]:
    """The district's records per kind: (kind, live, archived), a query per kind."""
    kinds: list[tuple[str, QuerySet]] = [
        ("Schools", School.objects.filter(district=district)),
        ("Terms", Term.objects.filter(district=district)),
        ("Courses", Course.objects.filter(district=district)),
        ("Sections", Section.objects.filter(district=district)),
        (
            "Students",
            UserRole.objects.filter(user__district=district, role="student"),
        ),
        ("Teachers", UserRole.objects.filter(user__district=district, role="teacher")),
        ("Users", User.objects.filter(district=district)),
    ]
    rows = []
    for label, qs in kinds:
        counted = qs.aggregate(
            live=Count("pk", filter=Q(archived_at__isnull=True)),
            archived=Count("pk", filter=Q(archived_at__isnull=False)),
        )
        rows.append((label, counted["live"], counted["archived"]))
    return rows


# --- a user's page: who they are in the roster -------------------------------------------------


@dataclass
class UserRoster:
    roles: list[UserRole]
    schools: list[UserSchool]
    teaching: list[SectionTeacher]
    enrolled: list[SectionStudent]
    contacts: list[ContactRelationship]  # the user's contacts (a student's guardians)
    students: list[ContactRelationship]  # the students a contact is related to
    last_seen: SyncRun | None
    errors: list[Any]


ROSTER_LIMIT = 200


def user_roster(*, user: User) -> UserRoster:
    """A user's roles, schools, sections (taught, enrolled), contacts, the run that last saw
    them and the sync errors about them; live first, archived after, at most ROSTER_LIMIT each."""
    live_first = [F("archived_at").asc(nulls_first=True)]
    roles = list(
        UserRole.objects.filter(user=user).select_related("school").order_by(*live_first, "role")
    )
    schools = list(
        UserSchool.objects.filter(user=user)
        .select_related("school")
        .order_by(*live_first, "school__name")[:ROSTER_LIMIT]
    )
    teaching = list(
        SectionTeacher.objects.filter(user=user)
        .select_related("section__school", "section__term")
        .order_by(*live_first, "section__name")[:ROSTER_LIMIT]
    )
    enrolled = list(
        SectionStudent.objects.filter(user=user)
        .select_related("section__school", "section__term")
        .order_by(*live_first, "section__name")[:ROSTER_LIMIT]
    )
    contacts = list(
        ContactRelationship.objects.filter(student=user)
        .select_related("contact")
        .order_by(*live_first, "pk")[:ROSTER_LIMIT]
    )
    students = list(
        ContactRelationship.objects.filter(contact=user)
        .select_related("student")
        .order_by(*live_first, "pk")[:ROSTER_LIMIT]
    )
    last_seen = (
        SyncRun.objects.filter(pk=user.last_seen_run_id).first() if user.last_seen_run_id else None
    )
    errors: list[Any] = []
    if user.clever_id:
        errors = list(
            SyncError.objects.filter(clever_id=user.clever_id)
            .select_related("run")
            .order_by("-pk")[:10]
        )
    return UserRoster(roles, schools, teaching, enrolled, contacts, students, last_seen, errors)
