"""Roster sources: where a district's records come from, as batches of typed records.

The sync engine asks a source for one record type at a time and never sees HTTP or files: a
source yields ``Batch``es of ``clever.records`` types, with the records it could name but not
read (kept as they are, reported by Clever ID). The Clever Data API is the first source; a
district's CSV files are the second (``rostering.csvsource.CsvSource``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from clever import data_api, endpoints, errors, records

logger = logging.getLogger(__name__)


@dataclass
class Batch:
    """Records of one type, read from one place (``where``: "GET /v3.0/users page 3")."""

    where: str
    records: list[Any]
    # (Clever ID, why) of records named but not readable: kept as they are, never archived.
    rejected: list[tuple[str, str]] = field(default_factory=list)
    # (record type, Clever ID, what) of values dropped or repaired in records that were taken.
    notes: records.Notes = field(default_factory=list)
    # Association rows given apart from the records, per type (e.g. "enrollments": CSV files
    # list them in a file of their own), staged as they are.
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)


class RosterSource(Protocol):
    """One district's roster, read record type by record type."""

    def district(self) -> records.DistrictRecord:
        """The district's own record."""
        ...

    def latest_event_id(self) -> str:
        """The newest change the source can replay later ("" when it has no change feed)."""
        ...

    def batches(self, name: str) -> Iterator[Batch]:
        """Every record of type ``name`` ("schools", ..., "sections"), batch by batch."""
        ...


_PATHS = {
    "schools": endpoints.SCHOOLS,
    "terms": endpoints.TERMS,
    "courses": endpoints.COURSES,
    "users": endpoints.USERS,
    "sections": endpoints.SECTIONS,
}


_RECORD_TYPES = {
    "schools": "school",
    "terms": "term",
    "courses": "course",
    "users": "user",
    "sections": "section",
}
Parser = Callable[[Any, str, records.NoteSink], Any]


def record_parsers(roles: tuple[str, ...]) -> dict[str, Parser]:
    """The parser of each record type's raw Clever JSON (users keep only ``roles``)."""
    return {
        "schools": records.parse_school,
        "terms": records.parse_term,
        "courses": records.parse_course,
        "users": lambda raw, where, notes: records.parse_user(raw, where, roles, notes),
        "sections": records.parse_section,
    }


class CleverApiSource:
    """A district's roster from Clever's Data API, with its district-app token."""

    def __init__(
        self, client: data_api.DataApiClient, *, district_id: str, roles: tuple[str, ...]
    ) -> None:
        self.client = client
        self.district_id = district_id
        self.parsers = record_parsers(roles)

    def district(self) -> records.DistrictRecord:
        """GET /v3.0/districts/{id}."""
        return self.client.district(self.district_id)

    def latest_event_id(self) -> str:
        """The newest event id; "" when events are off for the district (403/404)."""
        try:
            return self.client.latest_event_id()
        except errors.CleverUnauthorized:
            raise
        except errors.CleverError as exc:
            # Events are opt-in per district. Not fatal to the full sync: the cursor stays
            # where it was, and events after it are applied (again, idempotently) next time.
            logger.info("Events unavailable for district %s: %s", self.district_id, exc)
            return ""

    def batches(self, name: str) -> Iterator[Batch]:
        """Each page of the type's endpoint, parsed. A record with no id, or of another type,
        fails the page (and the run: nothing is archived); a record of another district is
        refused and reported, and a page of nothing else fails."""
        parse = self.parsers[name]
        record_type = _RECORD_TYPES[name]
        for page in self.client.pages(_PATHS[name]):
            batch = Batch(where=page.where, records=[])
            foreign: list[tuple[str, str]] = []
            owners: set[str] = set()
            for position, raw in enumerate(page.items, start=1):
                other = records.foreign_type(raw, record_type)
                if other:
                    raise errors.CleverMalformedError(
                        f"record {position} is a {other} record, not a {record_type} "
                        f"(id {str(raw.get('id'))[:40]}): the page is not what {_PATHS[name]} "
                        "returns",
                        where=page.where,
                    )
                try:
                    record = parse(raw, page.where, batch.notes)
                except errors.CleverMalformedError as exc:
                    if not exc.clever_id:
                        exc.message = f"record {position}: {exc.message}"
                        raise
                    batch.rejected.append((exc.clever_id, f"{exc} (record not updated)"))
                    continue
                owner = raw.get("district")
                if isinstance(owner, str) and owner and owner != self.district_id:
                    owners.add(owner[:40])
                    foreign.append(
                        (
                            record.id,
                            f"{record_type} {record.id} belongs to district {owner[:40]}, "
                            "not this one; skipped",
                        )
                    )
                    continue
                batch.records.append(record)
            if foreign and not batch.records:
                raise errors.CleverMalformedError(
                    f"every record on the page belongs to another district "
                    f"({', '.join(sorted(owners)[:3])}), not {self.district_id}",
                    where=page.where,
                )
            batch.rejected.extend(foreign)
            yield batch
