"""Clever's events over real HTTP: after a full sync, changes arrive as events, in order."""

from __future__ import annotations

import pytest

from accounts.models import User
from rostering import services
from rostering.models import District, Section, SectionStudent, SyncRun, Term
from tests.sync.conftest import sync

pytestmark = pytest.mark.django_db

MOLLY = "07782ff269ed248fe3548e49"


def _events(district) -> SyncRun:
    district.refresh_from_db()
    run = services.district_events_apply(district=district)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, (run.stopped_at, run.error)
    return run


def test_a_full_sync_records_the_newest_event_then_events_apply_in_order(cert, clever):
    clever.world.update_record("users", MOLLY, name__first="Before")  # an event before the sync
    sync(cert)
    cert.refresh_from_db()
    assert cert.last_event_id  # Clever's flow: note the newest event, then sync
    assert _events(cert).counts["events"]["count"] == 0  # nothing new since

    section = Section.objects.get(sis_id="SEC-HS-BIO")
    clever.world.update_record("users", MOLLY, name__first="Molly-Ann")
    clever.world.unshare("sections", section.clever_id)
    run = _events(cert)
    assert run.counts["events"]["count"] == 2
    assert User.objects.get(clever_id=MOLLY).first_name == "Molly-Ann"
    section.refresh_from_db()
    assert section.archived_at is not None
    assert not SectionStudent.objects.filter(section=section, archived_at=None).exists()

    clever.world.reshare("sections", section.clever_id)
    run = _events(cert)
    assert run.counts["sections"]["restored"] == 1
    again = Section.objects.get(sis_id="SEC-HS-BIO")
    assert again.pk == section.pk and again.archived_at is None
    bio = next(
        s for s in clever.world.records(cert.clever_id, "sections") if s["sis_id"] == "SEC-HS-BIO"
    )
    live = SectionStudent.objects.filter(section=again, archived_at=None)
    assert live.count() == len(bio["students"])

    # Idempotent: nothing new, nothing changes; the cursor stays.
    cursor = cert.last_event_id
    assert _events(cert).counts["events"]["count"] == 0
    assert cert.last_event_id == cursor


def test_events_for_a_new_user_then_their_deletion(cert, clever, settings):
    # One student's links are a large fraction of a tiny district's: the default minimum keeps
    # the guard (which deletions pass too) out of an ordinary leave.
    settings.CLEVER_SYNC_ARCHIVE_MIN_COUNT = 20
    sync(cert)
    rows = set(SectionStudent.objects.filter(user__clever_id=MOLLY).values_list("pk", flat=True))
    clever.world.unshare("users", MOLLY)
    run = _events(cert)
    assert run.counts["users"]["archived"] == 1
    assert run.counts["enrollments"]["archived"] == 5
    molly = User.objects.get(clever_id=MOLLY)
    assert not SectionStudent.objects.filter(user=molly, archived_at__isnull=True).exists()
    clever.world.reshare("users", MOLLY)
    run = _events(cert)
    assert run.counts["users"]["restored"] == 1
    assert User.objects.get(clever_id=MOLLY).archived_at is None
    # Her classes come back with her (a targeted fetch of her sections), on the same rows.
    assert run.counts["enrollments"]["restored"] == 5
    back = SectionStudent.objects.filter(user=molly, archived_at__isnull=True)
    assert set(back.values_list("pk", flat=True)) == rows and len(rows) == 5


def test_a_failure_part_way_keeps_what_was_applied_and_resumes(cert, clever, settings):
    sync(cert)
    clever.world.update_record("users", MOLLY, name__first="One")
    clever.world.faults.add("/v3.0/events", "500", times=settings.CLEVER_HTTP_MAX_RETRIES + 1)
    cert.refresh_from_db()
    failed = services.district_events_apply(district=cert)
    assert failed.status == SyncRun.Status.FAILED
    assert failed.stopped_at == "GET /v3.0/events page 1"
    assert _events(cert).counts["users"]["updated"] == 1
    assert User.objects.get(clever_id=MOLLY).first_name == "One"


def test_deleted_events_pass_the_same_guard_and_a_held_one_waits_for_review(cert, clever, settings):
    settings.CLEVER_SYNC_ARCHIVE_MAX_FRACTION = 0.2
    settings.CLEVER_SYNC_ARCHIVE_MIN_COUNT = 1  # a fraction counts from the second row
    sync(cert)
    cursor = District.objects.get(pk=cert.pk).last_event_id
    terms = clever.world.records(cert.clever_id, "terms")
    first, second = terms[:2]
    clever.world.unshare("terms", first["id"])
    clever.world.unshare("terms", second["id"])

    run = services.district_events_apply(district=District.objects.get(pk=cert.pk))
    assert run.status == SyncRun.Status.NEEDS_REVIEW
    # The first deletion applied; the second would make it 2 of the terms: held.
    assert Term.objects.get(clever_id=first["id"]).archived_at is not None
    assert Term.objects.get(clever_id=second["id"]).archived_at is None
    assert any(f"would archive 2 of {len(terms)} terms" in r for r in run.plan["reasons"])
    assert run.plan["archive"]["terms"]["count"] == 1
    held_event = run.plan["last_event_id"]
    cert.refresh_from_db()
    assert cert.last_event_id not in ("", cursor, held_event)  # moved past the first only

    # Until reviewed, later passes hold the same event again (one held run, never a pile).
    again = services.district_events_apply(district=cert)
    assert again.status == SyncRun.Status.NEEDS_REVIEW
    assert again.plan["last_event_id"] == held_event
    run.refresh_from_db()
    assert run.status == SyncRun.Status.DISCARDED

    approved = services.sync_run_approve(run=again, user=None)
    assert approved.status == SyncRun.Status.SUCCEEDED
    assert Term.objects.get(clever_id=second["id"]).archived_at is not None
    cert.refresh_from_db()
    assert cert.last_event_id == held_event
    assert services.district_events_apply(district=cert).status == SyncRun.Status.SUCCEEDED


def test_a_districts_updated_event_keeps_clevers_launch_and_sis_sync_state(cert, clever):
    sync(cert)
    clever.world.district_state_set(
        cert.clever_id, launch_date="2027-01-15", state="error", error="SIS sync failed"
    )
    run = _events(cert)
    assert run.counts["events"]["count"] == 1
    cert.refresh_from_db()
    assert str(cert.clever_launch_date) == "2027-01-15"
    assert (cert.clever_state, cert.clever_error) == ("error", "SIS sync failed")

    # A malformed value in the event is reported and stored empty; the rest still applies.
    clever.world.district_state_set(cert.clever_id, launch_date="later", state="success")
    run = _events(cert)
    assert [e.message for e in run.errors.all()] == [
        f"event {cert.last_event_id}: field 'launch_date' is not a date (YYYY-MM-DD): 'later'; "
        "stored empty"
    ]
    cert.refresh_from_db()
    assert cert.clever_launch_date is None and cert.clever_state == "success"
