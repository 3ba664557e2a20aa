"""One district's full sync: fetch every page, stage, merge, then (only if all of it was
fetched) archive what was not seen, behind a guard against mass archiving.

Entered only through ``rostering.services.district_sync``; the command, the admin, the tasks and
the login path all go through there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from rostering import clever_api
from rostering.models import District, SyncError, SyncRun
from rostering.sync import specs
from rostering.sync.orm import OrmStore
from rostering.sync.pg import PostgresStore

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]
# The most SyncError rows one run records; beyond it only the count grows.
MAX_RECORDED_ERRORS = 1000
# Rows held before they are staged (bounds memory whatever the page size).
STAGE_CHUNK_ROWS = 20000
# Namespace of our PostgreSQL advisory locks (the second key is the district's pk).
_LOCK_NAMESPACE = 0x5C1E


class _Rollback(Exception):
    """Unwinds the merge transaction of a dry run."""


def store_for_connection(*, district_id: int, run_id: int) -> PostgresStore | OrmStore:
    """The set-based SQL path on PostgreSQL, the portable ORM path elsewhere."""
    if connection.vendor == "postgresql":
        return PostgresStore(district_id=district_id, run_id=run_id)
    return OrmStore(district_id=district_id, run_id=run_id)


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


def _finish(run: SyncRun, status: str, **fields: Any) -> SyncRun:
    run.status = status
    run.finished_at = timezone.now()
    for name, value in fields.items():
        setattr(run, name, value)
    run.save()
    return run


def _stage(store: Any, batch: dict[str, list[tuple[Any, ...]]]) -> None:
    for name, items in batch.items():
        store.stage(name, items)


class Sync:
    """One run of one district; ``run()`` records everything on the SyncRun."""

    def __init__(self, run: SyncRun, *, progress: Progress | None = None) -> None:
        self.run = run
        self.district = run.district
        self.progress = progress or (lambda message: None)
        self.errors: list[tuple[str, str, str]] = []
        self.error_count = 0
        self.keep: dict[str, set[str]] = {}
        self.retryable = False

    def _error(self, record_type: str, clever_id: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_RECORDED_ERRORS:
            self.errors.append((record_type, clever_id, message))

    def execute(self) -> SyncRun:
        """Run the sync under the district's lock; a second concurrent request is skipped."""
        run = self.run
        with district_lock(self.district.pk) as taken:
            if not taken:
                other = (
                    SyncRun.objects.filter(district=self.district, status=SyncRun.Status.RUNNING)
                    .exclude(pk=run.pk)
                    .values_list("pk", flat=True)
                    .first()
                )
                ref = f" (run #{other})" if other else ""
                return _finish(
                    run,
                    SyncRun.Status.SKIPPED,
                    error=f"Skipped: another sync of this district is running{ref}.",
                )
            run.status, run.started_at = SyncRun.Status.RUNNING, timezone.now()
            run.save(update_fields=["status", "started_at"])
            try:
                return self._execute()
            finally:
                self._save_errors()

    def _save_errors(self) -> None:
        SyncError.objects.bulk_create(
            [
                SyncError(run=self.run, record_type=t, clever_id=cid, message=msg[:2000])
                for t, cid, msg in self.errors
            ],
            batch_size=500,
        )

    def _execute(self) -> SyncRun:
        run, district = self.run, self.district
        if district.status != District.Status.CONNECTED or not district.token_ciphertext:
            return _finish(
                run,
                SyncRun.Status.FAILED,
                error="The district is not connected: no district-app token is held.",
            )
        store = store_for_connection(district_id=district.pk, run_id=run.pk)
        try:
            with clever_api.CleverClient(district.token) as client:
                latest_event = self._latest_event_id(client)
                record = client.district(district.clever_id)
                store.begin()
                live = store.live_counts()
                for spec in specs.ENTITIES:
                    self._fetch(client, store, spec)
        except clever_api.CleverUnauthorized as exc:
            from rostering.services import district_disconnect

            district_disconnect(district=district, reason="token revoked (401 from Clever)")
            store.close()
            return _finish(
                run,
                SyncRun.Status.FAILED,
                stopped_at=exc.where,
                error=f"Clever refused the district's token (revoked?): {exc.message}. "
                "The district is now marked disconnected; nothing was archived.",
            )
        except clever_api.CleverError as exc:
            self.retryable = isinstance(exc, clever_api.CleverTransientError)
            store.close()
            return _finish(
                run,
                SyncRun.Status.FAILED,
                stopped_at=exc.where,
                error=f"{exc.message}. Nothing was archived.",
            )
        try:
            return self._apply(store, live, record, latest_event)
        finally:
            store.close()

    def _latest_event_id(self, client: clever_api.CleverClient) -> str:
        # Clever's flow: note the newest event first, then full-sync, then apply events after
        # it. Events are opt-in per district: without them (403/404) there is nothing to note.
        if self.run.dry_run:
            return ""
        try:
            return client.latest_event_id()
        except clever_api.CleverUnauthorized:
            raise
        except clever_api.CleverError as exc:
            # Not fatal to the full sync: the cursor stays where it was, and events after it
            # are applied (again, idempotently) next time.
            logger.info("Events unavailable for district %s: %s", self.district.clever_id, exc)
            return ""

    def _fetch(self, client: clever_api.CleverClient, store: Any, spec: specs.EntitySpec) -> None:
        roles = tuple(settings.CLEVER_SYNC_USER_ROLES)
        total = 0
        for page in client.pages(spec.path):
            batch: dict[str, list[tuple[Any, ...]]] = {}
            pending = 0
            for position, raw in enumerate(page.items, start=1):
                try:
                    _, rows = specs.parse_and_rows(spec, raw, page.where, roles)
                except clever_api.CleverMalformedError as exc:
                    if not exc.clever_id:
                        exc.message = f"record {position}: {exc.message}"
                        raise
                    # Keep what we hold for it (not archived, not overwritten) and say why.
                    self._error(spec.record_type, exc.clever_id, f"{exc} (record not updated)")
                    self.keep.setdefault(spec.name, set()).add(exc.clever_id)
                    continue
                for name, items in specs.iter_rows(rows):
                    batch.setdefault(name, []).extend(items)
                    pending += len(items)
                if pending >= STAGE_CHUNK_ROWS:
                    # A page of sections carries ~30 enrolments each: stage in chunks so the
                    # rows of one page never pile up.
                    _stage(store, batch)
                    batch, pending = {}, 0
            _stage(store, batch)
            total += len(page.items)
            self.progress(f"{spec.path} page {page.number}: {total} {spec.name} so far")
        duplicate = store.duplicate(spec.name)
        if duplicate:
            raise clever_api.CleverMalformedError(
                f"Clever returned {spec.record_type} {duplicate} twice",
                record_type=spec.record_type,
                clever_id=duplicate,
                where=f"GET {spec.path}",
            )

    def _apply(
        self,
        store: Any,
        live: dict[str, int],
        record: clever_api.DistrictRecord,
        latest_event: str,
    ) -> SyncRun:
        run, district = self.run, self.district
        counts: dict[str, dict[str, int]] = {}
        plan: dict[str, Any] = {}
        status = SyncRun.Status.SUCCEEDED
        store.keep = self.keep
        try:
            with transaction.atomic():
                for spec in specs.ENTITIES:
                    counts[spec.name] = store.merge_entity(spec, self.errors_sink)
                    self.progress(f"merged {spec.name}: {_short(counts[spec.name])}")
                for link in specs.LINKS:
                    counts[link.name] = store.merge_link(link, self.errors_sink)
                    self.progress(f"merged {link.name}: {_short(counts[link.name])}")
                savepoint = transaction.savepoint()
                archived = store.archive(self.keep)
                for name, n in archived.items():
                    counts[name]["archived"] = n
                self.progress(f"archived: {sum(archived.values())} rows not seen by this run")
                reasons = self._guard(live, archived, store.staged.get("users", 0))
                if reasons:
                    plan = {
                        "reasons": reasons,
                        "archive": {
                            name: {"count": len(ids), "ids": ids}
                            for name, ids in store.archived_ids().items()
                        },
                        "last_event_id": latest_event,
                    }
                    if not run.dry_run:
                        transaction.savepoint_rollback(savepoint)
                        status = SyncRun.Status.NEEDS_REVIEW
                else:
                    transaction.savepoint_commit(savepoint)
                if run.dry_run:
                    raise _Rollback
                fields = []
                if record.name and record.name != district.name:
                    district.name = record.name
                    fields.append("name")
                if latest_event and status == SyncRun.Status.SUCCEEDED:
                    district.last_event_id = latest_event
                    fields.append("last_event_id")
                if fields:
                    district.save(update_fields=[*fields, "updated_at"])
        except _Rollback:
            self.progress("dry run: rolled back, nothing written")
        else:
            self.progress("committed")
        counts["errors"] = {"count": self.error_count}
        if run.dry_run and plan:
            plan = {"reasons": plan["reasons"], "archive": _plan_counts(plan["archive"])}
        return _finish(run, status, counts=counts, plan=plan)

    @property
    def errors_sink(self) -> _ErrorSink:
        return _ErrorSink(self)

    def _guard(
        self, live: dict[str, int], archived: dict[str, int], staged_users: int
    ) -> list[str]:
        reasons = []
        max_fraction = settings.CLEVER_SYNC_ARCHIVE_MAX_FRACTION
        max_count = settings.CLEVER_SYNC_ARCHIVE_MAX_COUNT
        if staged_users == 0 and live.get("users", 0) > 0:
            reasons.append(
                f"Clever returned no users for a district that had {live['users']} live users."
            )
        for name in specs.ALL_NAMES:
            n, base = archived.get(name, 0), live.get(name, 0)
            if n > max_count:
                reasons.append(
                    f"would archive {n} {name}, more than CLEVER_SYNC_ARCHIVE_MAX_COUNT "
                    f"({max_count})"
                )
            elif base and n / base > max_fraction:
                reasons.append(
                    f"would archive {n} of {base} {name} ({n / base:.0%}), more than "
                    f"CLEVER_SYNC_ARCHIVE_MAX_FRACTION ({max_fraction:.0%})"
                )
        return reasons


class _ErrorSink(list):
    """A list-like the stores append (record_type, clever_id, message) to; capped and counted."""

    def __init__(self, sync: Sync) -> None:
        super().__init__()
        self.sync = sync

    def append(self, item: tuple[str, str, str]) -> None:  # type: ignore[override]
        self.sync._error(*item)


def _plan_counts(archive: dict[str, Any]) -> dict[str, Any]:
    return {name: {"count": entry["count"]} for name, entry in archive.items()}


def _short(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items() if v)
