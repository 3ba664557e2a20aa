"""Applying Clever's events (``/v3.0/events``) to one district, in order and idempotently.

Each event is applied in its own transaction together with the district's event cursor
(``District.last_event_id``), so a failure part way leaves every earlier event applied and the
next attempt starts right after the last one. ``*.created`` and ``*.updated`` upsert the record
from the event's object (a ``created`` for a known Clever ID restores the same row) and replace
its associations; ``*.deleted`` archives it and its associations.

Each event merges one record through the ORM store (``rostering.sync.orm``), on PostgreSQL too:
its rules are the declarations the full sync applies (``rostering.sync.specs``), and one record
per transaction is what the ORM does well; the set-based store's temporary tables cost more
than they save at that size.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.services import claim_of, users_match_local
from clever import data_api, errors, records
from rostering.connections import district_clever_state_save
from rostering.models import District, SyncRun
from rostering.runs import ErrorLog
from rostering.sources import record_parsers
from rostering.sync import specs
from rostering.sync.engine import archive_guard
from rostering.sync.orm import OrmStore, archive_rows

logger = logging.getLogger(__name__)


def _bump(counts: dict[str, dict[str, int]], name: str, key: str, n: int = 1) -> None:
    if n:
        entry = counts.setdefault(name, {})
        entry[key] = entry.get(key, 0) + n


def _archive_record(
    district: District, spec: specs.EntitySpec, clever_id: str
) -> dict[str, list[int]]:
    """Archive one entity row and the associations hanging off it; their ids per type."""
    now = timezone.now()
    qs = spec.model.objects.filter(district=district, clever_id=clever_id, archived_at__isnull=True)
    if spec.managed:
        qs = qs.filter(**dict([spec.managed]))
    done: dict[str, list[int]] = {spec.name: list(qs.values_list("pk", flat=True))}
    # Every association with this record at either end goes with it (a user's roles and
    # schools, and their places in sections).
    for link in specs.LINKS:
        for key in link.keys:
            if isinstance(key, str) or key.entity != spec.name:
                continue
            ids = link.model.objects.filter(
                **{f"{key.field}__clever_id": clever_id}, archived_at__isnull=True
            ).values_list("pk", flat=True)
            done.setdefault(link.name, []).extend(ids)
    for name, ids in done.items():
        if ids:
            archive_rows(specs.SPEC_BY_NAME[name], ids, now)
    return done


class _Held(Exception):
    """An event whose archives would pass the guard: rolled back, held for review."""

    def __init__(self, event: records.EventRecord, reasons: list[str], ids: dict) -> None:
        super().__init__(event.id)
        self.event, self.reasons, self.ids = event, reasons, ids


def _sections_of_user_refresh(
    *,
    district: District,
    run: SyncRun,
    client: data_api.DataApiClient,
    user_id: str,
    counts: dict[str, dict[str, int]],
    log: ErrorLog,
) -> None:
    """A user who came back (or is new): their sections, with every enrolment and teacher, as
    Clever shares them now (one targeted fetch), so their class lists come back with them."""
    store = OrmStore(district_id=district.pk, run_id=run.pk)
    store.begin()
    parse = record_parsers(tuple(settings.CLEVER_SYNC_USER_ROLES))["sections"]
    ids: set[str] = set()
    for page in client.user_sections(user_id):
        for raw in page.items:
            try:
                section = parse(raw, page.where, log)
            except errors.CleverMalformedError as exc:
                log.append(("section", exc.clever_id, f"{exc} (not applied)"))
                continue
            ids.add(section.id)
            for name, items in specs.iter_rows(specs.SECTIONS.to_rows(section)):
                store.stage(name, items)
    if not ids:
        return
    store.parents = {specs.SECTIONS.name: ids}
    for key, n in store.merge_entity(specs.SECTIONS, log).items():
        _bump(counts, specs.SECTIONS.name, key, n)
    for link in specs.links_of(specs.SECTIONS):
        for key, n in store.merge_link(link, log).items():
            _bump(counts, link.name, key, n)
    for name, n in store.archive({}).items():
        _bump(counts, name, "archived", n)


def apply_event(
    *,
    district: District,
    run: SyncRun,
    event: records.EventRecord,
    counts: dict[str, dict[str, int]],
    log: ErrorLog,
    client: data_api.DataApiClient | None = None,
) -> dict[str, list[int]]:
    """Apply one event to ``district`` (the caller holds the transaction and the lock); the ids
    it archived because its record was deleted (or lost every role we mirror), per type."""
    if event.record_type == "districts":
        if event.action == "deleted" or event.object.get("id") != district.clever_id:
            return {}
        try:
            record = records.parse_district(event.object, f"event {event.id} ({event.type})")
        except errors.CleverMalformedError as exc:
            log.append(("district", district.clever_id, f"{exc} (event not applied)"))
            return {}
        for problem in record.problems:
            log.append(("district", record.id, f"event {event.id}: {problem}"))
        if record.name and record.name != district.name:
            district.name = record.name
            district.save(update_fields=["name", "updated_at"])
        # A districts.updated event carries the whole record: Clever's launch date and SIS
        # sync state are kept current between full syncs too.
        district_clever_state_save(district=district, record=record)
        return {}
    spec = specs.ENTITY_BY_NAME.get(event.record_type)
    if spec is None:
        return {}  # a type we do not mirror (e.g. resources)
    where = f"event {event.id} ({event.type})"
    clever_id = event.object.get("id")
    if not isinstance(clever_id, str) or not clever_id:
        raise errors.CleverMalformedError(f"{where}: the object has no id", where=where)
    if event.action == "deleted":
        return _archive_record(district, spec, clever_id)
    try:
        parse = record_parsers(tuple(settings.CLEVER_SYNC_USER_ROLES))[spec.name]
        record = parse(event.object, where, log)
    except errors.CleverMalformedError as exc:
        log.append((spec.record_type, clever_id, f"{exc} (event not applied)"))
        return {}
    rows = spec.to_rows(record)
    if not rows:  # a user with none of the roles we mirror
        return _archive_record(district, spec, clever_id)
    linked = False
    if spec is specs.USERS:
        # Before the merge creates an account for someone we have never seen, as the full sync.
        matched = users_match_local(
            claims=[claim_of(record)], district_id=district.pk, run_id=run.pk
        )
        for doubt in matched.doubts:
            log.append(("user", doubt.clever_id, doubt.message()))
        if matched.links:
            linked = True
            _bump(counts, spec.name, "linked", len(matched.links))
    store = OrmStore(district_id=district.pk, run_id=run.pk)
    store.begin()
    store.parents = {spec.name: {clever_id}}
    for name, items in specs.iter_rows(rows):
        store.stage(name, items)
    merged = store.merge_entity(spec, log)
    for key, n in merged.items():
        _bump(counts, spec.name, key, n)
    for link in specs.links_of(spec):
        for key, n in store.merge_link(link, log).items():
            _bump(counts, link.name, key, n)
    for name, n in store.archive({}).items():
        _bump(counts, name, "archived", n)
    # Someone new to the roster (or back): their sections too, which the event does not carry.
    new = merged["restored"] or merged["created"] or linked
    if spec is specs.USERS and client is not None and new:
        _sections_of_user_refresh(
            district=district, run=run, client=client, user_id=clever_id, counts=counts, log=log
        )
    return {}


def _cursor_move(district: District, event_id: str) -> None:
    """The district's events cursor moves past this event (applied or reported)."""
    if event_id:
        district.last_event_id = event_id
        district.save(update_fields=["last_event_id", "updated_at"])


def apply_events(
    *,
    district: District,
    run: SyncRun,
    client: data_api.DataApiClient,
    log: ErrorLog,
    progress: Callable[[str], None],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read events after the district's cursor and apply them one by one: (counts, held plan).

    What deletions archive passes the full sync's guard, counted over the pass: the event that
    would cross it is rolled back and held for review (plan), the cursor stays before it, and
    the pass stops there; approving it archives what it would have and moves the cursor on.
    """
    counts: dict[str, Any] = {}
    live = OrmStore(district_id=district.pk, run_id=run.pk).live_counts()
    archived: dict[str, int] = {}
    applied = 0
    # An event held by an earlier pass stays held until ops review it.
    pending = (
        SyncRun.objects.filter(
            district=district, trigger=SyncRun.Trigger.EVENT, status=SyncRun.Status.NEEDS_REVIEW
        )
        .exclude(pk=run.pk)
        .order_by("-created_at")
        .first()
    )
    held_id = pending.plan.get("last_event_id", "") if pending else ""
    try:
        for page in client.events(starting_after=district.last_event_id):
            for raw in page.items:
                try:
                    event = records.parse_event(raw, page.where)
                except errors.CleverMalformedError as exc:
                    # Reported and passed: one odd event must not block the feed.
                    log.append(("event", exc.clever_id, f"{exc}; event skipped"))
                    _cursor_move(district, exc.clever_id)
                    continue
                try:
                    with transaction.atomic():
                        gone = apply_event(
                            district=district,
                            run=run,
                            event=event,
                            counts=counts,
                            log=log,
                            client=client,
                        )
                        # What this pass has archived so far, this event's deletions included.
                        total = {**archived}
                        for name, ids in gone.items():
                            total[name] = total.get(name, 0) + len(ids)
                        where = f"event {event.id} ({event.type})"
                        reasons = [f"{where}: {r}" for r in archive_guard(live, total, None)]
                        if event.id == held_id and pending is not None:
                            reasons = list(pending.plan.get("reasons") or [where])
                        if gone and reasons:
                            raise _Held(event, reasons, gone)  # rolls this event back
                        archived = total
                        for name, ids in gone.items():
                            _bump(counts, name, "archived", len(ids))
                        _cursor_move(district, event.id)
                except (_Held, errors.CleverTransientError, errors.CleverUnauthorized):
                    raise  # held for review, or Clever failing: the run stops before it
                except Exception as exc:
                    # This event alone is rolled back, reported and passed; the feed goes on.
                    logger.exception("event %s of district %s failed", event.id, district.pk)
                    problem = (
                        exc.message
                        if isinstance(exc, errors.CleverError)
                        else (f"{exc.__class__.__name__}: {exc}")
                    )
                    log.append(
                        ("event", event.id, f"event {event.id} ({event.type}): {problem}"[:1500])
                    )
                    _cursor_move(district, event.id)
                    continue
                applied += 1
            progress(f"{page.where}: {applied} events applied")
    except _Held as held:
        counts["events"] = {"count": applied}
        progress(f"event {held.event.id} ({held.event.type}) held for review")
        plan = {
            "reasons": held.reasons,
            "archive": {n: {"count": len(ids), "ids": ids} for n, ids in held.ids.items() if ids},
            "last_event_id": held.event.id,
        }
        return counts, plan
    counts["events"] = {"count": applied}
    return counts, {}
