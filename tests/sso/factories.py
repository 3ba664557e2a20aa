"""Roster rows for the home-page tests (what the sync would have written)."""

from __future__ import annotations

import factory
from django.utils import timezone

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


def _hex(n: int, prefix: str) -> str:
    return (prefix + format(n, "x")).rjust(24, "0")[-24:]


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District

    clever_id = factory.Sequence(lambda n: _hex(n, "d"))
    name = factory.Sequence(lambda n: f"District {n}")
    connected_at = factory.LazyFunction(timezone.now)


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    clever_id = factory.Sequence(lambda n: _hex(n, "5c"))
    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"School {n}")
    school_number = factory.Sequence(lambda n: str(100 + n))


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section

    clever_id = factory.Sequence(lambda n: _hex(n, "5e"))
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
    source = User.Source.CLEVER
    clever_id = factory.Sequence(lambda n: _hex(n, "u"))
    username = factory.LazyAttribute(lambda o: f"clever-{o.clever_id}")
    district = factory.SubFactory(DistrictFactory)


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
