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
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DatabaseError, Error, connection
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


def _fail(
    run_id: int,
    *,
    error: str,
    was: str = SyncRun.Status.RUNNING,
    failure: str = SyncRun.Failure.INTERNAL,
) -> int:
    """Mark the run failed, saying why, only if it is still ``was`` (whoever finished it first
    keeps their word); how many rows changed (0 or 1)."""
    return SyncRun.objects.filter(pk=run_id, status=was).update(
        status=SyncRun.Status.FAILED, failure=failure, finished_at=timezone.now(), error=error
    )


@dataclass(frozen=True)
class Holder:
    """Who holds a district's lock: the running run (if recorded) and since when."""

    run_id: int | None
    since: Any  # datetime | None
    heartbeat: Any  # datetime | None
    backend_pid: int | None = None  # PostgreSQL: the session holding the advisory lock
    session_quiet_since: Any = None  # ... and when its last statement began or ended

    def describe(self) -> str:
        parts = [f"run #{self.run_id}" if self.run_id else "a process"]
        if self.since:
            parts.append(f"since {self.since:%Y-%m-%d %H:%M:%S} UTC")
        if self.heartbeat:
            parts.append(f"last heartbeat {self.heartbeat:%H:%M:%S} UTC")
        if self.backend_pid:
            parts.append(f"database session {self.backend_pid}")
        return ", ".join(parts)

    def dead_or_stuck(self, now: Any) -> str:
        """Why the holder may be taken over ("" when it may not)."""
        timeout = timedelta(seconds=settings.CLEVER_SYNC_HEARTBEAT_TIMEOUT)
        if self.run_id is None:
            # A session holds the lock with no run recorded as running (its run was marked
            # dead): stuck, once it has been quiet as long as a heartbeat may be. (A run just
            # starting holds the lock a moment before it is marked running.)
            quiet = self.session_quiet_since
            if self.backend_pid and quiet and now - quiet > timeout:
                return (
                    "its database session has held the lock with no running run since "
                    f"{quiet:%Y-%m-%d %H:%M:%S} UTC"
                )
            return ""
        beat = self.heartbeat or self.since
        if beat and now - beat > timeout:
            return f"no heartbeat since {beat:%Y-%m-%d %H:%M:%S} UTC"
        if self.since and now - self.since > timedelta(seconds=settings.CLEVER_SYNC_MAX_SECONDS):
            return f"running past CLEVER_SYNC_MAX_SECONDS ({settings.CLEVER_SYNC_MAX_SECONDS} s)"
        return ""


def _holder(district_id: int) -> Holder:
    run = (
        SyncRun.objects.filter(district_id=district_id, status=SyncRun.Status.RUNNING)
        .order_by("-started_at")
        .values("pk", "started_at", "heartbeat_at")
        .first()
    )
    pid = quiet = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT l.pid, a.state_change FROM pg_locks l "
                "LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s "
                "AND l.objid = %s AND l.pid <> pg_backend_pid() LIMIT 1",
                [_LOCK_NAMESPACE, district_id],
            )
            row = cursor.fetchone()
            pid, quiet = row if row else (None, None)
    if run is None:
        return Holder(None, None, None, pid, quiet)
    return Holder(run["pk"], run["started_at"], run["heartbeat_at"], pid, quiet)


def _pg_try_lock(district_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_NAMESPACE, district_id])
        return bool(cursor.fetchone()[0])


def _take_over(district_id: int, holder: Holder, why: str, by: SyncRun) -> None:
    """End a dead or stuck holder: its database session (PostgreSQL) and its run record."""
    logger.warning(
        "district %s: taking over the sync lock from %s (%s)", district_id, holder.describe(), why
    )
    if holder.backend_pid:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [holder.backend_pid])
    if holder.run_id:
        _fail(
            holder.run_id,
            error=f"Taken over by run #{by.pk}: {why}. Nothing after its last commit was applied.",
        )


@contextmanager
def district_lock(district_id: int, *, run: SyncRun | None = None) -> Iterator[bool]:
    """Hold the district's sync lock if free, or if its holder is dead or stuck (then taken
    over, its run marked failed); yields whether it was taken."""
    if connection.vendor == "postgresql":
        taken = _pg_try_lock(district_id)
        if not taken and run is not None:
            holder = _holder(district_id)
            why = holder.dead_or_stuck(timezone.now())
            if why and holder.backend_pid:
                _take_over(district_id, holder, why, run)
                for _ in range(50):  # the terminated session lets go within moments
                    taken = _pg_try_lock(district_id)
                    if taken:
                        break
                    time.sleep(0.1)
        try:
            yield taken
        finally:
            if taken:
                try:
                    with connection.cursor() as cursor:
                        cursor.execute(
                            "SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, district_id]
                        )
                except Error as exc:
                    # The session is gone, and its advisory lock with it.
                    logger.warning("district %s: lock not released (%s)", district_id, exc)
        return
    # Elsewhere: a conditional UPDATE on the district row is atomic. The holder renews it with
    # each heartbeat, so a lock silent for the heartbeat timeout was left by a dead process.
    now = timezone.now()
    stale = now - timedelta(seconds=settings.CLEVER_SYNC_HEARTBEAT_TIMEOUT)
    free = Q(sync_locked_at__isnull=True) | Q(sync_locked_at__lt=stale)
    taken = bool(District.objects.filter(pk=district_id).filter(free).update(sync_locked_at=now))
    if not taken and run is not None:
        holder = _holder(district_id)
        why = holder.dead_or_stuck(now)
        if why:
            _take_over(district_id, holder, why, run)
            taken = bool(District.objects.filter(pk=district_id).update(sync_locked_at=now))
    try:
        yield taken
    finally:
        if taken:
            District.objects.filter(pk=district_id).update(sync_locked_at=None)


class ReadStep(str):
    """A progress message saying how many records of one type have been read so far (the run
    page and ``clever_sync``'s bar show it per type); any other callback sees the plain text."""

    record_type: str
    total: int

    def __new__(cls, message: str, *, record_type: str, total: int) -> ReadStep:
        step = super().__new__(cls, message)
        step.record_type, step.total = record_type, total
        return step


Progress = Callable[[str], None]


class RunProgress:
    """A run's live progress: the latest step and the records read per type, passed on to the
    caller's own callback. Written to the run by the heartbeat thread (``_Heartbeat``), never
    by the run's own connection, whose merge transaction would hide it until the end."""

    def __init__(self, forward: Progress | None = None) -> None:
        self.forward = forward
        self.lock = threading.Lock()
        self.message = ""
        self.read: dict[str, int] = {}
        self.version = 0

    def __call__(self, message: str) -> None:
        with self.lock:
            self.message = str(message)[:500]
            if isinstance(message, ReadStep):
                self.read[message.record_type] = message.total
            self.version += 1
        if self.forward is not None:
            self.forward(message)

    def snapshot(self) -> tuple[int, str, dict[str, int]]:
        with self.lock:
            return self.version, self.message, dict(self.read)


# How often, at most, a run's progress is written (the run page polls about as often).
PROGRESS_SECONDS = 1.0


class _Heartbeat:
    """Writes a running run's heartbeat and progress from a thread with its own database
    connection (so the run's merge transaction never hides them), and renews the SQLite lock's
    lease."""

    def __init__(self, run: SyncRun, progress: RunProgress | None = None) -> None:
        self.run_id, self.district_id = run.pk, run.district_id
        self.progress = progress
        self.written = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"heartbeat-{run.pk}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)

    def _loop(self) -> None:
        every = settings.CLEVER_SYNC_HEARTBEAT_SECONDS
        tick = min(every, PROGRESS_SECONDS)
        last_beat = time.monotonic()
        try:
            while not self.stopped.wait(tick):
                self.progress_write()
                if time.monotonic() - last_beat >= every:
                    self.beat()
                    last_beat = time.monotonic()
        finally:
            connection.close()  # this thread's own connection

    def progress_write(self) -> None:
        if self.progress is None:
            return
        version, message, read = self.progress.snapshot()
        if version == self.written:
            return
        try:
            SyncRun.objects.filter(pk=self.run_id, status=SyncRun.Status.RUNNING).update(
                progress=message, progress_counts=read
            )
            self.written = version
        except DatabaseError as exc:
            logger.info("progress of run %s not written: %s", self.run_id, exc)

    def beat(self) -> None:
        now = timezone.now()
        try:
            SyncRun.objects.filter(pk=self.run_id, status=SyncRun.Status.RUNNING).update(
                heartbeat_at=now
            )
            if connection.vendor != "postgresql":
                District.objects.filter(pk=self.district_id).exclude(sync_locked_at=None).update(
                    sync_locked_at=now
                )
        except DatabaseError as exc:  # e.g. SQLite busy with the run's own write
            logger.info("heartbeat of run %s not written: %s", self.run_id, exc)


def runs_dead_fail(*, district_id: int | None = None) -> int:
    """Mark failed the running runs whose heartbeat stopped (their process died); how many."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.CLEVER_SYNC_HEARTBEAT_TIMEOUT)
    runs = SyncRun.objects.filter(status=SyncRun.Status.RUNNING).filter(
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at=None, started_at__lt=stale)
    )
    if district_id is not None:
        runs = runs.filter(district_id=district_id)
    done = 0
    for run in runs:
        last = run.heartbeat_at or run.started_at
        done += _fail(
            run.pk,
            error=f"The process stopped at {last:%Y-%m-%d %H:%M:%S} UTC (no heartbeat since). "
            "Nothing after its last commit was applied; the next run starts afresh.",
        )
    return done


def run_pending_create(
    *, district: District, trigger: str, requested_by: User | None = None
) -> SyncRun:
    """Record a run asked for now and started in the background (its page exists at once)."""
    return SyncRun.objects.create(
        district=district,
        trigger=trigger,
        requested_by=requested_by,
        client_id=settings.CLEVER_CLIENT_ID,
    )


def run_pending(*, run_id: int | None) -> SyncRun | None:
    """The pending run ``run_id``, or None when there is none (it already ran: a retry)."""
    if run_id is None:
        return None
    return SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.PENDING).first()


def run_pending_refuse(*, run_id: int | None, error: str) -> None:
    """Mark a pending run failed before it started, saying why."""
    if run_id is not None:
        _fail(run_id, error=error, was=SyncRun.Status.PENDING, failure=SyncRun.Failure.PERMANENT)


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


Work = Callable[[SyncRun, ErrorLog, RunProgress], RunResult]


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
    progress: Progress | None = None,
    run: SyncRun | None = None,
) -> SyncRun:
    """Record one run of ``work`` on ``district`` under its lock; never raises for Clever.

    ``run``: a pending run made when the run was asked for (the admin lands on its page before it
    starts); else one is made here. ``progress`` hears each step as the run's page does.

    ``work`` raises ``RunRefused`` when it cannot start, ``clever.errors`` when Clever fails it.
    ``after_failure`` says, when Clever fails the run, what state it left ("Nothing was
    archived."). An unexpected exception is recorded as an internal error and raised again.
    Ops are told of a held or failed run once the lock is released, so a slow mail server never
    holds up the district's next sync.
    """
    if run is None or run.status != SyncRun.Status.PENDING:
        run = SyncRun.objects.create(
            district=district,
            trigger=trigger,
            dry_run=dry_run,
            requested_by=requested_by,
            client_id=settings.CLEVER_CLIENT_ID,
        )
    else:
        run.client_id = settings.CLEVER_CLIENT_ID
        run.save(update_fields=["client_id"])
    alert = True
    runs_dead_fail(district_id=district.pk)
    try:
        with district_lock(district.pk, run=run) as taken:
            run, alert = _run_locked(run, taken, work, after_failure, RunProgress(progress))
    finally:
        if alert:
            run_alert_send(run=run)
    return run


def _run_locked(
    run: SyncRun,
    taken: bool,
    work: Work,
    after_failure: Callable[[], str],
    progress: RunProgress,
) -> tuple[SyncRun, bool]:
    """The run under its lock: (the finished run, whether ops should hear of it)."""
    district = run.district
    if not taken:
        holder = _holder(district.pk).describe()
        error = f"Skipped: another sync of this district is running ({holder})."
        return _finish(run, SyncRun.Status.SKIPPED, error=error), False
    run.status, run.started_at = SyncRun.Status.RUNNING, timezone.now()
    run.heartbeat_at = run.started_at
    run.save(update_fields=["status", "started_at", "heartbeat_at"])
    log = ErrorLog()
    try:
        with _Heartbeat(run, progress):
            result = work(run, log, progress)
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
        # Unless a later run took it over (and said so): then its session was ended.
        _fail(run.pk, error=f"Internal error: {exc.__class__.__name__}: {exc}"[:2000])
        raise
    finally:
        log.save(run)
        # The last step and what was read, saved with the outcome (which writes the whole row).
        _, run.progress, run.progress_counts = progress.snapshot()
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
