"""What the sync engine asks of a store, and which store a database gets.

Two stores implement it: ``PostgresStore`` (COPY into temporary tables, set-based SQL) and
``OrmStore`` (the ORM in batches). Both apply the rules declared in ``rostering.sync.specs``, and
the sync test suite runs against each on PostgreSQL, so neither can drift from the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from django.db import connection

from rostering.sync.orm import OrmStore
from rostering.sync.pg import PostgresStore
from rostering.sync.specs import EntitySpec, ErrorSink, LinkSpec


class SyncStore(Protocol):
    """Stages one district's rows, then merges and archives them in the caller's transaction."""

    district_id: int
    run_id: int
    # Rows staged so far, per type name.
    staged: dict[str, int]
    # Clever IDs the source named but could not read, per type: kept as they are.
    keep: dict[str, set[str]]

    def begin(self) -> None: ...
    def stage(self, name: str, rows: Sequence[tuple[Any, ...]]) -> None: ...
    def close(self) -> None: ...
    def live_counts(self) -> dict[str, int]: ...
    def duplicate(self, name: str) -> str: ...
    def merge_entity(self, spec: EntitySpec, errors: ErrorSink) -> dict[str, int]: ...
    def merge_link(self, spec: LinkSpec, errors: ErrorSink) -> dict[str, int]: ...
    def archive(self, keep: dict[str, set[str]]) -> dict[str, int]: ...
    def archived_ids(self) -> dict[str, list[int]]: ...


# Which store each database vendor gets; the tests run the sync suite with each on PostgreSQL.
STORES: dict[str, type[SyncStore]] = {"postgresql": PostgresStore}


def store_for_connection(*, district_id: int, run_id: int) -> SyncStore:
    """The set-based SQL store on PostgreSQL, the portable ORM store elsewhere."""
    store_class = STORES.get(connection.vendor, OrmStore)
    return store_class(district_id=district_id, run_id=run_id)
