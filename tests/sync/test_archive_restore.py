"""Archive what Clever stops sharing, restore it on the same row, and never archive by accident."""

from __future__ import annotations

import pytest

from accounts.models import User
from rostering import services
from rostering.models import (
    Course,
    District,
    School,
    Section,
    SectionStudent,
    SyncRun,
    Term,
)
from tests.sync.conftest import sync, totals

pytestmark = pytest.mark.django_db

MOLLY = "07782ff269ed248fe3548e49"  # student ST100
BIO = "SEC-HS-BIO"


def _record(clever, record_type: str, sis_id: str | None = None) -> dict:
    district = clever.world.district_named("Certification ISD")
    records = clever.world.records(district.id, record_type)
    if sis_id:
        return next(r for r in records if r.get("sis_id") == sis_id)
    return records[0]


@pytest.mark.parametrize(
    ("record_type", "model"),
    [
        ("schools", School),
        ("terms", Term),
        ("courses", Course),
        ("sections", Section),
        ("users", User),
    ],
)
def test_unshare_then_reshare_archives_then_restores_the_same_row(
    cert, clever, settings, record_type, model
):
    settings.CLEVER_SYNC_ARCHIVE_MAX_FRACTION = 1.0
    sync(cert)
    clever_id = MOLLY if record_type == "users" else _record(clever, record_type)["id"]
    before = model.objects.get(clever_id=clever_id)
    assert before.archived_at is None

    clever.world.unshare(record_type, clever_id)
    run = sync(cert)
    archived = model.objects.get(clever_id=clever_id)
    assert archived.pk == before.pk and archived.archived_at is not None
    assert run.counts[record_type]["archived"] == 1
    if record_type == "users":
        # Her places in sections go with her, and come back with her.
        assert run.counts["enrollments"]["archived"] == 5
        assert not SectionStudent.objects.filter(user=before, archived_at=None).exists()

    clever.world.reshare(record_type, clever_id)
    run = sync(cert)
    restored = model.objects.get(clever_id=clever_id)
    assert restored.pk == before.pk and restored.archived_at is None
    assert run.counts[record_type]["restored"] == 1
    assert model.objects.filter(clever_id=clever_id).count() == 1
    if record_type == "users":
        assert run.counts["enrollments"]["restored"] == 5


def test_an_enrolment_removed_then_added_back_is_the_same_row(cert, clever, settings):
    settings.CLEVER_SYNC_ARCHIVE_MAX_FRACTION = 1.0
    sync(cert)
    section = _record(clever, "sections", BIO)
    student = section["students"][0]
    link = SectionStudent.objects.get(section__clever_id=section["id"], user__clever_id=student)

    clever.world.update_record("sections", section["id"], students=section["students"][1:])
    run = sync(cert)
    link.refresh_from_db()
    assert link.archived_at is not None
    assert run.counts["enrollments"]["archived"] == 1
    assert User.objects.get(clever_id=student).archived_at is None  # only the enrolment went

    clever.world.update_record("sections", section["id"], students=section["students"])
    run = sync(cert)
    again = SectionStudent.objects.get(section__clever_id=section["id"], user__clever_id=student)
    assert again.pk == link.pk and again.archived_at is None
    assert run.counts["enrollments"]["restored"] == 1


def test_a_teacher_swap_keeps_primary_first(cert, clever):
    sync(cert)
    section = _record(clever, "sections", "SEC-HS-ALG1")
    first, second = section["teachers"]
    clever.world.update_record("sections", section["id"], teacher=second, teachers=[second, first])
    run = sync(cert)
    assert run.counts["section_teachers"]["updated"] == 2
    links = Section.objects.get(clever_id=section["id"]).teacher_links.order_by("position")
    assert [link.user.clever_id for link in links] == [second, first]


@pytest.mark.parametrize(
    ("path", "pages_before"),
    [
        ("/v3.0/schools", 0),
        ("/v3.0/terms", 0),
        ("/v3.0/courses", 1),
        ("/v3.0/users", 2),
        ("/v3.0/sections", 1),
    ],
)
def test_a_failure_on_any_page_archives_nothing_and_says_where(
    cert, clever, settings, path, pages_before
):
    settings.CLEVER_SYNC_ARCHIVE_MAX_FRACTION = 1.0
    sync(cert)
    # Molly leaves: a complete run would archive her; this one must not.
    clever.world.unshare("users", MOLLY)
    clever.world.update_record("users", _record(clever, "users")["id"], email="changed@x.example")

    def fail_after_some_pages(message: str) -> None:
        if message.startswith(f"GET {path} page {pages_before}:"):
            clever.world.faults.add(path, "503", times=settings.CLEVER_HTTP_MAX_RETRIES + 1)

    if pages_before == 0:
        clever.world.faults.add(path, "503", times=settings.CLEVER_HTTP_MAX_RETRIES + 1)
    run = sync(cert, progress=fail_after_some_pages, expect="failed")

    assert run.stopped_at == f"GET {path} page {pages_before + 1}"
    assert "503" in run.error and "Nothing was archived" in run.error
    assert User.objects.get(clever_id=MOLLY).archived_at is None
    assert not User.objects.filter(email="changed@x.example").exists()  # nothing half-written
    for model in (School, Term, Course, Section, User, SectionStudent):
        assert not model.objects.filter(archived_at__isnull=False).exists()


def test_the_guard_holds_a_mass_archive_for_review_and_approve_applies_it(cert, clever):
    sync(cert)
    schools = clever.world.records(cert.clever_id, "schools")[:2]
    for school in schools:
        clever.world.unshare("schools", school["id"])
    clever.world.update_record("users", MOLLY, email="molly.new@x.example")

    run = sync(cert, expect=SyncRun.Status.NEEDS_REVIEW)
    assert run.plan["archive"]["schools"]["count"] == 2
    assert any("2 of 5 schools" in reason for reason in run.plan["reasons"])
    assert not School.objects.filter(archived_at__isnull=False).exists()
    # Everything else was applied.
    assert User.objects.get(clever_id=MOLLY).email == "molly.new@x.example"

    ops = User.objects.create(username="ops", is_staff=True)
    approved = services.sync_run_approve(run=run, user=ops)
    assert approved.status == SyncRun.Status.SUCCEEDED and approved.reviewed_by == ops
    archived = School.objects.filter(archived_at__isnull=False)
    assert {s.clever_id for s in archived} == {s["id"] for s in schools}
    assert approved.counts["schools"]["archived"] == 2


def test_discard_archives_nothing_and_an_old_review_cannot_be_approved(cert, clever):
    sync(cert)
    for school in clever.world.records(cert.clever_id, "schools")[:2]:
        clever.world.unshare("schools", school["id"])
    first = sync(cert, expect=SyncRun.Status.NEEDS_REVIEW)
    second = sync(cert, expect=SyncRun.Status.NEEDS_REVIEW)
    # Tonight's held run replaces last night's: one review per district, never a pile.
    first.refresh_from_db()
    assert first.status == SyncRun.Status.DISCARDED
    assert f"Superseded by run #{second.pk}" in first.error
    with pytest.raises(ValueError, match="not needing review"):
        services.sync_run_approve(run=first, user=None)
    discarded = services.sync_run_discard(run=second, user=None)
    assert discarded.status == SyncRun.Status.DISCARDED
    assert not School.objects.filter(archived_at__isnull=False).exists()


def test_the_fraction_counts_only_above_the_minimum_so_small_changes_are_not_held(
    cert, clever, settings
):
    sync(cert)
    terms = clever.world.records(cert.clever_id, "terms")
    assert len(terms) < 10  # one term is a large fraction of them, but a single row
    clever.world.unshare("terms", terms[0]["id"])
    settings.CLEVER_SYNC_ARCHIVE_MIN_COUNT = 0
    held = sync(cert, dry_run=True)
    assert any(f"of {len(terms)} terms" in reason for reason in held.plan["reasons"])

    settings.CLEVER_SYNC_ARCHIVE_MIN_COUNT = 20  # the default
    run = sync(cert)
    assert run.counts["terms"]["archived"] == 1 and not run.plan
    assert Term.objects.get(clever_id=terms[0]["id"]).archived_at is not None


def test_no_users_from_clever_for_a_district_that_had_them_needs_review(cert, settings):
    sync(cert)
    settings.CLEVER_SYNC_ARCHIVE_MAX_FRACTION = 1.0
    settings.CLEVER_SYNC_ARCHIVE_MAX_COUNT = 10**6
    settings.CLEVER_SYNC_USER_ROLES = []  # as if Clever returned no users at all
    run = sync(cert, expect=SyncRun.Status.NEEDS_REVIEW)
    assert any("no users" in reason for reason in run.plan["reasons"])
    assert not User.objects.filter(archived_at__isnull=False).exists()


def test_dry_run_writes_nothing_and_reports_the_plan(cert, clever, settings):
    settings.CLEVER_SYNC_ARCHIVE_MAX_FRACTION = 1.0
    plan = sync(cert, dry_run=True)
    assert plan.counts["users"]["created"] == 89 and plan.dry_run
    assert not User.objects.filter(district=cert).exists()
    assert not School.objects.exists()

    sync(cert)
    clever.world.unshare("sections", _record(clever, "sections", BIO)["id"])
    clever.world.update_record("users", MOLLY, name__first="Mo")
    plan = sync(cert, dry_run=True)
    assert plan.counts["sections"]["archived"] == 1
    assert plan.counts["users"]["updated"] == 1
    assert Section.objects.get(sis_id=BIO).archived_at is None
    assert User.objects.get(clever_id=MOLLY).first_name == "Molly"
    assert totals(plan, "created") == 0


def test_local_users_and_locally_edited_fields_survive_a_sync(cert, clever, settings):
    settings.CLEVER_SYNC_ARCHIVE_MAX_FRACTION = 1.0
    sync(cert)
    molly = User.objects.get(clever_id=MOLLY)
    molly.preferred_name = "Mols"
    molly.save()
    # An account made in our app that matches no Clever user is never touched by the sync.
    # (One that matches is linked and Clever-managed from then on: tests/sync/test_matching.py.)
    local = User.objects.create(username="tutor", first_name="Local", district=cert)

    clever.world.update_record("users", MOLLY, name__first="Molly-Ann")
    sync(cert)

    molly.refresh_from_db()
    assert (molly.first_name, molly.preferred_name) == ("Molly-Ann", "Mols")
    local.refresh_from_db()
    assert local.archived_at is None and local.first_name == "Local" and local.clever_id is None


def test_a_malformed_record_is_reported_by_id_and_kept_as_it_was(cert, clever):
    sync(cert)
    clever.world.update_record("users", MOLLY, name__first=["not", "a", "string"])
    run = sync(cert)
    error = run.errors.get()
    assert error.clever_id == MOLLY and error.record_type == "user"
    assert "name.first" in error.message and MOLLY in error.message
    molly = User.objects.get(clever_id=MOLLY)
    assert molly.first_name == "Molly" and molly.archived_at is None
    assert SectionStudent.objects.filter(user=molly, archived_at=None).count() == 5


def test_missing_optional_fields_are_stored_empty(cert, clever):
    sync(cert)
    clever.world.update_record(
        "users", MOLLY, email=None, roles__student__grade=None, roles__student__state_id=None
    )
    section = _record(clever, "sections", BIO)
    clever.world.update_record(
        "sections", section["id"], course=None, term_id=None, period=None, grade=None
    )
    run = sync(cert)
    assert run.counts["errors"]["count"] == 0
    molly = User.objects.get(clever_id=MOLLY)
    role = molly.clever_roles.get(role="student")
    assert (molly.email, role.grade, role.state_id) == ("", "", "")
    bio = Section.objects.get(sis_id=BIO)
    assert (bio.course, bio.term, bio.period, bio.grade) == (None, None, "", "")


def test_a_district_that_left_is_archived_after_the_configured_days_and_restored_on_return(
    cert, clever, settings
):
    import datetime as dt

    from django.utils import timezone

    from rostering import connections, tasks

    sync(cert)
    molly_pk = User.objects.get(clever_id=MOLLY).pk
    tutor = User.objects.create(username="tutor", district=cert)  # made in our app
    connections.district_disconnect(district=cert, reason="test")
    settings.CLEVER_DISCONNECT_ARCHIVE_DAYS = 30
    left = timezone.now() - dt.timedelta(days=29)
    District.objects.filter(pk=cert.pk).update(disconnected_at=left)
    assert tasks.archive_disconnected_districts() == 0
    assert not User.objects.filter(district=cert, archived_at__isnull=False).exists()

    District.objects.filter(pk=cert.pk).update(disconnected_at=left - dt.timedelta(days=2))
    settings.CLEVER_DISCONNECT_ARCHIVE_DAYS = 0  # never
    assert tasks.archive_disconnected_districts() == 0
    settings.CLEVER_DISCONNECT_ARCHIVE_DAYS = 30
    assert tasks.archive_disconnected_districts() == 1
    live = User.objects.filter(district=cert, source="clever", archived_at__isnull=True)
    assert not live.exists() and User.objects.filter(district=cert, source="clever").count() == 89
    assert not Section.objects.filter(district=cert, archived_at__isnull=True).exists()
    assert not SectionStudent.objects.filter(archived_at__isnull=True).exists()
    tutor.refresh_from_db()
    assert tutor.archived_at is None  # ours, not the sync's
    assert tasks.archive_disconnected_districts() == 0  # nothing left to archive

    # The district connects again: the next sync restores the same rows.
    connections.district_connections_refresh()
    cert.refresh_from_db()
    run = sync(cert)
    assert run.counts["users"]["restored"] == 89
    molly = User.objects.get(clever_id=MOLLY)
    assert molly.pk == molly_pk and molly.archived_at is None
