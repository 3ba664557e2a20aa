"""Reads for the per-role home pages, built from the synced roster."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q

from accounts import login_sql
from accounts.models import User
from rostering.models import District, School, Section, SyncRun, UserRole

ADMIN_TYPES = frozenset({"district_admin", "staff", "school_admin"})
# Which home a multi-role person sees when we do not know how they logged in.
_ROLE_PREFERENCE = ("teacher", "district_admin", "staff", "student")


@dataclass(frozen=True)
class SectionCard:
    section: Section
    teachers: list[login_sql.Member] = field(default_factory=list)
    students: list[login_sql.Member] = field(default_factory=list)
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
    return login_sql.user_by_clever_id(clever_id=clever_id)


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


def _cards(*, user: User, kind: int) -> list[SectionCard]:
    sections = login_sql.sections_of(user_id=user.pk, kind=kind)
    people = login_sql.people_on(
        section_ids=[s.pk for s in sections], students=kind == login_sql.TEACHER
    )
    teachers: dict[int, list[login_sql.Person]] = {s.pk: [] for s in sections}
    students: dict[int, list[login_sql.Member]] = {s.pk: [] for s in sections}
    for p in people:
        if p.kind == login_sql.TEACHER:
            teachers[p.section_id].append(p)
        else:
            students[p.section_id].append(p.user)
    return [
        SectionCard(
            section=s,
            # A teacher's own card lists the others teaching with them.
            teachers=[
                p.user for p in teachers[s.pk] if kind == login_sql.STUDENT or p.user.pk != user.pk
            ],
            students=students[s.pk],
            primary_teacher_id=next((p.user.pk for p in teachers[s.pk] if p.position == 0), None),
        )
        for s in sections
    ]


def teacher_sections(*, user: User) -> list[SectionCard]:
    """The sections this user teaches, each with its students and co-teachers."""
    return _cards(user=user, kind=login_sql.TEACHER)


def student_sections(*, user: User) -> list[SectionCard]:
    """The sections this student is enrolled in, each with its teachers (primary first)."""
    return _cards(user=user, kind=login_sql.STUDENT)


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
