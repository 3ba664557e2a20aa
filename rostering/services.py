"""Services that write roster state: district connections, syncs, reviews, events, purges."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from accounts import login_sql
from rostering import clever_api
from rostering.models import District, SyncError, SyncRun
from rostering.sync.engine import Progress, Sync, district_lock

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)


# --- District connections -----------------------------------------------------------------------


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


def _district_name(token: clever_api.DistrictToken) -> str:
    """The district's name from /v3.0/districts/{id}; "" when Clever cannot tell us now."""
    try:
        with clever_api.CleverClient(token.access_token) as client:
            return client.district(token.district_id).name
    except clever_api.CleverError as exc:
        logger.warning("Could not read the name of district %s: %s", token.district_id, exc)
        return ""


def _district_upsert_from_token(
    token: clever_api.DistrictToken, result: ConnectionsRefreshResult
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
    tokens = clever_api.list_district_tokens(
        client_id=settings.CLEVER_CLIENT_ID, client_secret=settings.CLEVER_CLIENT_SECRET
    )
    result = ConnectionsRefreshResult()
    listed = set()
    for token in tokens:
        _district_upsert_from_token(token, result)
        listed.add(token.district_id)
    gone = District.objects.filter(status=District.Status.CONNECTED).exclude(clever_id__in=listed)
    for district in gone:
        district_disconnect(district=district, reason="no longer in Clever's token list")
        result.disconnected.append(district.clever_id)
    return result


def district_ensure_connected(*, clever_id: str) -> District | None:
    """A connected District for ``clever_id``, refreshed from Clever's token list when needed."""
    # Every login asks this: the cheap read of the login path.
    district = login_sql.district_by_clever_id(clever_id=clever_id)
    if (
        district is not None
        and district.status == District.Status.CONNECTED
        and district.token_ciphertext
    ):
        return district
    tokens = clever_api.list_district_tokens(
        client_id=settings.CLEVER_CLIENT_ID,
        client_secret=settings.CLEVER_CLIENT_SECRET,
        district_id=clever_id,
    )
    token = next((t for t in tokens if t.district_id == clever_id), None)
    if token is None:
        return None
    return _district_upsert_from_token(token, ConnectionsRefreshResult())


# --- Syncs --------------------------------------------------------------------------------------


def district_sync(
    *,
    district: District,
    trigger: str = SyncRun.Trigger.MANUAL,
    dry_run: bool = False,
    requested_by: User | None = None,
    progress: Progress | None = None,
) -> SyncRun:
    """Run one full sync of ``district`` and record it as a SyncRun (skipped if one is running).

    Never raises for Clever's failures: the run says where it stopped and why. ``run.retryable``
    (not stored) tells a task whether trying again later may help.
    """
    run = SyncRun.objects.create(
        district=district, trigger=trigger, dry_run=dry_run, requested_by=requested_by
    )
    sync = Sync(run, progress=progress)
    try:
        run = sync.execute()
    except Exception as exc:
        logger.exception("Sync run %s of district %s crashed", run.pk, district.clever_id)
        SyncRun.objects.filter(pk=run.pk).update(
            status=SyncRun.Status.FAILED,
            finished_at=timezone.now(),
            error=f"Internal error: {exc.__class__.__name__}: {exc}"[:2000],
        )
        raise
    run.retryable = sync.retryable  # type: ignore[attr-defined]
    return run


def _models_by_name() -> dict[str, type[models.Model]]:
    from rostering.sync.specs import SPEC_BY_NAME

    return {name: spec.model for name, spec in SPEC_BY_NAME.items()}


def sync_run_approve(*, run: SyncRun, user: User | None) -> SyncRun:
    """Apply the archives a needs_review run held back, and mark it succeeded."""
    if run.status != SyncRun.Status.NEEDS_REVIEW:
        raise ValueError(f"Run #{run.pk} is {run.status}, not needing review.")
    newer = (
        SyncRun.objects.filter(district_id=run.district_id, created_at__gt=run.created_at)
        .exclude(status__in=[SyncRun.Status.SKIPPED, SyncRun.Status.DISCARDED])
        .exclude(dry_run=True)
        .exists()
    )
    if newer:
        raise ValueError(
            f"Run #{run.pk} is out of date: a newer sync of this district ran since. "
            "Discard it and review the newest run instead."
        )
    now = timezone.now()
    by_name = _models_by_name()
    with district_lock(run.district_id) as taken:
        if not taken:
            raise ValueError("A sync of this district is running; approve again when it ends.")
        with transaction.atomic():
            run = SyncRun.objects.select_for_update().get(pk=run.pk)
            counts = dict(run.counts)
            for name, entry in (run.plan.get("archive") or {}).items():
                model = by_name[name]
                ids = list(entry.get("ids") or [])
                extra = {"updated_at": now} if hasattr(model, "updated_at") else {}
                done = 0
                for start in range(0, len(ids), 500):
                    done += model.objects.filter(
                        pk__in=ids[start : start + 500], archived_at__isnull=True
                    ).update(archived_at=now, **extra)
                counts.setdefault(name, {})["archived"] = done
            last_event = run.plan.get("last_event_id") or ""
            if last_event:
                District.objects.filter(pk=run.district_id).update(last_event_id=last_event)
            run.counts = counts
            run.status = SyncRun.Status.SUCCEEDED
            run.reviewed_by, run.reviewed_at = user, now
            run.save(update_fields=["counts", "status", "reviewed_by", "reviewed_at"])
    return run


def sync_run_discard(*, run: SyncRun, user: User | None) -> SyncRun:
    """Drop the archives a needs_review run held back; nothing is archived."""
    if run.status != SyncRun.Status.NEEDS_REVIEW:
        raise ValueError(f"Run #{run.pk} is {run.status}, not needing review.")
    run.status = SyncRun.Status.DISCARDED
    run.reviewed_by, run.reviewed_at = user, timezone.now()
    run.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return run


@dataclass
class ConnectionCheck:
    ok: bool
    message: str


def district_test_connection(*, district: District) -> ConnectionCheck:
    """GET the district's record with its token: is the token valid, the district reachable?"""
    if not district.token_ciphertext:
        return ConnectionCheck(False, "No district-app token is held: refresh connections.")
    try:
        with clever_api.CleverClient(district.token) as client:
            record = client.district(district.clever_id)
    except clever_api.CleverUnauthorized:
        district_disconnect(district=district, reason="token revoked (401 from Clever)")
        return ConnectionCheck(False, "Clever refused the token (revoked); marked disconnected.")
    except clever_api.CleverError as exc:
        return ConnectionCheck(False, f"Clever could not be reached: {exc}")
    return ConnectionCheck(True, f"Token valid; district {record.name or record.id} reachable.")


def district_purge(*, district: District) -> dict[str, int]:
    """Delete everything held for a disconnected district (its data-privacy right); counts."""
    if district.status != District.Status.DISCONNECTED:
        raise ValueError(
            f"District {district.clever_id} is still connected: only disconnected districts "
            "can be purged."
        )
    from accounts.models import User as UserModel
    from rostering.sync.specs import ENTITIES, LINKS

    deleted: dict[str, int] = {}
    with transaction.atomic():
        for spec in reversed(LINKS):
            scope = {f"{spec.scope.column[:-3]}__district": district}
            deleted[spec.name] = spec.model.objects.filter(**scope).delete()[0]
        for spec in reversed(ENTITIES):
            qs = spec.model.objects.filter(district=district)
            if spec.model is UserModel:
                # Accounts created in our app stay; they only lose the district link.
                qs.exclude(source=UserModel.Source.CLEVER).update(district=None)
                qs = qs.filter(source=UserModel.Source.CLEVER)
            deleted[spec.name] = qs.delete()[0]
        deleted["sync_runs"] = district.sync_runs.all().delete()[0]
        district.delete()
    return deleted


def district_events_apply(*, district: District, progress: Progress | None = None) -> SyncRun:
    """Apply the district's new Clever events in order (trigger "event"), recorded as a run."""
    from rostering.sync.events import apply_events

    run = SyncRun.objects.create(district=district, trigger=SyncRun.Trigger.EVENT)
    errors: list[tuple[str, str, str]] = []
    with district_lock(district.pk) as taken:
        if not taken:
            run.status, run.finished_at = SyncRun.Status.SKIPPED, timezone.now()
            run.error = "Skipped: another sync of this district is running."
            run.save()
            return run
        run.status, run.started_at = SyncRun.Status.RUNNING, timezone.now()
        run.save(update_fields=["status", "started_at"])
        if district.status != District.Status.CONNECTED or not district.token_ciphertext:
            run.status, run.error = SyncRun.Status.FAILED, "The district is not connected."
        else:
            try:
                with clever_api.CleverClient(district.token) as client:
                    run.counts = apply_events(
                        district=district,
                        run=run,
                        client=client,
                        errors=errors,
                        progress=progress or (lambda message: None),
                    )
                run.status = SyncRun.Status.SUCCEEDED
            except clever_api.CleverUnauthorized as exc:
                district_disconnect(district=district, reason="token revoked (401 from Clever)")
                run.status, run.stopped_at = SyncRun.Status.FAILED, exc.where
                run.error = f"Clever refused the district's token (revoked?): {exc.message}."
            except clever_api.CleverError as exc:
                run.status, run.stopped_at = SyncRun.Status.FAILED, exc.where
                run.error = (
                    f"{exc.message}. Events before it were applied; the next run resumes "
                    f"after event {district.last_event_id or '(none)'}."
                )
        run.counts.setdefault("errors", {"count": len(errors)})
        run.finished_at = timezone.now()
        run.save()
        SyncError.objects.bulk_create(
            [SyncError(run=run, record_type=t, clever_id=c, message=m) for t, c, m in errors]
        )
    return run
