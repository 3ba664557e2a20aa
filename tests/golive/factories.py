"""Model data for the go-live tests: roster rows as the sync would leave them."""

from __future__ import annotations

import datetime as dt
import itertools

import factory
from django.utils import timezone

from accounts.models import User
from rostering.models import District, School, Section, SyncRun, UserRole

_ids = itertools.count(1)


def clever_id() -> str:
    """A fresh 24-hex Clever-like id (ObjectID-shaped, as Clever's are)."""
    return f"{next(_ids):024x}"


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District

    clever_id = factory.LazyFunction(clever_id)
    name = factory.Sequence(lambda n: f"District {n}")
    status = District.Status.CONNECTED
    connected_at = factory.LazyFunction(timezone.now)


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    clever_id = factory.LazyFunction(clever_id)
    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"School {n}")


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section

    clever_id = factory.LazyFunction(clever_id)
    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"Section {n}")


class CleverUserFactory(factory.django.DjangoModelFactory):
    """A synced Clever user with one role (``role``)."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    clever_id = factory.LazyFunction(clever_id)
    username = factory.LazyAttribute(lambda o: f"clever-{o.clever_id}")
    source = User.Source.CLEVER
    district = factory.SubFactory(DistrictFactory)

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        if create and extracted:
            UserRole.objects.create(user=self, role=extracted)


class SyncRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncRun

    district = factory.SubFactory(DistrictFactory)
    trigger = SyncRun.Trigger.SCHEDULED
    status = SyncRun.Status.SUCCEEDED


def make_district(name: str = "Springfield USD", *, status: str = "connected") -> District:
    return DistrictFactory(name=name, status=status)


def make_user(district: District, role: str, *, archived: bool = False) -> User:
    return CleverUserFactory(
        district=district, role=role, archived_at=timezone.now() if archived else None
    )


def make_roster(
    district: District, *, schools: int = 1, sections: int = 1, students: int = 1, teachers: int = 1
) -> None:
    SchoolFactory.create_batch(schools, district=district)
    SectionFactory.create_batch(sections, district=district)
    CleverUserFactory.create_batch(students, district=district, role="student")
    CleverUserFactory.create_batch(teachers, district=district, role="teacher")


def make_run(
    district: District, status: str = "succeeded", *, ago: dt.timedelta | None = None
) -> SyncRun:
    when = timezone.now() - (ago or dt.timedelta(hours=1))
    run = SyncRunFactory(district=district, status=status, started_at=when, finished_at=when)
    SyncRun.objects.filter(pk=run.pk).update(created_at=when)
    return run
