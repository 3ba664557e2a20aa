"""Go-live test data: districts with rosters and sync runs, in a line each."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.models import User
from rostering.models import District, SyncRun
from tests.factories import (
    CleverUserFactory,
    DistrictFactory,
    SchoolFactory,
    SectionFactory,
    SyncRunFactory,
    clever_id,
)

__all__ = ["clever_id", "make_district", "make_roster", "make_run", "make_user"]


def make_district(name: str = "Springfield USD", *, status: str = "connected") -> District:
    return DistrictFactory(name=name, status=status)


def make_user(district: District, role: str, *, archived: bool = False) -> User:
    return CleverUserFactory(
        district=district, role=role, archived_at=timezone.now() if archived else None
    )


def make_roster(
    district: District, *, schools: int = 1, sections: int = 1, students: int = 1, teachers: int = 1
) -> None:
    first, *_ = SchoolFactory.create_batch(schools, district=district)
    SectionFactory.create_batch(sections, school=first)
    CleverUserFactory.create_batch(students, district=district, role="student")
    CleverUserFactory.create_batch(teachers, district=district, role="teacher")


def make_run(
    district: District,
    status: str = "succeeded",
    *,
    ago: dt.timedelta | None = None,
    client_id: str = "",
) -> SyncRun:
    when = timezone.now() - (ago or dt.timedelta(hours=1))
    run = SyncRunFactory(
        district=district, status=status, started_at=when, finished_at=when, client_id=client_id
    )
    SyncRun.objects.filter(pk=run.pk).update(created_at=when)
    return run
