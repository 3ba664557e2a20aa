"""A run's live progress: written while it runs (from the heartbeat's own connection, so the
merge transaction never hides it), shown on the run page, and as bars by clever_sync on a
terminal (plain lines elsewhere)."""

from __future__ import annotations

import io
import time

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from rostering import connections, services
from rostering.models import District, SyncRun
from tests.sync.conftest import CERT, sync


@pytest.mark.postgres  # SQLite lets no second writer in while the merge transaction is open
@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_while_the_merge_transaction_is_open(clever, fast):
    connections.district_connections_refresh()
    district = District.objects.get(clever_id=CERT)
    seen: dict[str, object] = {}

    def watch(message: str) -> None:
        # Called inside the run, with the merge transaction open: the page must see the step.
        if message.startswith("merged users") and "row" not in seen:
            run = SyncRun.objects.filter(district=district).order_by("-pk").first()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                row = SyncRun.objects.filter(pk=run.pk).values("progress", "progress_counts")[0]
                if row["progress"].startswith("merged users"):
                    break
                time.sleep(0.1)
            seen["row"] = row

    run = services.district_sync(district=district, progress=watch)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    row = seen["row"]
    assert row["progress"].startswith("merged users")
    assert row["progress_counts"]["users"] == 89 and row["progress_counts"]["sections"] == 17
    run.refresh_from_db()
    assert run.progress == "committed" and run.progress_counts["schools"] > 0


@pytest.mark.django_db
def test_the_run_page_while_pending_and_after(client, cert):
    ops = User.objects.create_superuser("ops", "ops@example.com", "pw-for-tests-only")
    client.force_login(ops)
    pending = SyncRun.objects.create(district=cert, trigger="manual", requested_by=ops)
    page = client.get(reverse("admin:rostering_syncrun_change", args=[pending.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "Waiting to start" in html
    assert 'hx-trigger="every 2s"' in html and "htmx-2.min.js" in html
    live = client.get(
        reverse("admin:rostering_syncrun_live", args=[pending.pk]), HTTP_HX_REQUEST="true"
    )
    assert live.status_code == 200 and "HX-Refresh" not in live
    done = sync(cert)
    live = client.get(
        reverse("admin:rostering_syncrun_live", args=[done.pk]), HTTP_HX_REQUEST="true"
    )
    # Ended: htmx reloads the page, which shows the outcome and counts.
    assert live["HX-Refresh"] == "true"
    html = client.get(reverse("admin:rostering_syncrun_change", args=[done.pk])).content.decode()
    assert "Succeeded." in html and "hx-trigger" not in html and "Took" in html
    assert client.get(reverse("admin:rostering_syncrun_change", args=[999999])).status_code == 404


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.django_db
def test_clever_sync_draws_bars_on_a_terminal_and_prints_lines_elsewhere(connected):
    plain = io.StringIO()
    call_command("clever_sync", district=CERT, stdout=plain)
    text = plain.getvalue()
    assert "  GET /v3.0/users page 1: 7 users so far" in text and "\r" not in text
    terminal = Terminal()
    call_command("clever_sync", district=CERT, stdout=terminal)
    drawn = terminal.getvalue()
    # Out of what the last sync saw: 89 users.
    assert "\r" in drawn and "89/89" in drawn and "100%" in drawn
    assert "  merged users:" in drawn and "succeeded" in drawn
