"""Services that write roster state: syncs (full and events), reviews of held runs, purges.

Every run, whatever started it (the nightly task, ``clever_sync``, the admin's Sync now, the
events schedule, ``make run``), enters here and is recorded by ``rostering.runs.run_execute``.
District connections (the token list, disconnects) are ``rostering.connections``.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clever import data_api
from rostering import csvservices
from rostering.models import CsvFile, District, SyncRun
from rostering.runs import (
    ErrorLog,
    RunProgress,
    RunRefused,
    RunResult,
    district_lock,
    run_execute,
)
from rostering.sources import CleverApiSource
from rostering.sync import events, specs
from rostering.sync.engine import Progress, sync_full
from rostering.sync.orm import archive_rows
from rostering.sync.store import store_for_connection

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)


def _clever_client(district: District) -> data_api.DataApiClient:
    """The Data API with the district's token; refuses the run when none is held."""
    if district.status != District.Status.CONNECTED or not district.token_ciphertext:
        raise RunRefused("The district is not connected: no district-app token is held.")
    return data_api.DataApiClient(district.token)


def district_sync(
    *,
    district: District,
    trigger: str = SyncRun.Trigger.MANUAL,
    dry_run: bool = False,
    requested_by: User | None = None,
    progress: Progress | None = None,
    csv_files: list[CsvFile] | None = None,
    run: SyncRun | None = None,
) -> SyncRun:
    """Run one full sync of ``district`` from its roster source, recorded as a SyncRun.

    Clever's Data API, or for a CSV district its files (``csv_files``, else the drop's newest or
    a fetch: ``rostering.csvservices``). Never raises for the source's failures: the run says
    where it stopped and why, and ``run.retryable`` whether trying again later may help.
    """
    if district.source == District.Source.CSV:
        return csvservices.csv_district_sync(
            district=district,
            trigger=trigger,
            dry_run=dry_run,
            files=csv_files,
            requested_by=requested_by,
            progress=progress,
            run=run,
        )

    def work(run: SyncRun, log: ErrorLog, say: RunProgress) -> RunResult:
        with _clever_client(district) as client:
            source = CleverApiSource(
                client,
                district_id=district.clever_id,
                roles=tuple(settings.CLEVER_SYNC_USER_ROLES),
            )
            store = store_for_connection(district_id=district.pk, run_id=run.pk)
            return sync_full(run=run, source=source, store=store, errors_log=log, progress=say)

    return run_execute(
        district=district,
        trigger=trigger,
        work=work,
        after_failure=lambda: "Nothing was archived.",
        dry_run=dry_run,
        requested_by=requested_by,
        progress=progress,
        run=run,
    )


def district_events_apply(*, district: District, progress: Progress | None = None) -> SyncRun:
    """Apply the district's new Clever events in order (trigger "event"), recorded as a run."""

    def work(run: SyncRun, log: ErrorLog, say: RunProgress) -> RunResult:
        with _clever_client(district) as client:
            counts, plan = events.apply_events(
                district=district, run=run, client=client, log=log, progress=say
            )
        if plan:
            return RunResult(status=SyncRun.Status.NEEDS_REVIEW, counts=counts, plan=plan)
        return RunResult(counts=counts)

    return run_execute(
        district=district,
        trigger=SyncRun.Trigger.EVENT,
        work=work,
        after_failure=lambda: (
            "Events before it were applied; the next run resumes after event "
            f"{district.last_event_id or '(none)'}."
        ),
        progress=progress,
    )


def sync_run_approve(*, run: SyncRun, user: User | None) -> SyncRun:
    """Apply the archives a needs_review run held back, and mark it succeeded."""
    if run.status != SyncRun.Status.NEEDS_REVIEW:
        raise ValueError(f"Run #{run.pk} is {run.status}, not needing review.")
    newer = (
        SyncRun.objects.filter(district_id=run.district_id, created_at__gt=run.created_at)
        .exclude(status__in=[SyncRun.Status.SKIPPED, SyncRun.Status.DISCARDED])
        .exclude(dry_run=True)
        .exists()
    )
    if newer:
        raise ValueError(
            f"Run #{run.pk} is out of date: a newer sync of this district ran since. "
            "Discard it and review the newest run instead."
        )
    now = timezone.now()
    with district_lock(run.district_id) as taken:
        if not taken:
            raise ValueError("A sync of this district is running; approve again when it ends.")
        with transaction.atomic():
            run = SyncRun.objects.select_for_update().get(pk=run.pk)
            counts = dict(run.counts)
            for name, entry in (run.plan.get("archive") or {}).items():
                done = archive_rows(specs.SPEC_BY_NAME[name], list(entry.get("ids") or []), now)
                entry_counts = counts.setdefault(name, {})
                entry_counts["archived"] = done
                entry_counts.pop("held", None)
            last_event = run.plan.get("last_event_id") or ""
            if last_event:
                District.objects.filter(pk=run.district_id).update(last_event_id=last_event)
            run.counts = counts
            run.status = SyncRun.Status.SUCCEEDED
            run.reviewed_by, run.reviewed_at = user, now
            run.save(update_fields=["counts", "status", "reviewed_by", "reviewed_at"])
    return run


def sync_run_discard(*, run: SyncRun, user: User | None) -> SyncRun:
    """Drop the archives a needs_review run held back; nothing is archived."""
    if run.status != SyncRun.Status.NEEDS_REVIEW:
        raise ValueError(f"Run #{run.pk} is {run.status}, not needing review.")
    run.status = SyncRun.Status.DISCARDED
    run.reviewed_by, run.reviewed_at = user, timezone.now()
    run.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return run


def districts_disconnected_archive(*, now: dt.datetime | None = None) -> dict[str, dict[str, int]]:
    """Archive every live record of districts disconnected CLEVER_DISCONNECT_ARCHIVE_DAYS ago or
    more (0: never), so a district that left does not stay live; nothing is deleted, and a
    district that reconnects gets the same rows back at its next sync. Counts per district."""
    days = settings.CLEVER_DISCONNECT_ARCHIVE_DAYS
    if not days:
        return {}
    now = now or timezone.now()
    gone = District.objects.filter(
        status=District.Status.DISCONNECTED, disconnected_at__lte=now - dt.timedelta(days=days)
    ).order_by("pk")
    done: dict[str, dict[str, int]] = {}
    for district in gone:
        with district_lock(district.pk) as taken:
            if not taken:
                continue  # a run holds it; tomorrow's pass archives it
            counts: dict[str, int] = {}
            with transaction.atomic():
                for link in specs.LINKS:
                    counts[link.name] = link.model.objects.filter(
                        **{f"{link.scope.field}__district": district}, archived_at__isnull=True
                    ).update(**specs.archive_values(link, now))
                for spec in specs.ENTITIES:
                    qs = spec.model.objects.filter(district=district, archived_at__isnull=True)
                    if spec.managed:
                        qs = qs.filter(**dict([spec.managed]))
                    counts[spec.name] = qs.update(**specs.archive_values(spec, now))
            if any(counts.values()):
                logger.info("Archived disconnected district %s: %s", district.clever_id, counts)
                done[district.clever_id] = counts
    return done


def district_purge(*, district: District) -> dict[str, int]:
    """Delete everything held for a disconnected district (its data-privacy right); counts."""
    if district.status != District.Status.DISCONNECTED:
        raise ValueError(
            f"District {district.clever_id} is still connected: only disconnected districts "
            "can be purged."
        )
    deleted: dict[str, int] = {}
    with transaction.atomic():
        for link in reversed(specs.LINKS):
            scope = {f"{link.scope.field}__district": district}
            deleted[link.name] = link.model.objects.filter(**scope).delete()[0]
        for spec in reversed(specs.ENTITIES):
            qs = spec.model.objects.filter(district=district)
            if spec.managed:
                # Accounts created in our app stay; they only lose the district link.
                qs.exclude(**dict([spec.managed])).update(district=None)
                qs = qs.filter(**dict([spec.managed]))
            deleted[spec.name] = qs.delete()[0]
        deleted["sync_runs"] = district.sync_runs.all().delete()[0]
        district.delete()
    return deleted
