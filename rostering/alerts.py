"""Telling ops what needs them: held runs, failed runs, districts that stopped syncing.

Each alert is an email through Django's mail backend to ``OPS_EMAILS`` (none when it is empty)
and, while it holds, a banner in the admin (``ops_alerts``). A mail server that fails is logged
and never fails the sync that raised the alert.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import DateTimeField, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from rostering.models import District, SyncRun
from rostering.selectors import held_records

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpsAlerts:
    """What the admin's banner shows."""

    held: list[SyncRun] = field(default_factory=list)
    failed: list[SyncRun] = field(default_factory=list)
    stale: list[District] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.held or self.failed or self.stale)


def _send(subject: str, body: str) -> bool:
    recipients = [e for e in settings.OPS_EMAILS if e]
    if not recipients:
        return False
    try:
        send_mail(f"[Clever sync] {subject}", body, None, recipients)
    except Exception as exc:  # the mail server's trouble must never fail a sync
        logger.warning("Could not email ops about %r: %s", subject, exc.__class__.__name__)
        return False
    return True


def run_alert_send(*, run: SyncRun) -> bool:
    """Email ops about a run that needs review or failed (not dry runs); whether mail went."""
    if run.dry_run or run.status not in (SyncRun.Status.NEEDS_REVIEW, SyncRun.Status.FAILED):
        return False
    district = run.district
    link = reverse("admin:rostering_syncrun_change", args=[run.pk])
    if run.status == SyncRun.Status.NEEDS_REVIEW:
        subject = f"{district}: run #{run.pk} holds archives for review"
        reasons = "\n".join(f"- {reason}" for reason in run.plan.get("reasons") or [])
        held = "\n".join(
            f"- {total} {name}: {', '.join(names[:10])}" + (" ..." if total > 10 else "")
            for name, (names, total) in held_records(run=run, limit=10).items()
        )
        body = (
            f"The {run.get_trigger_display().lower()} sync of {district} would archive more than "
            f"the guard allows, so nothing was archived:\n{reasons}\n\n"
            f"It would archive:\n{held}\n\n"
            f"Approve or discard it in the admin: {link}\n"
        )
    else:
        subject = f"{district}: run #{run.pk} failed"
        where = f" at {run.stopped_at}" if run.stopped_at else ""
        body = f"The {run.get_trigger_display().lower()} sync of {district} failed{where}:\n"
        body += f"{run.error}\n\nThe run: {link}\n"
    return _send(subject, body)


def _last_success() -> Subquery:
    return Subquery(
        SyncRun.objects.filter(
            district=OuterRef("pk"), status=SyncRun.Status.SUCCEEDED, dry_run=False
        )
        .order_by("-finished_at")
        .values("finished_at")[:1],
        output_field=DateTimeField(),
    )


def districts_stale(*, now: dt.datetime | None = None) -> list[District]:
    """Connected districts with no successful sync for CLEVER_SYNC_STALE_HOURS (each annotated
    with ``last_success``)."""
    cutoff = (now or timezone.now()) - dt.timedelta(hours=settings.CLEVER_SYNC_STALE_HOURS)
    return list(
        District.objects.filter(status=District.Status.CONNECTED)
        .annotate(last_success=_last_success())
        .filter(Q(last_success__lt=cutoff) | Q(last_success__isnull=True, connected_at__lt=cutoff))
        .order_by("name", "pk")
    )


def districts_stale_alert(*, now: dt.datetime | None = None) -> list[District]:
    """Email ops once per stale spell about districts not synced for CLEVER_SYNC_STALE_HOURS;
    the districts newly told about."""
    now = now or timezone.now()
    fresh = [
        d
        for d in districts_stale(now=now)
        if d.stale_alerted_at is None
        or (d.last_success is not None and d.stale_alerted_at < d.last_success)
    ]
    if not fresh:
        return []
    hours = settings.CLEVER_SYNC_STALE_HOURS
    lines = [
        f"- {d} ({d.clever_id}): last successful sync "
        + (f"{d.last_success:%Y-%m-%d %H:%M} UTC" if d.last_success else "never")
        for d in fresh
    ]
    body = (
        f"These districts have not synced successfully for {hours} hours:\n"
        + "\n".join(lines)
        + f"\n\nTheir runs: {reverse('admin:rostering_syncrun_changelist')}\n"
    )
    _send(f"{len(fresh)} district(s) not synced for {hours} hours", body)
    District.objects.filter(pk__in=[d.pk for d in fresh]).update(stale_alerted_at=now)
    return fresh


def ops_alerts() -> OpsAlerts:
    """Held runs, districts whose latest run failed, stale districts: the admin's banner."""
    held = list(
        SyncRun.objects.filter(status=SyncRun.Status.NEEDS_REVIEW)
        .select_related("district")
        .order_by("-created_at")
    )
    latest = Subquery(
        SyncRun.objects.filter(district=OuterRef("district"), dry_run=False)
        .exclude(status=SyncRun.Status.SKIPPED)
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    failed = list(
        SyncRun.objects.filter(
            status=SyncRun.Status.FAILED,
            district__status=District.Status.CONNECTED,
            pk=latest,
        )
        .select_related("district")
        .order_by("-created_at")
    )
    return OpsAlerts(held=held, failed=failed, stale=districts_stale())
