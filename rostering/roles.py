"""Writes to a person's roles from what Clever reports at their login (the sync writes the rest)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from rostering.models import UserRole
from rostering.selectors import roles_of

if TYPE_CHECKING:
    from accounts.models import User
    from clever.records import RoleRecord, UserRecord


def _roles_changes(*, user: User, clever_user: UserRecord) -> tuple[list[RoleRecord], list[int]]:
    """(roles to write, UserRole ids to archive): only what matching reads is compared."""
    existing = {r.role: r for r in roles_of(user_id=user.pk)} if user.pk else {}
    stale = [
        role
        for role in clever_user.roles
        if role.role not in existing
        or existing[role.role].archived_at is not None
        or existing[role.role].sis_id != role.sis_id
        or existing[role.role].district_username != role.district_username
    ]
    wanted = {r.role for r in clever_user.roles}
    gone = [r.pk for name, r in existing.items() if name not in wanted and r.archived_at is None]
    return stale, gone


def _roles_write(*, user: User, stale: list[RoleRecord], gone: list[int]) -> None:
    # The sync owns the rest of each role (schools, numbers, grades).
    for role in stale:
        UserRole.objects.update_or_create(
            user=user,
            role=role.role,
            defaults={
                "sis_id": role.sis_id,
                "district_username": role.district_username,
                "archived_at": None,
            },
        )
    if gone:
        UserRole.objects.filter(pk__in=gone).update(archived_at=timezone.now())


def user_roles_refresh(*, user: User, clever_user: UserRecord) -> None:
    """Write the roles Clever reported at login (sis_id, district username; archived ones come
    back) and archive the user's roles it no longer reports, in one transaction."""
    stale, gone = _roles_changes(user=user, clever_user=clever_user)
    # A returning user whose roles did not change costs one read and no transaction.
    if stale or gone:
        with transaction.atomic():
            _roles_write(user=user, stale=stale, gone=gone)
