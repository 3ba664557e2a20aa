"""District connections: who shares data with us, from Clever's token list, and their tokens.

Tokens are encrypted at rest (``District.set_token``). A district Clever no longer lists, or whose
token Clever refuses (401), is disconnected and its token forgotten; its data stays until purged.
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

    @property
    def changed(self) -> bool:
        return bool(self.created or self.reconnected or self.token_changed or self.disconnected)


def _district_name(token: records.DistrictToken) -> str:
    """The district's name from /v3.0/districts/{id}; "" when Clever cannot tell us now."""
    try:
        with data_api.DataApiClient(token.access_token) as client:
            return client.district(token.district_id).name
    except errors.CleverError as exc:
        logger.warning("Could not read the name of district %s: %s", token.district_id, exc)
        return ""


def _district_upsert_from_token(
    token: records.DistrictToken, result: ConnectionsRefreshResult
) -> District:
    """Create or update the district a token belongs to, connected, with the token encrypted."""
    now = timezone.now()
    district = District.objects.filter(clever_id=token.district_id).first()
    if district is None:
        name = _district_name(token)
        district = District(
            clever_id=token.district_id,
            name=name,
            status=District.Status.CONNECTED,
            connected_at=now,
        )
        district.set_token(token.access_token)
        try:
            with transaction.atomic():
                district.save()
            result.created.append(district.clever_id)
            return district
        except IntegrityError:
            # Created concurrently (two logins at once): update that row instead.
            district = District.objects.get(clever_id=token.district_id)
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
        if not district.name:
            name = _district_name(token)
            if name:
                district.name = name
                fields.append("name")
        if fields:
            district.save(update_fields=[*fields, "updated_at"])
        else:
            result.unchanged.append(district.clever_id)
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
        _district_upsert_from_token(token, result)
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
    return _district_upsert_from_token(token, ConnectionsRefreshResult())


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
    return ConnectionCheck(True, f"Token valid; district {record.name or record.id} reachable.")
