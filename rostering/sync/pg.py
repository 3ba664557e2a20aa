"""The PostgreSQL sync path: staging with COPY and set-based merges, in SQL on purpose.

Why SQL here and nowhere else: a district can share a million students and a million-odd
enrolments. A per-row ORM loop costs a round trip (or several) per row; this path costs a few
statements per type whatever the size, and keeps memory flat because pages go straight from the
HTTP response into temporary staging tables (``COPY ... FROM STDIN``) and are never held whole in
Python. Then, per type:

- update rows whose digest (or resolved foreign keys, or archived state) differs, counting
  restores apart from updates (a data-modifying CTE returns the row's previous state);
- insert staged rows whose Clever ID we have never seen;
- archive rows of this district that were not staged (associations: within this district's
  sections or users), returning their ids so the guard can hold them for review.

What counts as changed, what is archived, which timestamps move and what a new row starts with
are ``rostering.sync.specs``' declarations (the ORM store reads the same ones); only the SQL is
here. Unchanged rows are never written, so a no-change re-sync writes almost nothing. Everything
runs on the connection that holds the district's advisory lock; the merges run inside the caller's
transaction (savepoints decide whether archives and dry runs stick).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from django.db import connection

from rostering.sync.specs import ENTITIES, LINKS, EntitySpec, ErrorSink, LinkSpec

_ENTITY_TABLE = {s.name: s.table for s in ENTITIES}
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    return str(value).translate(_COPY_ESCAPES)


def _stage(name: str) -> str:
    return f"sync_stage_{name}"


def _resolved(name: str) -> str:
    return f"sync_resolved_{name}"


def _ids(name: str) -> str:
    return f"sync_ids_{name}"


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


class PostgresStore:
    """Stages pages with COPY into temporary tables and merges them with set-based SQL."""

    def __init__(self, *, district_id: int, run_id: int) -> None:
        self.district_id = district_id
        self.run_id = run_id
        self.staged: dict[str, int] = {}
        # Clever IDs fetched but not taken (malformed): kept as they are, never archived.
        self.keep: dict[str, set[str]] = {}

    # --- staging -----------------------------------------------------------------------------

    def begin(self) -> None:
        """Create empty staging tables for every type on this connection."""
        with connection.cursor() as cursor:
            for spec in (*ENTITIES, *LINKS):
                columns = ", ".join(f"{_qn(c)} text" for c in spec.stage_columns)
                cursor.execute(f"DROP TABLE IF EXISTS {_stage(spec.name)}")
                cursor.execute(f"CREATE TEMP TABLE {_stage(spec.name)} ({columns})")
                self.staged[spec.name] = 0
            cursor.execute("DROP TABLE IF EXISTS sync_archived")
            cursor.execute("CREATE TEMP TABLE sync_archived (kind text, id bigint)")

    def stage(self, name: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """COPY ``rows`` into the staging table of type ``name``."""
        if not rows:
            return
        buffer = io.StringIO()
        buffer.writelines("\t".join(_copy_value(v) for v in row) + "\n" for row in rows)
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(f"COPY {_stage(name)} FROM STDIN", buffer)
        self.staged[name] += len(rows)

    def close(self) -> None:
        """Drop the staging tables."""
        with connection.cursor() as cursor:
            for spec in (*ENTITIES, *LINKS):
                cursor.execute(f"DROP TABLE IF EXISTS {_stage(spec.name)}")
                cursor.execute(f"DROP TABLE IF EXISTS {_resolved(spec.name)}")
                cursor.execute(f"DROP TABLE IF EXISTS {_ids(spec.name)}")
            cursor.execute("DROP TABLE IF EXISTS sync_archived")

    # --- reading ----------------------------------------------------------------------------

    def live_counts(self) -> dict[str, int]:
        """Live (not archived) rows of this district per type, before the merge."""
        counts = {}
        with connection.cursor() as cursor:
            for spec in ENTITIES:
                cursor.execute(
                    f"SELECT count(*) FROM {spec.table} WHERE district_id = %s "
                    "AND archived_at IS NULL",
                    [self.district_id],
                )
                counts[spec.name] = cursor.fetchone()[0]
            for spec in LINKS:
                scope = spec.scope
                cursor.execute(
                    f"SELECT count(*) FROM {spec.table} t JOIN {_ENTITY_TABLE[scope.entity]} p "
                    f"ON p.id = t.{scope.column} "
                    "WHERE p.district_id = %s AND t.archived_at IS NULL",
                    [self.district_id],
                )
                counts[spec.name] = cursor.fetchone()[0]
        return counts

    def duplicate(self, name: str) -> str:
        """A Clever ID staged twice for entity type ``name``, or ""."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT clever_id FROM {_stage(name)} GROUP BY clever_id HAVING count(*) > 1 "
                "LIMIT 1"
            )
            row = cursor.fetchone()
        return row[0] if row else ""

    # --- merging ----------------------------------------------------------------------------

    def merge_entity(self, spec: EntitySpec, errors: ErrorSink) -> dict[str, int]:
        """Update changed rows, restore archived ones, insert new ones; return the counts."""
        d, run = self.district_id, self.run_id
        stage = _stage(spec.name)
        source = stage
        with connection.cursor() as cursor:
            _no_nested_loops(cursor)
            cursor.execute(f"ANALYZE {stage}")
            if spec.refs:
                source = self._resolve_entity_refs(cursor, spec, errors)
            data_cols = spec.columns
            casts = _casts(spec)
            set_cols = [f"{_qn(c)} = c.{_qn(c)}{casts.get(c, '')}" for c in data_cols]
            set_cols += [f"{r.column} = c.{r.column}" for r in spec.refs]
            carried = ["s.digest", *(f"s.{_qn(c)}" for c in data_cols)]
            carried += [f"s.{r.column}" for r in spec.refs]
            differs = ["t.sync_digest IS DISTINCT FROM s.digest", "t.archived_at IS NOT NULL"]
            differs += [f"t.{r.column} IS DISTINCT FROM s.{r.column}" for r in spec.refs]
            only_synced, managed = _managed(spec)
            # One hash join finds what changed; the UPDATE then joins on the primary key only.
            cursor.execute(
                f"""
                WITH changed AS MATERIALIZED (
                    SELECT t.id, t.archived_at IS NOT NULL AS was_archived, {", ".join(carried)}
                    FROM {spec.table} t JOIN {source} s ON s.clever_id = t.clever_id
                    WHERE t.district_id = %s{only_synced} AND ({" OR ".join(differs)})
                ), done AS (
                    UPDATE {spec.table} t SET {", ".join(set_cols)},
                        sync_digest = c.digest, archived_at = NULL,
                        last_seen_run_id = %s{_touch(spec)}
                    FROM changed c
                    WHERE t.id = c.id
                    RETURNING c.was_archived
                )
                SELECT count(*) FILTER (WHERE was_archived),
                    count(*) FILTER (WHERE NOT was_archived)
                FROM done
                """,
                [d, *managed, run],
            )
            restored, updated = cursor.fetchone()
            insert_cols = ["clever_id", "district_id", "sync_digest", "last_seen_run_id"]
            insert_cols += data_cols
            select_cols = ["s.clever_id", "%s", "s.digest", "%s"]
            select_cols += [f"s.{_qn(c)}{casts.get(c, '')}" for c in data_cols]
            insert_cols += [r.column for r in spec.refs]
            select_cols += [f"s.{r.column}" for r in spec.refs]
            extra_cols, extra_vals, extra_params = _insert_extras(spec)
            cursor.execute(
                f"""
                INSERT INTO {spec.table} ({", ".join(_qn(c) for c in insert_cols + extra_cols)})
                SELECT {", ".join(select_cols + extra_vals)} FROM {source} s
                WHERE NOT EXISTS (SELECT 1 FROM {spec.table} t WHERE t.clever_id = s.clever_id)
                ON CONFLICT (clever_id) DO NOTHING
                """,
                [d, run, *extra_params],
            )
            created = cursor.rowcount
            if created:
                cursor.execute(f"ANALYZE {spec.table}")
            elsewhere = []
            if self._shared_ids(cursor, spec) < self.staged[spec.name]:
                # Staged records neither in this district nor inserted: another district's rows.
                cursor.execute(
                    f"SELECT s.clever_id FROM {source} s JOIN {spec.table} t "
                    "ON t.clever_id = s.clever_id WHERE t.district_id <> %s LIMIT 1000",
                    [d],
                )
                elsewhere = [row[0] for row in cursor.fetchall()]
                for clever_id in elsewhere:
                    errors.append(spec.other_district(clever_id))
        total = self.staged[spec.name]
        return {
            "created": created,
            "updated": updated,
            "restored": restored,
            "unchanged": max(0, total - created - updated - restored - len(elsewhere)),
        }

    def _shared_ids(self, cursor: Any, spec: EntitySpec) -> int:
        """(clever_id, id) of this district's rows Clever shares in this run: what references
        may use. Returns how many staged records it found (the rest belong to other districts)."""
        ids = _ids(spec.name)
        cursor.execute(f"DROP TABLE IF EXISTS {ids}")
        cursor.execute(
            f"CREATE TEMP TABLE {ids} AS "
            f"SELECT t.clever_id, t.id FROM {spec.table} t "
            f"JOIN {_stage(spec.name)} s ON s.clever_id = t.clever_id "
            "WHERE t.district_id = %s",
            [self.district_id],
        )
        found = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {ids} SELECT t.clever_id, t.id FROM {spec.table} t "
            "WHERE t.clever_id = ANY(%s) AND t.district_id = %s",
            [sorted(self.keep.get(spec.name, ())), self.district_id],
        )
        cursor.execute(f"ANALYZE {ids}")
        return found

    def _resolve_entity_refs(self, cursor: Any, spec: EntitySpec, errors: ErrorSink) -> str:
        resolved = _resolved(spec.name)
        joins, cols, missing = [], [], []
        for i, ref in enumerate(spec.refs):
            alias = f"r{i}"
            joins.append(
                f"LEFT JOIN {_ids(ref.entity)} {alias} ON {alias}.clever_id = s.{ref.column}_cid"
            )
            cols.append(f"{alias}.id AS {ref.column}")
            missing.append((ref, f"s.{ref.column}_cid <> '' AND {alias}.id IS NULL"))
        cursor.execute(f"DROP TABLE IF EXISTS {resolved}")
        cursor.execute(
            f"CREATE TEMP TABLE {resolved} AS SELECT s.*, {', '.join(cols)} "
            f"FROM {_stage(spec.name)} s {' '.join(joins)}"
        )
        for ref, condition in missing:
            cursor.execute(
                f"SELECT s.clever_id, s.{ref.column}_cid FROM {_stage(spec.name)} s "
                f"{joins[spec.refs.index(ref)]} WHERE {condition} LIMIT 1000"
            )
            for clever_id, ref_cid in cursor.fetchall():
                errors.append(spec.unknown_ref(clever_id, ref, ref_cid))
        cursor.execute(f"ANALYZE {resolved}")
        return resolved

    def merge_link(self, spec: LinkSpec, errors: ErrorSink) -> dict[str, int]:
        """Insert, update and restore association rows; unknown ends are skipped and reported."""
        run = self.run_id
        stage, resolved = _stage(spec.name), _resolved(spec.name)
        joins, left_joins, cols, missing = [], [], [], []
        for i, key in enumerate(spec.keys):
            if isinstance(key, str):
                cols.append(f"s.{_qn(key)}")
                continue
            alias = f"k{i}"
            on = f"{alias}.clever_id = s.{key.column}_cid"
            joins.append(f"JOIN {_ids(key.entity)} {alias} ON {on}")
            left_joins.append(f"LEFT JOIN {_ids(key.entity)} {alias} ON {on}")
            cols.append(f"{alias}.id AS {key.column}")
            missing.append((key, alias))
        for i, ref in enumerate(spec.refs):
            alias = f"o{i}"
            joins.append(
                f"LEFT JOIN {_ids(ref.entity)} {alias} ON {alias}.clever_id = s.{ref.column}_cid"
            )
            cols.append(f"{alias}.id AS {ref.column}")
        cols += [f"s.{_qn(c)}" for c in spec.columns]
        with connection.cursor() as cursor:
            _no_nested_loops(cursor)
            cursor.execute(f"DROP TABLE IF EXISTS {resolved}")
            cursor.execute(
                f"CREATE TEMP TABLE {resolved} AS SELECT {', '.join(cols)} "
                f"FROM {stage} s {' '.join(joins)}"
            )
            resolved_count = cursor.rowcount
            if resolved_count < self.staged[spec.name]:
                self._report_unknown_ends(cursor, spec, left_joins, missing, errors)
            cursor.execute(f"ANALYZE {resolved}")
            key_cols = spec.key_columns
            match = " AND ".join(f"t.{_qn(c)} = s.{_qn(c)}" for c in key_cols)
            casts = _casts(spec)
            data = spec.data_columns
            set_cols = [f"{_qn(c)} = c.{_qn(c)}{casts.get(c, '')}" for c in data]
            carried = "".join(f", s.{_qn(c)}" for c in data)
            differs = ["t.archived_at IS NOT NULL"]
            differs += [f"t.{_qn(c)} IS DISTINCT FROM s.{_qn(c)}{casts.get(c, '')}" for c in data]
            cursor.execute(
                f"""
                WITH changed AS MATERIALIZED (
                    SELECT t.id, t.archived_at IS NOT NULL AS was_archived{carried}
                    FROM {spec.table} t JOIN {resolved} s ON {match}
                    WHERE {" OR ".join(differs)}
                ), done AS (
                    UPDATE {spec.table} t SET {", ".join([*set_cols, "archived_at = NULL"])},
                        last_seen_run_id = %s
                    FROM changed c WHERE t.id = c.id
                    RETURNING c.was_archived
                )
                SELECT count(*) FILTER (WHERE was_archived),
                    count(*) FILTER (WHERE NOT was_archived)
                FROM done
                """,
                [run],
            )
            restored, updated = cursor.fetchone()
            insert_cols = [*key_cols, *data]  # new associations carry created_at only
            select_cols = [f"s.{_qn(c)}{casts.get(c, '')}" for c in insert_cols]
            cursor.execute(
                f"""
                INSERT INTO {spec.table}
                    ({", ".join(_qn(c) for c in insert_cols)}, last_seen_run_id, created_at)
                SELECT {", ".join(select_cols)}, %s, now() FROM {resolved} s
                WHERE NOT EXISTS (SELECT 1 FROM {spec.table} t WHERE {match})
                ON CONFLICT ({", ".join(_qn(c) for c in key_cols)}) DO NOTHING
                """,
                [run],
            )
            created = cursor.rowcount
            if created:
                cursor.execute(f"ANALYZE {spec.table}")
        return {
            "created": created,
            "updated": updated,
            "restored": restored,
            "unchanged": max(0, resolved_count - created - updated - restored),
        }

    def _report_unknown_ends(
        self,
        cursor: Any,
        spec: LinkSpec,
        left_joins: list[str],
        missing: list[tuple[Any, str]],
        errors: ErrorSink,
    ) -> None:
        keys = [k for k, _ in missing]
        condition = " OR ".join(f"{alias}.id IS NULL" for _, alias in missing)
        select = ", ".join(
            [f"s.{k.column}_cid" for k in keys] + [f"{alias}.id IS NULL" for _, alias in missing]
        )
        cursor.execute(
            f"SELECT {select} FROM {_stage(spec.name)} s {' '.join(left_joins)} "
            f"WHERE {condition} LIMIT 1000"
        )
        for row in cursor.fetchall():
            cids, absent = list(row[: len(keys)]), row[len(keys) :]
            unknown = [(k, cid) for k, cid, gone in zip(keys, cids, absent, strict=True) if gone]
            errors.append(spec.unknown_ends(cids, unknown))

    # --- archiving --------------------------------------------------------------------------

    def archive(self, keep: dict[str, set[str]]) -> dict[str, int]:
        """Archive this district's rows not staged in this run (sparing ``keep``); counts."""
        d = self.district_id
        counts: dict[str, int] = {}
        with connection.cursor() as cursor:
            for spec in ENTITIES:
                only_synced, managed = _managed(spec)
                cursor.execute(
                    f"""
                    WITH gone AS (
                        UPDATE {spec.table} t SET archived_at = now(){_touch(spec)}
                        WHERE t.district_id = %s AND t.archived_at IS NULL{only_synced}
                          AND NOT (t.clever_id = ANY(%s))
                          AND NOT EXISTS (
                              SELECT 1 FROM {_stage(spec.name)} s WHERE s.clever_id = t.clever_id
                          )
                        RETURNING t.id
                    ), noted AS (INSERT INTO sync_archived SELECT %s, id FROM gone RETURNING 1)
                    SELECT count(*) FROM noted
                    """,
                    [d, *managed, sorted(keep.get(spec.name, ())), spec.name],
                )
                counts[spec.name] = cursor.fetchone()[0]
            for spec in LINKS:
                scope = spec.scope
                match = " AND ".join(f"s.{_qn(c)} = t.{_qn(c)}" for c in spec.key_columns)
                cursor.execute(
                    f"""
                    WITH gone AS (
                        UPDATE {spec.table} t SET archived_at = now()
                        FROM {_ENTITY_TABLE[scope.entity]} p
                        WHERE p.id = t.{scope.column} AND p.district_id = %s
                          AND t.archived_at IS NULL AND NOT (p.clever_id = ANY(%s))
                          AND NOT EXISTS (SELECT 1 FROM {_resolved(spec.name)} s WHERE {match})
                        RETURNING t.id
                    ), noted AS (INSERT INTO sync_archived SELECT %s, id FROM gone RETURNING 1)
                    SELECT count(*) FROM noted
                    """,
                    [d, sorted(keep.get(scope.entity, ())), spec.name],
                )
                counts[spec.name] = cursor.fetchone()[0]
        return counts

    def archived_ids(self) -> dict[str, list[int]]:
        """The ids the last ``archive`` call archived, per type (read before any rollback)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT kind, array_agg(id ORDER BY id) FROM sync_archived GROUP BY kind"
            )
            return {kind: list(ids) for kind, ids in cursor.fetchall()}


def _no_nested_loops(cursor: Any) -> None:
    """Every join here is an equi-join of whole sets: hash or merge joins. A nested loop over a
    table believed empty (a first sync) scans it once per staged row while the same statement
    fills it: quadratic. Scoped to the merge transaction."""
    cursor.execute("SET LOCAL enable_nestloop = off")


def _casts(spec: EntitySpec | LinkSpec) -> dict[str, str]:
    """Staging columns are text; cast those whose target column is not."""
    casts = {}
    for name in spec.columns:
        internal = spec.model._meta.get_field(name).get_internal_type()
        if internal == "DateField":
            casts[name] = "::date"
        elif internal in {"PositiveSmallIntegerField", "IntegerField", "SmallIntegerField"}:
            casts[name] = "::integer"
    return casts


def _touch(spec: EntitySpec) -> str:
    return ", updated_at = now()" if spec.touches_updated_at else ""


def _managed(spec: EntitySpec) -> tuple[str, list[Any]]:
    """The condition (and its parameter) limiting writes to rows the sync manages."""
    if spec.managed is None:
        return "", []
    column, value = spec.managed
    return f" AND t.{_qn(column)} = %s", [value]


def _insert_extras(spec: EntitySpec) -> tuple[list[str], list[str], list[Any]]:
    """Columns a new row needs beyond the synced ones, their SQL and parameters (the spec's
    insert_defaults, insert_prefixed and insert_now)."""
    columns, values, params = [], [], []
    for column, value in spec.insert_defaults.items():
        columns.append(column)
        values.append("%s")
        params.append(value)
    for column, prefix in spec.insert_prefixed.items():
        columns.append(column)
        values.append("%s || s.clever_id")
        params.append(prefix)
    for column in spec.insert_now:
        columns.append(column)
        values.append("now()")
    return columns, values, params
