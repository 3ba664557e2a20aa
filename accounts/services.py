"""Writes to accounts: find, link or provision the account of someone who logged in with Clever."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts import login_sql
from accounts.models import User
from rostering.models import UserRole

if TYPE_CHECKING:
    from rostering.models import District
    from sso.clever_oauth import CleverRole, CleverUser

logger = logging.getLogger(__name__)


class AccountLinkRefused(Exception):
    """An account made in our app has this person's email, but Clever's email is not trusted.

    We never merge on an unverified email: the person's school must link the accounts.
    """

    def __init__(self, email: str) -> None:
        super().__init__("an unlinked account has this email; its domain is not verified")
        self.email = email


def _email_domain(email: str) -> str:
    return email.rsplit("@", 1)[1].lower() if "@" in email else ""


def _email_domain_verified(email: str) -> bool:
    verified = {d.strip().lower().lstrip("@") for d in settings.CLEVER_VERIFIED_EMAIL_DOMAINS}
    return bool(_email_domain(email)) and _email_domain(email) in verified


def _linkable(district: District) -> Q:
    # Only accounts made in our app, not yet linked to Clever, with no staff powers (a Clever
    # identity must never inherit admin rights), in this district or in none.
    return Q(clever_id=None, is_staff=False, is_superuser=False) & (
        Q(district=None) | Q(district=district)
    )


def _only(candidates: list[User], strategy: str, clever_id: str) -> User | None:
    if len(candidates) > 1:
        logger.warning(
            "account matching: %s matches %d local accounts for Clever user %s; not linking",
            strategy,
            len(candidates),
            clever_id,
        )
        return None
    return candidates[0] if candidates else None


def user_match_local(*, clever_user: CleverUser, district: District) -> User | None:
    """Find an account made in our app for this Clever user, per CLEVER_ACCOUNT_MATCHING."""
    base = User.objects.filter(_linkable(district))
    for strategy in settings.CLEVER_ACCOUNT_MATCHING:
        if strategy == "sis_id":
            sis_ids = {r.sis_id for r in clever_user.roles if r.sis_id}
            if sis_ids:
                found = _only(list(base.filter(sis_id__in=sis_ids)[:2]), strategy, clever_user.id)
                if found:
                    return found
        elif strategy == "district_username":
            names = {r.district_username for r in clever_user.roles if r.district_username}
            if names:
                found = _only(list(base.filter(username__in=names)[:2]), strategy, clever_user.id)
                if found:
                    return found
        elif strategy == "email" and clever_user.email:
            candidates = list(base.filter(email__iexact=clever_user.email)[:2])
            if candidates and not _email_domain_verified(clever_user.email):
                raise AccountLinkRefused(clever_user.email)
            found = _only(candidates, strategy, clever_user.id)
            if found:
                return found
    return None


def _roles_changes(*, user: User, clever_user: CleverUser) -> tuple[list[CleverRole], list[int]]:
    """(roles to write, UserRole ids to archive): only what matching reads is compared."""
    existing = {r.role: r for r in login_sql.roles_of(user_id=user.pk)} if user.pk else {}
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


def _roles_write(*, user: User, stale: list[CleverRole], gone: list[int]) -> None:
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


def _profile_changes(user: User, clever_user: CleverUser, district: District) -> list[str]:
    wanted = {
        "first_name": clever_user.first_name,
        "middle_name": clever_user.middle_name,
        "last_name": clever_user.last_name,
        "email": clever_user.email,
    }
    changed = [name for name, value in wanted.items() if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, wanted[name])
    if user.district_id != district.pk:
        user.district = district
        changed.append("district")
    return changed


def user_from_clever(*, clever_user: CleverUser, district: District, existing: User | None) -> User:
    """Find (``existing``, else a linkable local account) or create the user; refresh their data.

    ``existing`` is the account with this Clever ID, as the caller already looked it up.
    """
    user, linked = existing, False
    if user is None:
        user = user_match_local(clever_user=clever_user, district=district)
        if user is not None:
            user.clever_id = clever_user.id
            linked = True
            logger.info("linking local account %s to Clever user %s", user.pk, clever_user.id)
    if user is None:
        user = User(
            username=f"clever-{clever_user.id}", clever_id=clever_user.id, source=User.Source.CLEVER
        )
        user.set_unusable_password()
        _profile_changes(user, clever_user, district)
        try:
            with transaction.atomic():
                user.save()
                _roles_write(user=user, stale=list(clever_user.roles), gone=[])
            return user
        except IntegrityError:
            # The sync or a parallel login created them a moment ago.
            user = User.objects.get(clever_id=clever_user.id)
    changed = _profile_changes(user, clever_user, district)
    if linked:
        changed.append("clever_id")
    stale, gone = _roles_changes(user=user, clever_user=clever_user)
    # A returning user whose data did not change costs two reads and no transaction.
    if changed or stale or gone:
        with transaction.atomic():
            if changed:
                user.save(update_fields=changed)
            _roles_write(user=user, stale=stale, gone=gone)
    return user
