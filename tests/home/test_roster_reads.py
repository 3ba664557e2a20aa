"""rostering.selectors' raw SQL (the login path's roster reads, the home pages' class lists) reads
the same rows the ORM would, on PostgreSQL and SQLite alike."""

from __future__ import annotations

import pytest
from django.utils import timezone

from rostering import selectors
from rostering.models import District, UserRole
from tests.factories import (
    CleverUserFactory,
    DistrictFactory,
    SectionFactory,
    SectionStudentFactory,
    UserRoleFactory,
)

pytestmark = pytest.mark.django_db


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_district_by_clever_id_is_the_orms_row():
    district = DistrictFactory()
    found = selectors.district_by_clever_id(clever_id=district.clever_id)
    assert _fields(found) == _fields(District.objects.get(pk=district.pk))
    assert selectors.district_by_clever_id(clever_id="0" * 24) is None


def test_roles_of():
    user = CleverUserFactory()
    UserRoleFactory(user=user, role="teacher")
    UserRoleFactory(user=user, role="staff", archived_at=timezone.now())
    roles = sorted(selectors.roles_of(user_id=user.pk), key=lambda r: r.role)
    orm = sorted(UserRole.objects.filter(user=user), key=lambda r: r.role)
    assert [_fields(r) for r in roles] == [_fields(r) for r in orm]
    assert timezone.is_aware(roles[0].archived_at)


def test_display_name_is_the_users_own():
    user = CleverUserFactory(first_name="Robert", last_name="Smith", preferred_name="Bob")
    assert user.display_name == "Bob Smith"
    UserRoleFactory(user=user)
    section = SectionFactory()
    SectionStudentFactory(section=section, user=user)
    (person,) = selectors.people_on(section_ids=[section.pk], students=True)
    assert person.user.display_name == user.display_name
