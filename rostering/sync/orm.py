"""The portable sync path (SQLite and any other database): the ORM in batches.

A ``rostering.sync.store.SyncStore``, like ``rostering.sync.pg.PostgresStore``: the rules it
applies are ``rostering.sync.specs``'; only the mechanics (bulk_create / bulk_update) are here.
Staged rows are held in memory, which is fine for the development and demo districts this
path serves; large districts run on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any

from django.utils import timezone

from rostering.sync.specs import (
    ENTITIES,
    ENTITY_BY_NAME,
    LINKS,
    EntitySpec,
    ErrorSink,
    LinkSpec,
    archive_values,
)

BATCH = 500


def _chunks(items: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _value(spec: EntitySpec | LinkSpec, column: str, value: Any) -> Any:
    field = spec.model._meta.get_field(column)
    if value is None:
        return None
    if field.get_internal_type() == "DateField" and not isinstance(value, date):
        return date.fromisoformat(str(value)) if value else None
    if field.get_internal_type() in {"PositiveSmallIntegerField", "IntegerField"}:
        return int(value)
    return value


def archive_rows(spec: EntitySpec | LinkSpec, ids: Sequence[int], now: Any) -> int:
    """Archive the live rows of ``spec``'s type with these primary keys; how many."""
    done = 0
    for chunk in _chunks(ids):
        done += spec.model.objects.filter(pk__in=chunk, archived_at__isnull=True).update(
            **archive_values(spec, now)
        )
    return done


class OrmStore:
    """Stages rows in memory and merges them with bulk_create / bulk_update in batches."""

    def __init__(self, *, district_id: int, run_id: int) -> None:
        self.district_id = district_id
        self.run_id = run_id
        self.staged: dict[str, int] = {}
        self.rows: dict[str, list[tuple[Any, ...]]] = {}
        self.resolved: dict[str, set[tuple[Any, ...]]] = {}
        self.ids: dict[str, dict[str, int]] = {}  # entity name -> clever_id -> pk
        self._archived: dict[str, list[int]] = {}
        # When set (the events path), associations are read and archived only under these
        # parents' Clever IDs, by entity name, instead of across the whole district.
        self.parents: dict[str, set[str]] | None = None
        # Clever IDs fetched but not taken (malformed): kept as they are, never archived.
        self.keep: dict[str, set[str]] = {}

    def begin(self) -> None:
        """Start empty staging for every type."""
        for spec in (*ENTITIES, *LINKS):
            self.rows[spec.name] = []
            self.staged[spec.name] = 0

    def stage(self, name: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Hold ``rows`` for type ``name``."""
        self.rows[name].extend(rows)
        self.staged[name] += len(rows)

    def close(self) -> None:
        """Forget the staged rows."""
        self.rows.clear()
        self.resolved.clear()

    def _scope_filter(self, spec: LinkSpec) -> dict[str, Any]:
        parent = spec.scope.field
        if self.parents is not None:
            return {f"{parent}__clever_id__in": sorted(self.parents.get(spec.scope.entity, ()))}
        return {f"{parent}__district_id": self.district_id}

    def live_counts(self) -> dict[str, int]:
        """Live (not archived) rows of this district per type, before the merge."""
        counts = {
            spec.name: spec.model.objects.filter(
                district_id=self.district_id, archived_at__isnull=True
            ).count()
            for spec in ENTITIES
        }
        for spec in LINKS:
            counts[spec.name] = spec.model.objects.filter(
                archived_at__isnull=True, **self._scope_filter(spec)
            ).count()
        return counts

    def duplicate(self, name: str) -> str:
        """A Clever ID staged twice for entity type ``name``, or ""."""
        seen: set[str] = set()
        for row in self.rows[name]:
            if row[0] in seen:
                return row[0]
            seen.add(row[0])
        return ""

    def _id_map(self, entity: str, clever_ids: Iterable[str]) -> dict[str, int]:
        """pk by Clever ID of the rows references may use: those Clever shares in this run
        (a full sync: fetched now; the events path: live rows)."""
        spec = ENTITY_BY_NAME[entity]
        known = self.ids.setdefault(entity, {})
        wanted = {c for c in clever_ids if c and c not in known}
        if self.parents is None:
            shared = {row[0] for row in self.rows[entity]} | self.keep.get(entity, set())
            wanted &= shared
        for chunk in _chunks(sorted(wanted)):
            qs = spec.model.objects.filter(clever_id__in=chunk)
            qs = qs.filter(district_id=self.district_id)
            if self.parents is not None:
                qs = qs.filter(archived_at__isnull=True)
            known.update(qs.values_list("clever_id", "id"))
        return known

    def merge_entity(self, spec: EntitySpec, errors: ErrorSink) -> dict[str, int]:
        """Update changed rows, restore archived ones, insert new ones; return the counts."""
        now = timezone.now()
        model = spec.model
        rows = {row[0]: row for row in self.rows[spec.name]}
        n_data = len(spec.columns)
        refs: dict[str, dict[str, int]] = {}
        for i, ref in enumerate(spec.refs):
            refs[ref.column] = self._id_map(ref.entity, (r[2 + n_data + i] for r in rows.values()))
        existing: dict[str, Any] = {}
        for chunk in _chunks(list(rows)):
            existing.update(
                (obj.clever_id, obj) for obj in model.objects.filter(clever_id__in=chunk)
            )
        counts = {"created": 0, "updated": 0, "restored": 0, "unchanged": 0}
        to_create, to_update = [], []
        prefixed = spec.insert_prefixed.items()
        for clever_id, row in rows.items():
            values = {c: _value(spec, c, v) for c, v in zip(spec.columns, row[2:], strict=False)}
            for i, ref in enumerate(spec.refs):
                ref_cid = row[2 + n_data + i]
                values[ref.column] = refs[ref.column].get(ref_cid) if ref_cid else None
                if ref_cid and values[ref.column] is None:
                    errors.append(spec.unknown_ref(clever_id, ref, ref_cid))
            obj = existing.get(clever_id)
            if obj is None:
                obj = model(
                    clever_id=clever_id,
                    district_id=self.district_id,
                    sync_digest=row[1],
                    last_seen_run_id=self.run_id,
                    **values,
                    **spec.insert_defaults,
                    **{column: prefix + clever_id for column, prefix in prefixed},
                    **dict.fromkeys(spec.insert_now, now),
                )
                to_create.append(obj)
                counts["created"] += 1
                continue
            if obj.district_id != self.district_id:
                errors.append(spec.other_district(clever_id))
                continue
            if not spec.is_managed(obj):
                counts["unchanged"] += 1
                continue
            changed = obj.sync_digest != row[1] or any(
                getattr(obj, r.column) != values[r.column] for r in spec.refs
            )
            if not changed and obj.archived_at is None:
                counts["unchanged"] += 1
                continue
            counts["restored" if obj.archived_at is not None else "updated"] += 1
            for column, value in values.items():
                setattr(obj, column, value)
            obj.sync_digest, obj.archived_at, obj.last_seen_run_id = row[1], None, self.run_id
            if spec.touches_updated_at:
                obj.updated_at = now
            to_update.append(obj)
        model.objects.bulk_create(to_create, batch_size=BATCH)
        fields = [*spec.columns, *(r.column for r in spec.refs)]  # what a changed row writes
        fields += ["sync_digest", "archived_at", "last_seen_run_id"]
        if spec.touches_updated_at:
            fields.append("updated_at")
        model.objects.bulk_update(to_update, fields, batch_size=BATCH)
        known = self.ids.setdefault(spec.name, {})
        for obj in to_create:
            if obj.pk is None:  # backends without RETURNING on bulk insert
                break
            known[obj.clever_id] = obj.pk
        else:
            return counts
        known.update(
            model.objects.filter(district_id=self.district_id).values_list("clever_id", "id")
        )
        return counts

    def merge_link(self, spec: LinkSpec, errors: ErrorSink) -> dict[str, int]:
        """Insert, update and restore association rows; unknown ends are skipped and reported."""
        rows = self.rows[spec.name]
        maps: dict[str, dict[str, int]] = {}
        for i, key in enumerate(spec.keys):
            if not isinstance(key, str):
                maps[key.column] = self._id_map(key.entity, (r[i] for r in rows))
        n_keys, n_data = len(spec.keys), len(spec.columns)
        for i, ref in enumerate(spec.refs):
            maps[ref.column] = self._id_map(ref.entity, (r[n_keys + n_data + i] for r in rows))
        wanted: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in rows:
            key: list[Any] = []
            unknown = []
            for i, k in enumerate(spec.keys):
                if isinstance(k, str):
                    key.append(row[i])
                    continue
                pk = maps[k.column].get(row[i])
                if pk is None:
                    unknown.append((k, row[i]))
                key.append(pk)
            if unknown:
                cids = [row[i] for i, k in enumerate(spec.keys) if not isinstance(k, str)]
                errors.append(spec.unknown_ends(cids, unknown))
                continue
            values = {
                c: _value(spec, c, v) for c, v in zip(spec.columns, row[n_keys:], strict=False)
            }
            for i, ref in enumerate(spec.refs):
                values[ref.column] = maps[ref.column].get(row[n_keys + n_data + i])
            wanted[tuple(key)] = values
        self.resolved[spec.name] = set(wanted)
        key_cols = spec.key_columns
        data_cols = spec.data_columns
        existing = {
            tuple(getattr(obj, c) for c in key_cols): obj
            for obj in spec.model.objects.filter(**self._scope_filter(spec))
        }
        counts = {"created": 0, "updated": 0, "restored": 0, "unchanged": 0}
        to_create, to_update = [], []
        for key, values in wanted.items():
            obj = existing.get(key)
            if obj is None:
                to_create.append(
                    spec.model(
                        **dict(zip(key_cols, key, strict=True)),
                        **values,
                        last_seen_run_id=self.run_id,
                    )
                )
                counts["created"] += 1
                continue
            differs = any(getattr(obj, c) != values[c] for c in data_cols)
            if not differs and obj.archived_at is None:
                counts["unchanged"] += 1
                continue
            counts["restored" if obj.archived_at is not None else "updated"] += 1
            for column, value in values.items():
                setattr(obj, column, value)
            obj.archived_at, obj.last_seen_run_id = None, self.run_id
            to_update.append(obj)
        spec.model.objects.bulk_create(to_create, batch_size=BATCH)
        spec.model.objects.bulk_update(
            to_update, [*data_cols, "archived_at", "last_seen_run_id"], batch_size=BATCH
        )
        return counts

    def archive(self, keep: dict[str, set[str]]) -> dict[str, int]:
        """Archive this district's rows not staged in this run (sparing ``keep``); counts."""
        now = timezone.now()
        self._archived = {}
        for spec in ENTITIES if self.parents is None else ():
            staged = {row[0] for row in self.rows[spec.name]} | keep.get(spec.name, set())
            qs = spec.model.objects.filter(district_id=self.district_id, archived_at__isnull=True)
            if spec.managed:
                qs = qs.filter(**dict([spec.managed]))
            ids = [pk for pk, cid in qs.values_list("id", "clever_id") if cid not in staged]
            self._archive_ids(spec, ids, now)
            self._archived[spec.name] = ids
        for spec in LINKS:
            wanted = self.resolved.get(spec.name, set())
            spared = keep.get(spec.scope.entity, set())
            parent = spec.scope.field
            qs = spec.model.objects.filter(archived_at__isnull=True, **self._scope_filter(spec))
            ids = [
                values[0]
                for values in qs.values_list("id", f"{parent}__clever_id", *spec.key_columns)
                if tuple(values[2:]) not in wanted and values[1] not in spared
            ]
            self._archive_ids(spec, ids, now)
            self._archived[spec.name] = ids
        return {name: len(ids) for name, ids in self._archived.items()}

    @staticmethod
    def _archive_ids(spec: EntitySpec | LinkSpec, ids: list[int], now: Any) -> None:
        archive_rows(spec, ids, now)

    def archived_ids(self) -> dict[str, list[int]]:
        """The ids the last ``archive`` call archived, per type."""
        return {name: ids for name, ids in self._archived.items() if ids}
