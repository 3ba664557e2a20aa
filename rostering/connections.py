"""District connections: who shares data with us, from Clever's token list, and their tokens.

Tokens are encrypted at rest (``District.set_token``). A district Clever no longer lists, or whose
token Clever refuses (401), is disconnected and its token forgotten; its data stays until purged.
Each refresh also reads every listed district's own record (``GET /v3.0/districts/{id}``) and
keeps what Clever says of its launch and SIS sync (``district_clever_state_save``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from clever import data_api, errors, records
from rostering.models import District
from rostering.selectors import district_by_clever_id

logger = logging.getLogger(__name__)


@dataclass
class ConnectionsRefreshResult:
    """What a refresh of the token list changed, by district Clever ID."""

    created: list[str] = field(default_factory=list)
    reconnected: list[str] = field(default_factory=list)
    token_changed: list[str] = field(default_factory=list)
    disconnected: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Malformed values in the districts' own records (stored empty), "district <id>: <why>".
    problems: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.reconnected or self.token_changed or self.disconnected)


# The District fields that hold what Clever's district record says (district_clever_state_save).
CLEVER_STATE_FIELDS = (
    "clever_launch_date",
    "clever_state",
    "clever_pause_start",
    "clever_pause_end",
    "clever_last_sync",
    "clever_error",
    "clever_state_checked_at",
)


def _clever_state_apply(district: District, record: records.DistrictRecord) -> None:
    """Copy Clever's district record onto ``district`` (unsaved); malformed values are empty."""
    district.clever_launch_date = record.launch_date
    district.clever_state = record.state
    district.clever_pause_start = record.pause_start
    district.clever_pause_end = record.pause_end
    district.clever_last_sync = record.last_sync
    district.clever_error = record.error
    district.clever_state_checked_at = timezone.now()


def district_clever_state_save(*, district: District, record: records.DistrictRecord) -> None:
    """Store what Clever's district record says (launch date, SIS sync state, pause, last sync,
    error) on ``district``, with when it was read."""
    _clever_state_apply(district, record)
    district.save(update_fields=[*CLEVER_STATE_FIELDS, "updated_at"])


def district_clever_state_refresh(*, district: District) -> bool:
    """GET /v3.0/districts/{id} with the district's token and store what Clever says of it;
    False (and nothing stored) when no token is held or Clever cannot tell us now."""
    if not district.token_ciphertext:
        return False
    token = records.DistrictToken(district_id=district.clever_id, access_token=district.token)
    record = _district_record(token)
    if record is None:
        return False
    district_clever_state_save(district=district, record=record)
    return True


def _district_record(token: records.DistrictToken) -> records.DistrictRecord | None:
    """GET /v3.0/districts/{id} with the district's token; None when Clever cannot tell us now."""
    try:
        with data_api.DataApiClient(token.access_token) as client:
            record = client.district(token.district_id)
    except errors.CleverError as exc:
        logger.warning("Could not read district %s from Clever: %s", token.district_id, exc)
        return None
    for problem in record.problems:
        logger.warning("District %s from Clever: %s", token.district_id, problem)
    return record


def _district_upsert_from_token(
    token: records.DistrictToken, result: ConnectionsRefreshResult, *, read_record: bool
) -> District:
    """Create or update the district a token belongs to, connected, with the token encrypted;
    with ``read_record`` (and always for a new district) store Clever's district record too."""
    now = timezone.now()
    district = District.objects.filter(clever_id=token.district_id).first()
    record = _district_record(token) if read_record or district is None else None
    if record is not None and record.problems:
        result.problems.extend(f"district {record.id}: {p}" for p in record.problems)
    if district is None:
        district = District(
            clever_id=token.district_id,
            name=record.name if record is not None else "",
            status=District.Status.CONNECTED,
            connected_at=now,
        )
        if record is not None:
            _clever_state_apply(district, record)
        district.set_token(token.access_token)
        try:
            with transaction.atomic():
                district.save()
            result.created.append(district.clever_id)
            return district
        except IntegrityError:
            # Created concurrently (two logins at once): update that row instead.
            district = District.objects.get(clever_id=token.district_id)
    if not district.name and record is None:
        record = _district_record(token)
    with transaction.atomic():
        district = District.objects.select_for_update().get(pk=district.pk)
        fields = []
        if district.status != District.Status.CONNECTED:
            district.status = District.Status.CONNECTED
            district.connected_at = now
            district.disconnected_at = None
            fields += ["status", "connected_at", "disconnected_at"]
            result.reconnected.append(district.clever_id)
        if district.token != token.access_token:
            district.set_token(token.access_token)
            fields.append("token_ciphertext")
            if district.clever_id not in result.reconnected:
                result.token_changed.append(district.clever_id)
        if record is not None and record.name and not district.name:
            district.name = record.name
            fields.append("name")
        if not fields:
            result.unchanged.append(district.clever_id)
        if record is not None:
            # What Clever says of the district is kept at every read, connection changed or not.
            _clever_state_apply(district, record)
            fields += CLEVER_STATE_FIELDS
        if fields:
            district.save(update_fields=[*fields, "updated_at"])
    return district


def district_disconnect(*, district: District, reason: str = "") -> District:
    """Mark ``district`` disconnected and forget its token (revoked, or no longer listed)."""
    with transaction.atomic():
        district = District.objects.select_for_update().get(pk=district.pk)
        if district.status != District.Status.DISCONNECTED or district.token_ciphertext:
            district.status = District.Status.DISCONNECTED
            district.disconnected_at = district.disconnected_at or timezone.now()
            district.set_token("")
            district.save(
                update_fields=["status", "disconnected_at", "token_ciphertext", "updated_at"]
            )
            logger.info(
                "District %s disconnected%s", district.clever_id, f": {reason}" * bool(reason)
            )
    return district


def district_connections_refresh() -> ConnectionsRefreshResult:
    """Read the app's district-token list; create, update and disconnect districts to match it."""
    tokens = data_api.list_district_tokens(
        client_id=settings.CLEVER_CLIENT_ID, client_secret=settings.CLEVER_CLIENT_SECRET
    )
    result = ConnectionsRefreshResult()
    listed = set()
    for token in tokens:
        # One GET per listed district: Clever's launch date and SIS sync state stay current
        # between full syncs.
        _district_upsert_from_token(token, result, read_record=True)
        listed.add(token.district_id)
    # CSV districts are not in Clever's token list: they are never disconnected by it.
    gone = District.objects.filter(
        status=District.Status.CONNECTED, source=District.Source.CLEVER
    ).exclude(clever_id__in=listed)
    for district in gone:
        district_disconnect(district=district, reason="no longer in Clever's token list")
        result.disconnected.append(district.clever_id)
    return result


def district_ensure_connected(*, clever_id: str) -> District | None:
    """A connected District for ``clever_id``, refreshed from Clever's token list when needed."""
    # Every login asks this: the cheap read of the login path.
    district = district_by_clever_id(clever_id=clever_id)
    if (
        district is not None
        and district.status == District.Status.CONNECTED
        and district.token_ciphertext
    ):
        return district
    tokens = data_api.list_district_tokens(
        client_id=settings.CLEVER_CLIENT_ID,
        client_secret=settings.CLEVER_CLIENT_SECRET,
        district_id=clever_id,
    )
    token = next((t for t in tokens if t.district_id == clever_id), None)
    if token is None:
        return None
    # On the login path: read the district's record only when we do not hold it yet.
    return _district_upsert_from_token(token, ConnectionsRefreshResult(), read_record=False)


@dataclass
class ConnectionCheck:
    ok: bool
    message: str


def district_test_connection(*, district: District) -> ConnectionCheck:
    """GET the district's record with its token: is the token valid, the district reachable?"""
    if not district.token_ciphertext:
        return ConnectionCheck(False, "No district-app token is held: refresh connections.")
    try:
        with data_api.DataApiClient(district.token) as client:
            record = client.district(district.clever_id)
    except errors.CleverUnauthorized:
        district_disconnect(district=district, reason="token revoked (401 from Clever)")
        return ConnectionCheck(False, "Clever refused the token (revoked); marked disconnected.")
    except errors.CleverError as exc:
        return ConnectionCheck(False, f"Clever could not be reached: {exc}")
    district_clever_state_save(district=district, record=record)
    launch = f"{record.launch_date:%Y-%m-%d}" if record.launch_date else "none given"
    return ConnectionCheck(
        True,
        f"Token valid; district {record.name or record.id} reachable. Clever's launch date: "
        f"{launch}; its SIS sync state: {record.state or 'none given'}.",
    )
