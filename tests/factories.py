"""Model factories for the tests: roster rows as the sync would leave them."""

from __future__ import annotations

import itertools

import factory
from django.utils import timezone

from accounts.models import User, clever_username
from rostering.models import (
    District,
    School,
    Section,
    SectionStudent,
    SectionTeacher,
    SyncRun,
    UserRole,
)

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
    school_number = factory.Sequence(lambda n: str(100 + n))


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section

    clever_id = factory.LazyFunction(clever_id)
    school = factory.SubFactory(SchoolFactory)
    district = factory.SelfAttribute("school.district")
    name = factory.Sequence(lambda n: f"Section {n}")
    period = "1"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = factory.Sequence(lambda n: f"Last{n}")


class CleverUserFactory(UserFactory):
    """A synced Clever user; ``role="teacher"`` also gives them that role."""

    class Meta:
        skip_postgeneration_save = True

    source = User.Source.CLEVER
    clever_id = factory.LazyFunction(clever_id)
    username = factory.LazyAttribute(lambda o: clever_username(o.clever_id))
    district = factory.SubFactory(DistrictFactory)

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        if create and extracted:
            UserRole.objects.create(user=self, role=extracted)


class UserRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UserRole

    user = factory.SubFactory(CleverUserFactory)
    role = "teacher"


class SectionTeacherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SectionTeacher

    section = factory.SubFactory(SectionFactory)
    user = factory.SubFactory(CleverUserFactory)
    position = 0


class SectionStudentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SectionStudent

    section = factory.SubFactory(SectionFactory)
    user = factory.SubFactory(CleverUserFactory)


class SyncRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncRun

    district = factory.SubFactory(DistrictFactory)
    trigger = SyncRun.Trigger.SCHEDULED
    status = SyncRun.Status.SUCCEEDED
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyFunction(timezone.now)
