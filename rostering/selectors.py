"""Named reads over the roster: the district export and the admin's district overview."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.models import User
from rostering.models import (
    ContactRelationship,
    Course,
    District,
    School,
    Section,
    SectionStudent,
    SectionTeacher,
    SyncRun,
    Term,
    UserRole,
    UserSchool,
)

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
                *(["position"] if model is SectionTeacher else []), "pk"
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
        for r in UserRole.objects.filter(user_id__in=ids, archived_at__isnull=True).select_related(
            "school"
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
            .order_by("pk")
            .values_list("user_id", "school__clever_id")
        ):
            if school_cid not in schools[user_id]:
                schools[user_id].append(school_cid)
        students: dict[int, list[dict[str, str]]] = defaultdict(list)
        for c in ContactRelationship.objects.filter(
            Q(contact_id__in=ids), archived_at__isnull=True
        ).values("contact_id", "student__clever_id", "relationship", "type"):
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
    yield "schools", _schools(district)
    yield "terms", _terms(district)
    yield "courses", _courses(district)
    yield "sections", _sections(district)
    yield "users", _users(district)
