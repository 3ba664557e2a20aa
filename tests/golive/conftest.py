"""Fixtures for the go-live tests: staff users and roster rows as the sync would leave them."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from accounts.models import User
from rostering.models import District, School, Section, SyncRun, UserRole

_ids = itertools.count(1)


def clever_id() -> str:
    """A fresh 24-hex Clever-like id."""
    return f"{next(_ids):024x}"


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user(
        username="ops", password="ops-pass-1234", is_staff=True, email="ops@example.com"
    )


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def make_district(name: str = "Springfield USD", *, status: str = "connected") -> District:
    return District.objects.create(clever_id=clever_id(), name=name, status=status)


def make_user(district: District, role: str, *, archived: bool = False) -> User:
    cid = clever_id()
    user = User.objects.create(
        username=f"clever-{cid}",
        clever_id=cid,
        source=User.Source.CLEVER,
        district=district,
        archived_at=timezone.now() if archived else None,
    )
    UserRole.objects.create(user=user, role=role)
    return user


def make_roster(
    district: District, *, schools: int = 1, sections: int = 1, students: int = 1, teachers: int = 1
) -> None:
    for _ in range(schools):
        School.objects.create(clever_id=clever_id(), district=district, name="School")
    for _ in range(sections):
        Section.objects.create(clever_id=clever_id(), district=district, name="Math")
    for _ in range(students):
        make_user(district, "student")
    for _ in range(teachers):
        make_user(district, "teacher")


def make_run(district: District, status: str = "succeeded", *, ago: dt.timedelta | None = None):
    when = timezone.now() - (ago or dt.timedelta(hours=1))
    run = SyncRun.objects.create(
        district=district, trigger="scheduled", status=status, started_at=when, finished_at=when
    )
    SyncRun.objects.filter(pk=run.pk).update(created_at=when)
    return run


class Clock:
    """Moves ``timezone.now`` (and so ``localdate``) to simulate days passing."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch
        self._offset = dt.timedelta()
        real_now = timezone.now
        monkeypatch.setattr(timezone, "now", lambda: real_now() + self._offset)

    def advance(self, **kwargs: float) -> None:
        self._offset += dt.timedelta(**kwargs)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)
