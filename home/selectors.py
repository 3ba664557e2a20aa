"""Reads for the per-role home pages: which page a person sees, and its contents, composed from
the roster's selectors (``rostering.selectors``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from clever.usertypes import ADMIN_TYPES
from rostering import selectors as roster
from rostering.selectors import STUDENT, TEACHER, Member, Person

if TYPE_CHECKING:
    from accounts.models import User
    from rostering.models import District, School, Section, SyncRun

# Which home a multi-role person sees when we do not know how they logged in.
_ROLE_PREFERENCE = ("teacher", "district_admin", "staff", "student")


@dataclass(frozen=True)
class SectionCard:
    section: Section
    teachers: list[Member] = field(default_factory=list)
    students: list[Member] = field(default_factory=list)
    # The section's primary teacher (Clever's ``teacher``: position 0), if shared with us.
    primary_teacher_id: int | None = None


@dataclass(frozen=True)
class DistrictOverview:
    district: District | None
    schools: list[School]
    last_run: SyncRun | None
    last_success: SyncRun | None


def home_role(*, user: User, login_type: str | None) -> str:
    """Which home page this user sees: how they logged in, else their most useful Clever role."""
    if login_type:
        return "admin" if login_type in ADMIN_TYPES else login_type
    if not user.clever_id:
        return ""
    roles = {r.role for r in roster.roles_of(user_id=user.pk) if r.archived_at is None}
    for role in _ROLE_PREFERENCE:
        if role in roles:
            return "admin" if role in ADMIN_TYPES else role
    return ""


def _cards(*, user: User, kind: int) -> list[SectionCard]:
    sections = roster.sections_of(user_id=user.pk, kind=kind)
    people = roster.people_on(section_ids=[s.pk for s in sections], students=kind == TEACHER)
    teachers: dict[int, list[Person]] = {s.pk: [] for s in sections}
    students: dict[int, list[Member]] = {s.pk: [] for s in sections}
    for p in people:
        if p.kind == TEACHER:
            teachers[p.section_id].append(p)
        else:
            students[p.section_id].append(p.user)
    return [
        SectionCard(
            section=s,
            # A teacher's own card lists the others teaching with them.
            teachers=[p.user for p in teachers[s.pk] if kind == STUDENT or p.user.pk != user.pk],
            students=students[s.pk],
            primary_teacher_id=next((p.user.pk for p in teachers[s.pk] if p.position == 0), None),
        )
        for s in sections
    ]


def teacher_sections(*, user: User) -> list[SectionCard]:
    """The sections this user teaches, each with its students and co-teachers."""
    return _cards(user=user, kind=TEACHER)


def student_sections(*, user: User) -> list[SectionCard]:
    """The sections this student is enrolled in, each with its teachers (primary first)."""
    return _cards(user=user, kind=STUDENT)


def roster_synced(*, district_id: int | None) -> bool:
    """Whether a sync of this district has ever finished (else the roster is not there yet)."""
    return district_id is not None and roster.district_synced(district_id=district_id)


def district_overview(*, user: User) -> DistrictOverview:
    """The user's district: its schools (with section counts) and its latest sync runs."""
    district = user.district
    if district is None:
        return DistrictOverview(district=None, schools=[], last_run=None, last_success=None)
    schools = roster.live_schools_of(district=district)
    last_run, last_success = roster.last_runs_of(district=district)
    return DistrictOverview(
        district=district, schools=schools, last_run=last_run, last_success=last_success
    )
