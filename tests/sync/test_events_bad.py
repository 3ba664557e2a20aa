"""A bad event is reported and passed: the cursor moves past it and the feed goes on."""

from __future__ import annotations

import json

import pytest

from accounts.models import User
from cleverlike.world import Event
from rostering import services
from rostering.models import District, SyncRun
from tests.sync.conftest import sync

pytestmark = pytest.mark.django_db

MOLLY = "07782ff269ed248fe3548e49"


def _inject(clever, event: dict) -> str:
    """Put a raw event into the look-alike's feed, as Clever could send it."""
    world = clever.world
    d = world.district_named("Certification ISD")
    with world._lock:
        event_id = world._next_event_id()
        event = {"id": event_id, "created": "2026-12-04T00:00:00.000Z", **event}
        world.events.append(Event(event_id, d.id, "users", frozenset(), json.dumps(event).encode()))
        world._event_ids.append(event_id)
    return event_id


def _events(district) -> SyncRun:
    run = services.district_events_apply(district=District.objects.get(pk=district.pk))
    run.refresh_from_db()
    return run


@pytest.mark.parametrize(
    "odd",
    [
        {"type": "users", "data": {"object": {"id": MOLLY}}},  # no dot
        {"type": "users.updated", "data": {"object": {"name": {"first": "X"}}}},  # no id
        {"type": "users.updated", "data": {"object": {"id": MOLLY, "roles": "student"}}},
    ],
)
def test_an_odd_event_is_reported_and_passed(cert, clever, odd):
    sync(cert)
    bad = _inject(clever, odd)
    clever.world.update_record("users", MOLLY, name__first="After")  # a good event after it
    run = _events(cert)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.errors.filter(clever_id__in=[bad, MOLLY]).exists()
    assert User.objects.get(clever_id=MOLLY).first_name == "After"
    cert.refresh_from_db()
    assert cert.last_event_id > bad
    # The next pass does not meet it again.
    again = _events(cert)
    assert again.status == SyncRun.Status.SUCCEEDED and not again.errors.exists()


def test_an_event_whose_object_has_a_nul_applies_the_rest(cert, clever):
    sync(cert)
    clever.world.update_record("users", MOLLY, name__first="Mo\x00lly-Ann")
    run = _events(cert)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert User.objects.get(clever_id=MOLLY).first_name == "Molly-Ann"
    assert "NUL" in run.errors.get(clever_id=MOLLY).message


def test_an_event_whose_district_name_has_a_nul_is_cleaned_and_reported(cert, clever):
    sync(cert)
    _inject(
        clever,
        {"type": "districts.updated", "data": {"object": {"id": cert.clever_id, "name": "A\x00B"}}},
    )
    run = _events(cert)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    cert.refresh_from_db()
    assert cert.name == "AB"
    assert "NUL" in run.errors.get(record_type="district").message


def test_an_event_the_database_refuses_is_rolled_back_reported_and_passed(
    cert, clever, monkeypatch
):
    from django.db import DataError

    from rostering.sync import events

    sync(cert)
    clever.world.update_record("users", MOLLY, name__first="Refused")
    real = events.OrmStore.merge_entity

    def merge_entity(self, spec, errors):
        if spec.name == "users" and self.rows["users"][0][2] == "Refused":
            raise DataError("value too long for type character varying(64)")
        return real(self, spec, errors)

    monkeypatch.setattr(events.OrmStore, "merge_entity", merge_entity)
    bad_id = clever.world.events[-1].id
    clever.world.update_record("users", MOLLY, name__first="After")
    run = _events(cert)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert "DataError" in run.errors.get(clever_id=bad_id).message
    assert User.objects.get(clever_id=MOLLY).first_name == "After"
