"""The operations commands: clever_sync, district_export, district_purge."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from rostering.models import District, School, Section, SectionStudent, SyncRun
from tests.sync.conftest import CERT, LAKE, sync

pytestmark = pytest.mark.django_db


def _call(*args, **kwargs) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO(), **kwargs)
    return out.getvalue()


def test_clever_sync_connects_and_syncs_every_district_printing_counts(clever, fast):
    output = _call("clever_sync")
    assert "Connections: 2 new, 0 disconnected." in output
    assert "Syncing Certification ISD (9aa03c1635aa7766e18a6a7d)..." in output
    assert "GET /v3.0/users page 1: 7 users so far" in output  # progress
    assert output.count(": succeeded") == 2
    line = next(x for x in output.splitlines() if x.strip().startswith("users "))
    assert line.split()[1:] == ["89", "0", "0", "0", "0"]
    assert User.objects.filter(district__clever_id=LAKE).count() == 9


def test_clever_sync_names_malformed_district_values_and_syncs(clever, fast):
    clever.world.district_state_set(CERT, state="exploded")
    out, err = StringIO(), StringIO()
    call_command("clever_sync", stdout=out, stderr=err)
    assert (
        f"Clever's district record: district {CERT}: field 'state' is not one of Clever's states "
        "(running, pending, error, paused, success): 'exploded'; stored empty" in err.getvalue()
    )
    assert out.getvalue().count(": succeeded") == 2
    assert District.objects.get(clever_id=CERT).clever_state == ""


def test_clever_sync_one_district_dry_run_writes_nothing(clever, fast):
    output = _call("clever_sync", district=CERT, dry_run=True)
    assert "(dry run)" in output and ": succeeded" in output
    assert not School.objects.exists()
    assert SyncRun.objects.get().dry_run


def test_clever_sync_exits_non_zero_on_failure_naming_where(clever, fast):
    clever.world.faults.add("/v3.0/terms", "500", times=10)
    with pytest.raises(CommandError, match=r"failed at GET /v3.0/terms page 1: HTTP 500"):
        _call("clever_sync", district=CERT)


def test_clever_sync_exits_non_zero_when_a_run_needs_review(connected, clever):
    _call("clever_sync", district=CERT)
    for school in clever.world.records(CERT, "schools")[:3]:
        clever.world.unshare("schools", school["id"])
    with pytest.raises(CommandError, match="needs review"):
        _call("clever_sync", district=CERT)


def test_clever_sync_unknown_district_is_an_error(clever, fast):
    with pytest.raises(CommandError, match="not connected"):
        _call("clever_sync", district="000000000000000000000000")


def test_district_export_shape(cert, clever, settings):
    settings.CLEVER_SYNC_ARCHIVE_MAX_FRACTION = 1.0
    sync(cert)
    bio = Section.objects.get(sis_id="SEC-HS-BIO")
    clever.world.unshare("sections", bio.clever_id)
    sync(cert)

    data = json.loads(_call("district_export", CERT))

    assert list(data) == ["district", "schools", "terms", "courses", "sections", "users"]
    assert data["district"]["id"] == CERT and data["district"]["archived"] is False
    assert len(data["schools"]) == 5 and len(data["users"]) == 89
    for name in ("schools", "terms", "courses", "sections", "users"):
        for record in data[name]:
            assert isinstance(record["id"], str) and isinstance(record["archived"], bool)
    sections = {s["id"]: s for s in data["sections"]}
    assert sections[bio.clever_id]["archived"] is True
    co10 = next(s for s in data["sections"] if s["sis_id"] == "SEC-HS-CO10")
    assert co10["teachers"][0] == "16f270f62dbb8954039b91ba"  # primary first
    assert len(co10["teachers"]) == 10 and len(co10["students"]) == 11
    users = {u["id"]: u for u in data["users"]}
    assert users["8352c9fd01a52493540077fc"]["roles"] == ["staff", "teacher"]
    assert users["07782ff269ed248fe3548e49"]["first_name"] == "Molly"
    molly = users["07782ff269ed248fe3548e49"]
    assert molly["username"] == "clever-07782ff269ed248fe3548e49" and molly["matched_by"] is None


def test_district_purge_refuses_a_connected_district(cert):
    sync(cert)
    with pytest.raises(CommandError, match="still connected"):
        _call("district_purge", CERT, yes=True)
    assert School.objects.count() == 5


def test_district_purge_asks_then_deletes_a_disconnected_district(cert, lake, clever, monkeypatch):
    sync(cert)
    sync(lake)
    District.objects.filter(pk=cert.pk).update(status=District.Status.DISCONNECTED)
    local = User.objects.create(username="teacher-made-here", district=cert)

    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="Not confirmed"):
        _call("district_purge", CERT)
    assert School.objects.filter(district=cert).count() == 5

    monkeypatch.setattr("builtins.input", lambda prompt: CERT)
    output = _call("district_purge", CERT)
    assert f"Purged district {CERT}" in output and "89 users" in output
    assert not District.objects.filter(clever_id=CERT).exists()
    assert not School.objects.filter(district__clever_id=CERT).exists()
    assert not User.objects.filter(clever_id="07782ff269ed248fe3548e49").exists()
    local.refresh_from_db()
    assert local.district is None  # our own accounts stay
    # The other district is untouched.
    assert User.objects.filter(district=lake).count() == 9
    assert SectionStudent.objects.filter(section__district=lake).exists()
