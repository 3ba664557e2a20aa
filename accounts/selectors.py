"""Reads for the per-role home pages, built from the synced roster."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet, prefetch_related_objects

from accounts.models import User
from rostering.models import (
    District,
    School,
    Section,
    SectionStudent,
    SectionTeacher,
    SyncRun,
    UserRole,
)

ADMIN_TYPES = frozenset({"district_admin", "staff", "school_admin"})
# What the home pages show of a person (fewer columns: these pages list many people).
_PERSON = ("user__username", "user__first_name", "user__last_name", "user__preferred_name")
# What the home pages show of a section, its school, term and course (Course.__str__).
_SECTION_FIELDS = (
    "name",
    "period",
    "grade",
    "school__name",
    "term__name",
    "course__name",
    "course__number",
    "course__clever_id",
)
# Which home a multi-role person sees when we do not know how they logged in.
_ROLE_PREFERENCE = ("teacher", "district_admin", "staff", "student")


@dataclass(frozen=True)
class SectionCard:
    section: Section
    teachers: list[User] = field(default_factory=list)
    students: list[User] = field(default_factory=list)
    # The section's primary teacher (Clever's ``teacher``: position 0), if shared with us.
    primary_teacher_id: int | None = None


@dataclass(frozen=True)
class DistrictOverview:
    district: District | None
    schools: list[School]
    last_run: SyncRun | None
    last_success: SyncRun | None


def user_by_clever_id(*, clever_id: str) -> User | None:
    """The account keyed by this Clever ID (made by the sync or an earlier login), if any."""
    return User.objects.filter(clever_id=clever_id).first()


def home_role(*, user: User, login_type: str | None) -> str:
    """Which home page this user sees: how they logged in, else their most useful Clever role."""
    if login_type:
        return "admin" if login_type in ADMIN_TYPES else login_type
    if not user.clever_id:
        return ""
    roles = set(UserRole.objects.filter(user=user, archived_at=None).values_list("role", flat=True))
    for role in _ROLE_PREFERENCE:
        if role in roles:
            return "admin" if role in ADMIN_TYPES else role
    return ""


def _active_teachers() -> Prefetch:
    return Prefetch(
        "teacher_links",
        queryset=SectionTeacher.objects.filter(archived_at=None, user__archived_at=None)
        .select_related("user")
        .only("section_id", "user_id", "position", *_PERSON)
        .order_by("position", "user__last_name", "user__first_name"),
        to_attr="active_teacher_links",
    )


def _active_students() -> Prefetch:
    return Prefetch(
        "student_links",
        queryset=SectionStudent.objects.filter(archived_at=None, user__archived_at=None)
        .select_related("user")
        .only("section_id", "user_id", *_PERSON)
        .order_by("user__last_name", "user__first_name", "user_id"),
        to_attr="active_student_links",
    )


def _primary(section: Section) -> int | None:
    return next((t.user_id for t in section.active_teacher_links if t.position == 0), None)


def _sections(section_ids: QuerySet) -> list[Section]:
    # An IN (subquery) instead of a join and DISTINCT, and only the columns the pages show: the
    # wide DISTINCT over four tables cost PostgreSQL ~1 ms of planning on every home page.
    return list(
        Section.objects.filter(pk__in=section_ids, archived_at=None)
        .select_related("school", "course", "term")
        .only(*_SECTION_FIELDS)
        .order_by("school__name", "period", "name", "id")
    )


def teacher_sections(*, user: User) -> list[SectionCard]:
    """The sections this user teaches, each with its students and co-teachers."""
    sections = _sections(
        SectionTeacher.objects.filter(user=user, archived_at=None).values("section_id")
    )
    prefetch_related_objects(sections, _active_teachers(), _active_students())
    return [
        SectionCard(
            section=s,
            teachers=[link.user for link in s.active_teacher_links if link.user_id != user.pk],
            students=[link.user for link in s.active_student_links],
            primary_teacher_id=_primary(s),
        )
        for s in sections
    ]


def student_sections(*, user: User) -> list[SectionCard]:
    """The sections this student is enrolled in, each with its teachers (primary first)."""
    sections = _sections(
        SectionStudent.objects.filter(user=user, archived_at=None).values("section_id")
    )
    prefetch_related_objects(sections, _active_teachers())
    return [
        SectionCard(
            section=s,
            teachers=[link.user for link in s.active_teacher_links],
            primary_teacher_id=_primary(s),
        )
        for s in sections
    ]


def roster_synced(*, district_id: int | None) -> bool:
    """Whether a sync of this district has ever finished (else the roster is not there yet)."""
    if district_id is None:
        return False
    return SyncRun.objects.filter(
        district_id=district_id, status=SyncRun.Status.SUCCEEDED, dry_run=False
    ).exists()


def district_overview(*, user: User) -> DistrictOverview:
    """The user's district: its schools (with section counts) and its latest sync runs."""
    district = user.district
    if district is None:
        return DistrictOverview(district=None, schools=[], last_run=None, last_success=None)
    schools = list(
        School.objects.filter(district=district, archived_at=None)
        .annotate(
            section_count=Count("sections", filter=Q(sections__archived_at=None), distinct=True)
        )
        .order_by("name", "id")
    )
    runs = SyncRun.objects.filter(district=district, dry_run=False).order_by("-created_at", "-id")
    return DistrictOverview(
        district=district,
        schools=schools,
        last_run=runs.first(),
        last_success=runs.filter(status=SyncRun.Status.SUCCEEDED).first(),
    )
