"""Ops are told: held and failed runs and districts that stopped syncing, by email and banner."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from rostering import alerts, tasks
from rostering.models import District, SyncRun
from rostering.selectors import held_records
from tests.sync.conftest import sync

pytestmark = pytest.mark.django_db


class BrokenMailServer(BaseEmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("no mail server")


@pytest.fixture
def ops_mail(settings):
    settings.OPS_EMAILS = ["ops@vendor.example", "oncall@vendor.example"]
    return settings


def _hold(cert, clever) -> SyncRun:
    sync(cert)
    for school in clever.world.records(cert.clever_id, "schools")[:2]:
        clever.world.unshare("schools", school["id"])
    return sync(cert, expect=SyncRun.Status.NEEDS_REVIEW)


def test_a_held_run_emails_ops_its_reasons_and_where_to_review_it(
    cert, clever, ops_mail, mailoutbox
):
    run = _hold(cert, clever)
    (mail,) = mailoutbox
    assert mail.to == ["ops@vendor.example", "oncall@vendor.example"]
    assert (
        mail.subject == f"[Clever sync] Certification ISD: run #{run.pk} holds archives for review"
    )
    assert "2 of 5 schools" in mail.body
    assert reverse("admin:rostering_syncrun_change", args=[run.pk]) in mail.body


def test_a_failed_run_emails_ops_where_it_stopped(cert, clever, ops_mail, mailoutbox):
    clever.world.faults.add("/v3.0/terms", "500", times=3)
    run = sync(cert, expect=SyncRun.Status.FAILED)
    (mail,) = mailoutbox
    assert mail.subject == f"[Clever sync] Certification ISD: run #{run.pk} failed"
    assert "at GET /v3.0/terms page 1" in mail.body and "HTTP 500" in mail.body


def test_no_mail_without_ops_emails_nor_for_dry_runs_and_a_broken_mail_server_fails_nothing(
    cert, clever, settings, mailoutbox
):
    settings.OPS_EMAILS = []
    clever.world.faults.add("/v3.0/terms", "500", times=3)
    sync(cert, expect=SyncRun.Status.FAILED)
    assert mailoutbox == []
    settings.OPS_EMAILS = ["ops@vendor.example"]
    clever.world.faults.add("/v3.0/terms", "500", times=3)
    sync(cert, dry_run=True, expect=SyncRun.Status.FAILED)
    assert mailoutbox == []
    settings.EMAIL_BACKEND = "tests.sync.test_alerts.BrokenMailServer"
    clever.world.faults.add("/v3.0/terms", "500", times=3)
    run = sync(cert, expect=SyncRun.Status.FAILED)  # recorded all the same
    assert "HTTP 500" in run.error


def test_a_district_not_synced_for_the_stale_hours_is_emailed_once_per_spell(
    cert, lake, ops_mail, mailoutbox
):
    ops_mail.CLEVER_SYNC_STALE_HOURS = 26
    sync(cert)  # Lakeside connected at the same time and never synced
    now = timezone.now()
    assert tasks.alert_stale_districts() == 0  # just synced, just connected
    assert alerts.districts_stale_alert(now=now + dt.timedelta(hours=25)) == []
    later = now + dt.timedelta(hours=27)
    stale = alerts.districts_stale_alert(now=later)
    assert sorted(d.clever_id for d in stale) == sorted([cert.clever_id, lake.clever_id])
    (mail,) = mailoutbox
    assert "26 hours" in mail.subject
    assert "Certification ISD" in mail.body and "last successful sync 20" in mail.body
    assert "Lakeside Charter Schools" in mail.body and "never" in mail.body
    assert alerts.districts_stale_alert(now=later + dt.timedelta(hours=1)) == []  # once
    assert len(mailoutbox) == 1

    # Certification ISD syncs again, then stalls again: a new spell, a new email, for it alone.
    SyncRun.objects.filter(district=cert).update(finished_at=later + dt.timedelta(hours=1))
    assert alerts.districts_stale_alert(now=later + dt.timedelta(hours=2)) == []
    again = alerts.districts_stale_alert(now=later + dt.timedelta(hours=28))
    assert [d.pk for d in again] == [cert.pk]
    assert len(mailoutbox) == 2 and "Lakeside" not in mailoutbox[1].body


def test_the_admin_shows_held_failed_and_stale_districts_in_a_banner(cert, lake, clever, client):
    held = _hold(cert, clever)
    clever.world.faults.add("/v3.0/terms", "500", times=3)
    failed = sync(lake, expect=SyncRun.Status.FAILED)
    stale = District.objects.create(
        clever_id="f" * 24,
        name="Ogdenville",
        status=District.Status.CONNECTED,
        connected_at=timezone.now() - dt.timedelta(days=3),
    )
    client.force_login(User.objects.create_user(username="ops", password="pw-1", is_staff=True))
    page = client.get(reverse("admin:index")).content.decode()
    assert 'data-testid="ops-alerts"' in page
    assert f"Certification ISD: run #{held.pk} holds archives for review" in page
    assert f"Lakeside Charter Schools: the last sync (run #{failed.pk}) failed" in page
    assert f"{stale.name} has not synced successfully for 26 hours (last: never)" in page

    # Once dealt with, the banner says nothing of them.
    sync(lake)
    from rostering import services

    services.sync_run_discard(run=held, user=None)
    stale.delete()
    page = client.get(reverse("admin:index")).content.decode()
    assert 'data-testid="ops-alerts"' not in page


def test_a_held_run_names_what_it_would_archive(cert, clever, ops_mail, mailoutbox, client):
    sync(cert)
    gone = clever.world.records(cert.clever_id, "schools")[:2]
    for school in gone:
        clever.world.unshare("schools", school["id"])
    run = sync(cert, expect=SyncRun.Status.NEEDS_REVIEW)
    held = held_records(run=run)
    names, total = held["schools"]
    assert sorted(names) == sorted(s["name"] for s in gone) and total == 2
    assert all(" · " in n for n in held["user_schools"][0])  # associations by their two ends
    for school in gone:
        assert school["name"] in mailoutbox[0].body

    client.force_login(User.objects.create_superuser(username="root", password="pw-root-1"))
    page = client.get(reverse("admin:rostering_syncrun_change", args=[run.pk])).content.decode()
    # The run page lists them by name, with their type and school.
    rows = page[page.index('data-testid="held-rows"') :]
    for name in names:
        assert f"<td>{name}</td><td>school</td><td>{name}</td>" in rows


def _unshare_the_biggest_term(cert, clever, end_date: dt.date) -> dict:
    by_term: dict[str, list[dict]] = {}
    for section in clever.world.records(cert.clever_id, "sections"):
        by_term.setdefault(section["term_id"], []).append(section)
    term_id, sections = max(by_term.items(), key=lambda item: len(item[1]))
    term = next(t for t in clever.world.records(cert.clever_id, "terms") if t["id"] == term_id)
    clever.world.update_record("terms", term_id, end_date=end_date.isoformat())
    for section in sections:
        clever.world.unshare("sections", section["id"])
    return term


def test_a_rollover_says_so_in_the_reason(cert, clever):
    sync(cert)
    ended = timezone.localdate() - dt.timedelta(days=3)
    term = _unshare_the_biggest_term(cert, clever, ended)
    run = sync(cert, expect=SyncRun.Status.NEEDS_REVIEW)
    assert any(
        reason.startswith("Looks like a rollover:")
        and f"belong to {term['name']}, which ends on {ended:%Y-%m-%d}" in reason
        for reason in run.plan["reasons"]
    ), run.plan["reasons"]


def test_sections_vanishing_mid_term_are_not_called_a_rollover(cert, clever):
    sync(cert)
    _unshare_the_biggest_term(cert, clever, timezone.localdate() + dt.timedelta(days=120))
    run = sync(cert, expect=SyncRun.Status.NEEDS_REVIEW)
    assert run.plan["archive"]["sections"]["count"] > 0
    assert not any("rollover" in reason for reason in run.plan["reasons"])
