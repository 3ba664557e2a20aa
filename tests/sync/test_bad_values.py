"""Bad values from Clever: reported by record and skipped, or the value dropped and reported, and
the rest of the district applied; a page that is not what its endpoint returns fails the run
with nothing archived."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from accounts.models import User
from rostering.models import (
    ContactRelationship,
    Section,
    SectionTeacher,
    SyncRun,
    Term,
    UserSchool,
)
from tests.sync.conftest import sync, totals

pytestmark = pytest.mark.django_db

MOLLY = "07782ff269ed248fe3548e49"


def _district(clever):
    return clever.world.district_named("Certification ISD")


def _records(clever, record_type: str) -> list[dict]:
    return clever.world.records(_district(clever).id, record_type)


def _messages(run: SyncRun) -> dict[str, str]:
    return {e.clever_id: e.message for e in run.errors.all()}


def test_a_page_of_another_types_records_fails_the_run_and_archives_nothing(
    cert, clever, monkeypatch
):
    sync(cert)
    world = clever.world
    real_page = world.page
    sections = [json.dumps(s).encode() for s in _records(clever, "sections")]

    def page(d, record_type, **kwargs):
        records, after, before = real_page(d, record_type, **kwargs)
        if record_type == "users":
            return sections[: len(records)], after, before
        return records, after, before

    monkeypatch.setattr(world, "page", page)
    run = sync(cert, expect=SyncRun.Status.FAILED)
    assert run.stopped_at == "GET /v3.0/users page 1"
    assert "is a section record, not a user" in run.error
    assert totals(run, "archived") == 0
    assert not User.objects.filter(district=cert, archived_at__isnull=False).exists()


def test_a_page_of_another_districts_records_fails_the_run(cert, clever, monkeypatch):
    sync(cert)
    world = clever.world
    real_page = world.page

    def page(d, record_type, **kwargs):
        records, after, before = real_page(d, record_type, **kwargs)
        if record_type == "schools":
            moved = [dict(json.loads(r), district="5" * 24) for r in records]
            return [json.dumps(r).encode() for r in moved], after, before
        return records, after, before

    monkeypatch.setattr(world, "page", page)
    run = sync(cert, expect=SyncRun.Status.FAILED)
    assert run.stopped_at == "GET /v3.0/schools page 1"
    assert "every record on the page belongs to another district" in run.error
    assert totals(run, "archived") == 0


def test_one_record_of_another_district_is_refused_and_reported(cert, clever):
    clever.world.update_record("users", MOLLY, district="5" * 24)
    run = sync(cert)
    assert "belongs to district 555" in _messages(run)[MOLLY]
    assert not User.objects.filter(clever_id=MOLLY).exists()
    assert User.objects.filter(district=cert).count() > 10


def test_an_id_too_long_is_reported_and_the_rest_applies(cert, clever):
    long_id = "f" * 70
    clever.world.update_record("users", MOLLY, id=long_id)
    run = sync(cert)
    assert "longer than 64 characters" in _messages(run)["f" * 64]
    assert User.objects.filter(district=cert).count() > 10


def test_nul_characters_are_removed_and_reported(cert, clever):
    clever.world.update_record("users", MOLLY, name__first="Mo\x00lly")
    section = _records(clever, "sections")[0]
    clever.world.update_record("sections", section["id"], name="Bio\x00logy")
    run = sync(cert)
    molly = User.objects.get(clever_id=MOLLY)
    assert molly.first_name == "Molly"
    assert Section.objects.get(clever_id=section["id"]).name == "Biology"
    messages = _messages(run)
    assert "'name.first' had NUL characters; removed" in messages[MOLLY]
    assert "'name' had NUL characters" in messages[section["id"]]


def test_unpaired_surrogates_are_replaced_and_reported(cert, clever):
    d = _district(clever)
    molly = json.loads(d.records["users"][MOLLY])
    molly["name"]["first"] = "Mo\ud800lly"
    # As Clever would send it: JSON's \ud800 escape, which decodes to a lone surrogate.
    d.records["users"][MOLLY] = json.dumps(molly, ensure_ascii=True).encode()
    run = sync(cert)
    assert User.objects.get(clever_id=MOLLY).first_name == "Mo\ufffdlly"
    assert "unpaired surrogates" in _messages(run)[MOLLY]


def test_a_long_contact_relationship_is_stored_as_sent(cert, clever):
    contact = next(u for u in _records(clever, "users") if "contact" in u["roles"])
    rels = contact["roles"]["contact"]["student_relationships"]
    long = "Legal guardian appointed by the county court"
    rels[0]["relationship"] = long
    clever.world.update_record("users", contact["id"], roles=contact["roles"])
    run = sync(cert)
    assert not run.errors.exists()
    assert ContactRelationship.objects.filter(relationship=long).count() == 1


def test_bad_values_inside_a_record_cost_only_the_value(cert, clever):
    section = next(s for s in _records(clever, "sections") if s.get("teachers"))
    teacher = section["teachers"][0]
    clever.world.update_record("sections", section["id"], teachers=["", teacher], teacher=teacher)
    staff = next(u for u in _records(clever, "users") if "staff" in u["roles"])
    roles = staff["roles"]
    roles["staff"]["schools"] = ["", *roles["staff"]["schools"]]
    clever.world.update_record("users", staff["id"], roles=roles)
    contact = next(
        u
        for u in _records(clever, "users")
        if len(u["roles"].get("contact", {}).get("student_relationships", [])) >= 1
    )
    croles = contact["roles"]
    kept = croles["contact"]["student_relationships"]
    croles["contact"]["student_relationships"] = [{"relationship": "Parent"}, *kept]
    clever.world.update_record("users", contact["id"], roles=croles)
    term = _records(clever, "terms")[0]
    clever.world.update_record("terms", term["id"], start_date="08/20/2025")

    run = sync(cert)
    messages = _messages(run)
    assert SectionTeacher.objects.filter(
        section__clever_id=section["id"], user__clever_id=teacher, position=0
    ).exists()
    assert "'teachers': an entry is not an id" in messages[section["id"]]
    assert (
        UserSchool.objects.filter(user__clever_id=staff["id"], role="staff").count()
        == len(roles["staff"]["schools"]) - 1
    )
    assert "'roles.staff.schools'" in messages[staff["id"]]
    assert ContactRelationship.objects.filter(contact__clever_id=contact["id"]).count() == len(kept)
    assert "has no student" in messages[contact["id"]]
    stored = Term.objects.get(clever_id=term["id"])
    assert stored.start_date is None and stored.end_date == dt.date.fromisoformat(
        term["end_date"][:10]
    )
    assert "'start_date' is not a date" in messages[term["id"]]
