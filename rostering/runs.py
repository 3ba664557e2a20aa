"""The one life cycle of a sync run, full or events: where every run is recorded.

``run_execute`` takes the district's lock, opens the ``SyncRun``, runs the work (the sync engine
or the events pass), records the outcome, the counts and each record's error, applies the
disconnect policy (Clever's 401: the district's token was revoked) and releases the lock. A
second run while one holds the lock is recorded as ``skipped``. The work raises our exceptions
(``clever.errors``); how a run failed is stored (``SyncRun.failure``) so a task can decide to
retry without being told twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from clever import errors
from rostering.alerts import run_alert_send
from rostering.connections import district_disconnect
from rostering.models import District, SyncError, SyncRun

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

# The most SyncError rows one run records; beyond it only the count grows.
MAX_RECORDED_ERRORS = 1000
# Namespace of our PostgreSQL advisory locks (the second key is the district's pk).
_LOCK_NAMESPACE = 0x5C1E


@contextmanager
def district_lock(district_id: int) -> Iterator[bool]:
    """Hold the district's sync lock if free; yields whether it was taken."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_NAMESPACE, district_id])
            taken = bool(cursor.fetchone()[0])
        try:
            yield taken
        finally:
            if taken:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, district_id]
                    )
        return
    # Elsewhere: a conditional UPDATE on the district row is atomic; a lock older than the
    # longest sync was left by a crashed process and may be taken over.
    now = timezone.now()
    stale = now - timedelta(seconds=settings.CLEVER_SYNC_MAX_SECONDS)
    taken = bool(
        District.objects.filter(pk=district_id)
        .filter(Q(sync_locked_at__isnull=True) | Q(sync_locked_at__lt=stale))
        .update(sync_locked_at=now)
    )
    try:
        yield taken
    finally:
        if taken:
            District.objects.filter(pk=district_id).update(sync_locked_at=None)


class ErrorLog:
    """The records a run could not take: (record type, Clever ID, message), capped, counted."""

    def __init__(self) -> None:
        self.recorded: list[tuple[str, str, str]] = []
        self.count = 0

    def append(self, item: tuple[str, str, str]) -> None:
        self.count += 1
        if len(self.recorded) < MAX_RECORDED_ERRORS:
            self.recorded.append(item)

    def save(self, run: SyncRun) -> None:
        SyncError.objects.bulk_create(
            [
                SyncError(run=run, record_type=t, clever_id=cid, message=msg[:2000])
                for t, cid, msg in self.recorded
            ],
            batch_size=500,
        )


class RunRefused(Exception):
    """The work cannot start (e.g. no token is held); the message is the run's error."""


@dataclass
class RunResult:
    """What a run's work did: its status (succeeded or needs_review), counts and held plan."""

    status: str = SyncRun.Status.SUCCEEDED
    counts: dict[str, Any] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)


Work = Callable[[SyncRun, ErrorLog], RunResult]


def _finish(run: SyncRun, status: str, **fields: Any) -> SyncRun:
    run.status = status
    run.finished_at = timezone.now()
    for name, value in fields.items():
        setattr(run, name, value)
    run.save()
    return run


def _failure_kind(exc: errors.CleverError) -> str:
    if isinstance(exc, errors.CleverUnauthorized):
        return SyncRun.Failure.UNAUTHORIZED
    if isinstance(exc, errors.CleverTransientError):
        return SyncRun.Failure.TRANSIENT
    return SyncRun.Failure.PERMANENT


def run_execute(
    *,
    district: District,
    trigger: str,
    work: Work,
    after_failure: Callable[[], str],
    dry_run: bool = False,
    requested_by: User | None = None,
) -> SyncRun:
    """Record one run of ``work`` on ``district`` under its lock; never raises for Clever.

    ``work`` raises ``RunRefused`` when it cannot start, ``clever.errors`` when Clever fails it.
    ``after_failure`` says, when Clever fails the run, what state it left ("Nothing was
    archived."). An unexpected exception is recorded as an internal error and raised again.
    Ops are told of a held or failed run once the lock is released, so a slow mail server never
    holds up the district's next sync.
    """
    run = SyncRun.objects.create(
        district=district,
        trigger=trigger,
        dry_run=dry_run,
        requested_by=requested_by,
        client_id=settings.CLEVER_CLIENT_ID,
    )
    alert = True
    try:
        with district_lock(district.pk) as taken:
            run, alert = _run_locked(run, taken, work, after_failure)
    finally:
        if alert:
            run_alert_send(run=run)
    return run


def _run_locked(
    run: SyncRun, taken: bool, work: Work, after_failure: Callable[[], str]
) -> tuple[SyncRun, bool]:
    """The run under its lock: (the finished run, whether ops should hear of it)."""
    district = run.district
    if not taken:
        other = (
            SyncRun.objects.filter(district=district, status=SyncRun.Status.RUNNING)
            .values_list("pk", flat=True)
            .first()
        )
        ref = f" (run #{other})" if other else ""
        error = f"Skipped: another sync of this district is running{ref}."
        return _finish(run, SyncRun.Status.SKIPPED, error=error), False
    run.status, run.started_at = SyncRun.Status.RUNNING, timezone.now()
    run.save(update_fields=["status", "started_at"])
    log = ErrorLog()
    try:
        result = work(run, log)
    except RunRefused as exc:
        failed = _finish(
            run, SyncRun.Status.FAILED, failure=SyncRun.Failure.PERMANENT, error=str(exc)
        )
        return failed, False
    except errors.CleverError as exc:
        message = exc.message.rstrip(".")
        if isinstance(exc, errors.CleverUnauthorized):
            district_disconnect(district=district, reason="token revoked (401 from Clever)")
            message = (
                f"Clever refused the district's token (revoked?): {message}. The district is "
                "now marked disconnected"
            )
        failed = _finish(
            run,
            SyncRun.Status.FAILED,
            failure=_failure_kind(exc),
            stopped_at=exc.where,
            counts={"errors": {"count": log.count}},
            error=f"{message}. {after_failure()}",
        )
        return failed, True
    except Exception as exc:
        logger.exception("Sync run %s of district %s crashed", run.pk, district.clever_id)
        _finish(
            run,
            SyncRun.Status.FAILED,
            failure=SyncRun.Failure.INTERNAL,
            error=f"Internal error: {exc.__class__.__name__}: {exc}"[:2000],
        )
        raise
    finally:
        log.save(run)
    result.counts["errors"] = {"count": log.count}
    run = _finish(run, result.status, counts=result.counts, plan=result.plan)
    if run.status == SyncRun.Status.NEEDS_REVIEW:
        # One held run per district: tonight's replaces last night's instead of piling up.
        SyncRun.objects.filter(district=district, status=SyncRun.Status.NEEDS_REVIEW).exclude(
            pk=run.pk
        ).update(
            status=SyncRun.Status.DISCARDED,
            error=f"Superseded by run #{run.pk}, which now holds this district's archives "
            "for review.",
        )
    return run, True
