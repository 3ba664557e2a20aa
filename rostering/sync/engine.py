"""One district's full sync: read every record type from a roster source, stage it, merge it,
then (only if all of it was read) archive what was not seen, behind a guard against mass
archiving.

The engine knows nothing of HTTP or files (a ``rostering.sources.RosterSource`` hands it typed
records) nor of run bookkeeping (``rostering.runs.run_execute`` owns the lock, the run record and
the disconnect policy): it returns a ``RunResult`` and raises ``clever.errors`` exceptions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.matching import CandidateIndex, Claim
from accounts.selectors import link_candidates
from accounts.services import claim_of, users_match_local
from clever import errors
from rostering.connections import district_clever_state_save
from rostering.models import District, SyncRun
from rostering.runs import ErrorLog, ReadStep, RunResult
from rostering.selectors import rollover_note
from rostering.sources import RosterSource
from rostering.sync import specs
from rostering.sync.store import SyncStore

Progress = Callable[[str], None]
# Rows held before they are staged (bounds memory whatever the page size).
STAGE_CHUNK_ROWS = 20000


class _Rollback(Exception):
    """Unwinds the merge transaction of a dry run."""


def _stage(store: SyncStore, batch: specs.Rows) -> None:
    for name, items in batch.items():
        store.stage(name, items)


def sync_full(
    *,
    run: SyncRun,
    source: RosterSource,
    store: SyncStore,
    errors_log: ErrorLog,
    progress: Progress,
) -> RunResult:
    """Read the whole roster from ``source`` into ``store``, then merge and archive it."""
    latest_event = "" if run.dry_run else source.latest_event_id()
    record = source.district()
    for problem in record.problems:
        errors_log.append(("district", record.id, f"{problem} (the district syncs all the same)"))
    if not run.dry_run:
        # Kept whatever becomes of the rest of the run: it is what Clever says now (its launch
        # date gates logins), and reading the roster does not change it.
        district_clever_state_save(district=run.district, record=record)
    accounts = _AccountClaims(district_id=run.district_id)
    store.begin()
    try:
        live = store.live_counts()
        keep: dict[str, set[str]] = {}
        for spec in specs.ENTITIES:
            _read(source, store, spec, keep, errors_log, progress, accounts)
        return _apply(
            run, store, live, keep, record.name, latest_event, errors_log, progress, accounts
        )
    finally:
        store.close()


def _read(
    source: RosterSource,
    store: SyncStore,
    spec: specs.EntitySpec,
    keep: dict[str, set[str]],
    errors_log: ErrorLog,
    progress: Progress,
    accounts: _AccountClaims,
) -> None:
    total = 0
    where = spec.name
    for batch in source.batches(spec.name):
        where = batch.where
        if spec is specs.USERS:
            accounts.offer(batch.records)
        for note in batch.notes:
            errors_log.append(note)
        for clever_id, why in batch.rejected:
            # Keep what we hold for it (not archived, not overwritten) and say why.
            errors_log.append((spec.record_type, clever_id, why))
            keep.setdefault(spec.name, set()).add(clever_id)
        rows: specs.Rows = {}
        pending = 0
        for item in batch.records:
            for name, items in specs.iter_rows(spec.to_rows(item)):
                rows.setdefault(name, []).extend(items)
                pending += len(items)
            if pending >= STAGE_CHUNK_ROWS:
                # A page of sections carries ~30 enrolments each: stage in chunks so the
                # rows of one page never pile up.
                _stage(store, rows)
                rows, pending = {}, 0
        _stage(store, rows)
        _stage(store, batch.rows)
        total += len(batch.records) + len(batch.rejected)
        progress(
            ReadStep(
                f"{batch.where}: {total} {spec.name} so far", record_type=spec.name, total=total
            )
        )
    duplicate = store.duplicate(spec.name)
    if duplicate:
        raise errors.CleverMalformedError(
            f"the source returned {spec.record_type} {duplicate} twice",
            record_type=spec.record_type,
            clever_id=duplicate,
            where=where,
        )


def _apply(
    run: SyncRun,
    store: SyncStore,
    live: dict[str, int],
    keep: dict[str, set[str]],
    district_name: str,
    latest_event: str,
    errors_log: ErrorLog,
    progress: Progress,
    accounts: _AccountClaims,
) -> RunResult:
    result = RunResult()
    store.keep = keep
    try:
        with transaction.atomic():
            linked = accounts.link(run, errors_log, progress)
            for spec in specs.ENTITIES:
                result.counts[spec.name] = store.merge_entity(spec, errors_log)
                progress(f"merged {spec.name}: {_short(result.counts[spec.name])}")
            result.counts["users"]["linked"] = linked
            for link in specs.LINKS:
                result.counts[link.name] = store.merge_link(link, errors_log)
                progress(f"merged {link.name}: {_short(result.counts[link.name])}")
            savepoint = transaction.savepoint()
            archived = store.archive(keep)
            for name, n in archived.items():
                result.counts[name]["archived"] = n
            progress(f"archived: {sum(archived.values())} rows not seen by this run")
            reasons = archive_guard(live, archived, store.staged.get("users", 0))
            if reasons:
                held = store.archived_ids()
                rollover = rollover_note(
                    section_ids=held.get("sections", []), today=timezone.localdate()
                )
                result.plan = {
                    "reasons": [*reasons, rollover] if rollover else reasons,
                    "archive": {
                        name: {"count": len(ids), "ids": ids} for name, ids in held.items()
                    },
                    "last_event_id": latest_event,
                }
                if not run.dry_run:
                    transaction.savepoint_rollback(savepoint)
                    result.status = SyncRun.Status.NEEDS_REVIEW
                    # Nothing was archived: the counts say held, not archived.
                    for name, n in archived.items():
                        result.counts[name]["held"] = n
                        result.counts[name]["archived"] = 0
            else:
                transaction.savepoint_commit(savepoint)
            if run.dry_run:
                raise _Rollback
            _district_update(run.district, district_name, latest_event, result.status)
    except _Rollback:
        progress("dry run: rolled back, nothing written")
    else:
        progress("committed")
    if run.dry_run and result.plan:
        result.plan = {
            "reasons": result.plan["reasons"],
            "archive": {name: {"count": e["count"]} for name, e in result.plan["archive"].items()},
        }
    return result


class _AccountClaims:
    """The Clever users of a run who may match accounts made in our app before Clever (usually
    there are no such accounts: then reading costs nothing)."""

    def __init__(self, *, district_id: int) -> None:
        self.candidates = CandidateIndex(link_candidates(district_id=district_id))
        self.claims: list[Claim] = []

    def offer(self, users: list[Any]) -> None:
        """Keep the claims of these user records that some candidate shares a value with."""
        if self.candidates:
            self.claims.extend(c for c in map(claim_of, users) if self.candidates.touches(c))

    def link(self, run: SyncRun, errors_log: ErrorLog, progress: Progress) -> int:
        """Link the matched accounts before the merge creates accounts for their Clever users
        (in the merge's transaction: a dry run or a failure links nothing); how many."""
        if not self.claims:
            return 0
        outcome = users_match_local(
            claims=self.claims, district_id=run.district_id, run_id=run.pk, index=self.candidates
        )
        for doubt in outcome.doubts:
            errors_log.append(("user", doubt.clever_id, doubt.message()))
        progress(f"matched {len(outcome.links)} accounts made in our app to Clever users")
        return len(outcome.links)


def _district_update(district: District, name: str, latest_event: str, status: str) -> None:
    fields = []
    if name and name != district.name:
        district.name = name
        fields.append("name")
    if latest_event and status == SyncRun.Status.SUCCEEDED:
        district.last_event_id = latest_event
        fields.append("last_event_id")
    if fields:
        district.save(update_fields=[*fields, "updated_at"])


def archive_guard(
    live: dict[str, int], archived: dict[str, int], staged_users: int | None
) -> list[str]:
    """Why these archives must be held for review ([] when they may apply). ``staged_users``:
    how many users the run read (None for an events pass, which reads no full list)."""
    reasons = []
    max_fraction = settings.CLEVER_SYNC_ARCHIVE_MAX_FRACTION
    max_count = settings.CLEVER_SYNC_ARCHIVE_MAX_COUNT
    min_count = settings.CLEVER_SYNC_ARCHIVE_MIN_COUNT
    if staged_users == 0 and live.get("users", 0) > 0:
        reasons.append(
            f"Clever returned no users for a district that had {live['users']} live users."
        )
    for name in specs.ALL_NAMES:
        n, base = archived.get(name, 0), live.get(name, 0)
        if n > max_count:
            reasons.append(
                f"would archive {n} {name}, more than CLEVER_SYNC_ARCHIVE_MAX_COUNT ({max_count})"
            )
        elif n > min_count and base and n / base > max_fraction:
            reasons.append(
                f"would archive {n} of {base} {name} ({n / base:.0%}), more than "
                f"CLEVER_SYNC_ARCHIVE_MAX_FRACTION ({max_fraction:.0%})"
            )
    return reasons


def _short(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items() if v)
