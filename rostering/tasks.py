"""Celery tasks: the nightly and events fan-outs, one district's sync or events. Thin."""

from __future__ import annotations

import logging

from celery import shared_task

from clever import errors
from rostering import alerts, connections, csvservices, runs, services
from rostering.models import CsvFile, District, SyncRun

logger = logging.getLogger(__name__)

# Transient failures (Clever down, rate limited) are retried this many times, backing off
# exponentially from SYNC_RETRY_SECONDS, with jitter.
SYNC_MAX_RETRIES = 3
SYNC_RETRY_SECONDS = 600


class SyncRetry(Exception):
    """A run failed in a way a later attempt may not: Celery retries the task on it."""


@shared_task(acks_late=True, ignore_result=True)
def sync_all_districts() -> int:
    """Refresh connections from the token list; enqueue one sync per connected district."""
    try:
        connections.district_connections_refresh()
    except errors.CleverError as exc:
        # The districts we already hold can still sync; the token list is read again next time.
        logger.warning("Could not refresh district connections: %s", exc)
    # CSV districts run on their own schedules and drops (csv_run_due).
    ids = list(
        District.objects.filter(status=District.Status.CONNECTED, source=District.Source.CLEVER)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for district_id in ids:
        sync_district.delay_on_commit(district_id, SyncRun.Trigger.SCHEDULED)
    return len(ids)


@shared_task(
    bind=True,
    acks_late=True,
    ignore_result=True,
    autoretry_for=(SyncRetry,),
    max_retries=SYNC_MAX_RETRIES,
    retry_backoff=SYNC_RETRY_SECONDS,
    retry_backoff_max=SYNC_RETRY_SECONDS * 2**SYNC_MAX_RETRIES,
    retry_jitter=True,
)
def sync_district(
    self, district_id: int, trigger: str = SyncRun.Trigger.SCHEDULED, run_id: int | None = None
) -> str:
    """Run one district's sync (idempotent: a re-delivered message syncs again or is skipped).

    ``run_id``: the pending run made when it was asked for (the admin shows its page); a retry
    or re-delivery, finding it no longer pending, records a run of its own."""
    district = District.objects.filter(pk=district_id, status=District.Status.CONNECTED).first()
    if district is None:
        runs.run_pending_refuse(run_id=run_id, error="The district is not connected.")
        return "not connected"
    run = services.district_sync(
        district=district, trigger=trigger, run=runs.run_pending(run_id=run_id)
    )
    # In-process (no broker) a retry would run the whole sync again at once; the next
    # schedule tries again instead.
    if run.retryable and not (self.request.called_directly or self.request.is_eager):
        raise SyncRetry(f"run #{run.pk} of district {district_id}: {run.error}")
    return run.status


@shared_task(acks_late=True, ignore_result=True)
def alert_stale_districts() -> int:
    """Email ops about districts newly past CLEVER_SYNC_STALE_HOURS without a sync; how many."""
    return len(alerts.districts_stale_alert())


@shared_task(acks_late=True, ignore_result=True)
def archive_disconnected_districts() -> int:
    """Archive the records of districts disconnected long enough ago (idempotent); how many."""
    return len(services.districts_disconnected_archive())


@shared_task(acks_late=True, ignore_result=True)
def apply_district_events(district_id: int) -> str:
    """Apply one district's new Clever events (idempotent: events resume after the cursor)."""
    district = District.objects.filter(pk=district_id, status=District.Status.CONNECTED).first()
    if district is None:
        return "not connected"
    return services.district_events_apply(district=district).status


@shared_task(acks_late=True, ignore_result=True)
def apply_all_district_events() -> int:
    """Enqueue an events pass for each connected district that has had a full sync."""
    # Clever's flow: a full sync first (it notes the newest event), then events after it.
    ids = list(
        District.objects.filter(
            status=District.Status.CONNECTED,
            source=District.Source.CLEVER,
            sync_runs__status=SyncRun.Status.SUCCEEDED,
            sync_runs__dry_run=False,
        )
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for district_id in ids:
        apply_district_events.delay_on_commit(district_id)
    return len(ids)


@shared_task(acks_late=True, ignore_result=True)
def fail_dead_runs() -> int:
    """Mark failed the running runs whose heartbeat stopped (their process died)."""
    return runs.runs_dead_fail()


@shared_task(acks_late=True, ignore_result=True)
def csv_run_due() -> int:
    """Enqueue the CSV runs now due (schedules, drops quiet for CSV_QUIET_SECONDS); how many."""
    due = csvservices.csv_runs_due()
    for district_id, trigger in due:
        csv_sync_district.delay_on_commit(district_id, trigger)
    return len(due)


@shared_task(acks_late=True, ignore_result=True)
def csv_sync_district(
    district_id: int,
    trigger: str = SyncRun.Trigger.SCHEDULED,
    file_ids: list[int] | None = None,
    run_id: int | None = None,
) -> str:
    """Run one CSV district's sync from its files (``file_ids``: e.g. an uploaded zip's; else the
    drop's or a fetch). Idempotent: the same files merge to the same rows; a run skipped because
    another holds the district leaves the drop's files pending."""
    district = District.objects.filter(
        pk=district_id, status=District.Status.CONNECTED, source=District.Source.CSV
    ).first()
    if district is None:
        runs.run_pending_refuse(run_id=run_id, error="The district is not a connected CSV one.")
        return "not a connected CSV district"
    files = None
    if file_ids is not None:
        files = list(CsvFile.objects.filter(district=district, pk__in=file_ids))
    run = services.district_sync(
        district=district, trigger=trigger, csv_files=files, run=runs.run_pending(run_id=run_id)
    )
    if run.status == SyncRun.Status.SKIPPED:
        csvservices.csv_drop_pending_again(district=district)
    return run.status
