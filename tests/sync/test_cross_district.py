"""One district's run never reads or changes another district's rows, whatever Clever sends."""

from __future__ import annotations

import json

import pytest

from accounts.models import User
from rostering.models import SectionStudent, UserSchool
from tests.sync.conftest import sync

pytestmark = pytest.mark.django_db

MOLLY = "07782ff269ed248fe3548e49"  # a Certification ISD student


def _lake(clever):
    return clever.world.district_named("Lakeside Charter Schools")


def test_a_section_naming_another_districts_student_does_not_enrol_her(cert, lake, clever):
    sync(cert)
    section = clever.world.records(_lake(clever).id, "sections")[0]
    clever.world.update_record("sections", section["id"], students=[*section["students"], MOLLY])
    run = sync(lake)
    assert not SectionStudent.objects.filter(
        section__clever_id=section["id"], user__clever_id=MOLLY
    ).exists()
    assert any(
        MOLLY in e.message and "unknown or unshared user" in e.message for e in run.errors.all()
    )


def test_the_same_user_id_from_two_districts_is_refused_and_never_flips(
    cert, lake, clever, monkeypatch
):
    sync(cert)
    molly = User.objects.get(clever_id=MOLLY)
    schools = set(UserSchool.objects.filter(user=molly).values_list("school_id", "archived_at"))
    d_lake = _lake(clever)
    raw = clever.world.user(MOLLY)[1]
    twin = dict(raw, district=d_lake.id)
    lake_school = clever.world.records(d_lake.id, "schools")[0]["id"]
    twin["roles"] = {
        "student": dict(raw["roles"]["student"], school=lake_school, schools=[lake_school])
    }
    real_page = clever.world.page

    def page(d, record_type, **kwargs):
        records, after, before = real_page(d, record_type, **kwargs)
        if d is d_lake and record_type == "users" and kwargs.get("starting_after") is None:
            return [json.dumps(twin).encode(), *records], after, before
        return records, after, before

    monkeypatch.setattr(clever.world, "page", page)
    for _ in range(2):
        run = sync(lake)
        assert run.errors.filter(
            clever_id=MOLLY, message__contains="belongs to another district here"
        ).exists()
        sync(cert)
    molly.refresh_from_db()
    assert molly.district == cert
    assert (
        set(UserSchool.objects.filter(user=molly).values_list("school_id", "archived_at"))
        == schools
    )
