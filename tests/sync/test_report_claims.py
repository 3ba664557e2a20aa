"""What the certification report says the sync does with ops' edits and with missing fields."""

from __future__ import annotations

import pytest

from accounts.models import User
from golive.report import report_facts, report_markdown
from rostering.models import District, School, Section, SyncError
from tests.sync.conftest import sync

pytestmark = pytest.mark.django_db

MOLLY = "07782ff269ed248fe3548e49"  # student ST100


def _answer(question_start: str) -> str:
    markdown = report_markdown(report_facts())
    start = markdown.index(f"**{question_start}")
    return markdown[start:].split("\n\n", 2)[1]


def _first(clever, record_type: str) -> dict:
    district = clever.world.district_named("Certification ISD")
    return clever.world.records(district.id, record_type)[0]


def test_an_edit_to_a_synced_field_lasts_until_clever_changes_that_record(cert, clever):
    sync(cert)
    # Edits made in the database (the admin shows these fields read-only on Clever accounts).
    User.objects.filter(clever_id=MOLLY).update(first_name="Edited", preferred_name="Mols")
    school = _first(clever, "schools")
    School.objects.filter(clever_id=school["id"]).update(name="Renamed by ops")
    District.objects.filter(pk=cert.pk).update(name="Renamed district")

    run = sync(cert)
    assert run.counts["users"]["updated"] == 0
    molly = User.objects.get(clever_id=MOLLY)
    assert (molly.first_name, molly.preferred_name) == ("Edited", "Mols")
    assert School.objects.get(clever_id=school["id"]).name == "Renamed by ops"
    # The district's name is compared with Clever's at every full sync.
    assert District.objects.get(pk=cert.pk).name == "Certification ISD"

    # Clever changes the record (another field of it): the whole record is written again.
    clever.world.update_record("users", MOLLY, name__middle="Ann")
    run = sync(cert)
    assert run.counts["users"]["updated"] == 1
    molly.refresh_from_db()
    assert (molly.first_name, molly.middle_name) == ("Molly", "Ann")
    assert molly.preferred_name == "Mols"  # never written by the sync

    persist = _answer("If you can do any of the above, will the changes persist?")
    assert "lasts until Clever changes that record" in persist
    assert "A district's name edited in the admin is replaced by Clever's at the next full" in (
        persist
    )
    assert "a preferred name" in persist and "never written by the sync" in persist


def test_missing_guaranteed_fields_are_stored_empty_and_not_reported(cert, clever):
    sync(cert)
    school, section = _first(clever, "schools"), _first(clever, "sections")
    # Fields Clever documents as guaranteed, left out.
    clever.world.update_record("users", MOLLY, name__first=None, name__last=None)
    clever.world.update_record("schools", school["id"], sis_id=None, school_number=None)
    clever.world.update_record("sections", section["id"], name=None, sis_id=None)
    run = sync(cert)
    assert run.counts["errors"]["count"] == 0
    assert not SyncError.objects.filter(run=run).exists()
    molly = User.objects.get(clever_id=MOLLY)
    assert (molly.first_name, molly.last_name, molly.archived_at) == ("", "", None)
    stored = School.objects.get(clever_id=school["id"])
    assert (stored.sis_id, stored.school_number, stored.archived_at) == ("", "", None)
    stored = Section.objects.get(clever_id=section["id"])
    assert (stored.name, stored.sis_id, stored.archived_at) == ("", "", None)

    answer = _answer("How does your application handle missing fields")
    assert "Clever's guaranteed fields included" in answer
    assert "stored empty when Clever leaves it out, without an error in the run" in answer
