"""Writes to accounts: find, link or provision the account of someone who logged in with Clever."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from accounts.models import User, clever_username

if TYPE_CHECKING:
    from clever.records import UserRecord as CleverUser

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


def _linkable(district_id: int) -> Q:
    # Only accounts made in our app, not yet linked to Clever, with no staff powers (a Clever
    # identity must never inherit admin rights), in this district or in none.
    return Q(clever_id=None, is_staff=False, is_superuser=False) & (
        Q(district=None) | Q(district_id=district_id)
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


def user_match_local(*, clever_user: CleverUser, district_id: int) -> User | None:
    """Find an account made in our app for this Clever user, per CLEVER_ACCOUNT_MATCHING; the
    account found carries the rule that found it in ``matched_by`` (not saved here)."""
    base = User.objects.filter(_linkable(district_id))
    for strategy in settings.CLEVER_ACCOUNT_MATCHING:
        if strategy == "sis_id":
            sis_ids = {r.sis_id for r in clever_user.roles if r.sis_id}
            if sis_ids:
                found = _only(list(base.filter(sis_id__in=sis_ids)[:2]), strategy, clever_user.id)
                if found:
                    found.matched_by = strategy
                    return found
        elif strategy == "district_username":
            names = {r.district_username for r in clever_user.roles if r.district_username}
            if names:
                found = _only(list(base.filter(username__in=names)[:2]), strategy, clever_user.id)
                if found:
                    found.matched_by = strategy
                    return found
        elif strategy == "email" and clever_user.email:
            candidates = list(base.filter(email__iexact=clever_user.email)[:2])
            if candidates and not _email_domain_verified(clever_user.email):
                raise AccountLinkRefused(clever_user.email)
            found = _only(candidates, strategy, clever_user.id)
            if found:
                found.matched_by = strategy
                return found
    return None


def _profile_changes(user: User, clever_user: CleverUser, district_id: int) -> list[str]:
    wanted = {
        "first_name": clever_user.first_name,
        "middle_name": clever_user.middle_name,
        "last_name": clever_user.last_name,
        "email": clever_user.email,
    }
    changed = [name for name, value in wanted.items() if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, wanted[name])
    if user.district_id != district_id:
        user.district_id = district_id
        changed.append("district")
    return changed


def user_from_clever(*, clever_user: CleverUser, district_id: int, existing: User | None) -> User:
    """Find (``existing``, else a linkable local account) or create the user; refresh their name,
    email and district.

    ``existing`` is the account with this Clever ID, as the caller already looked it up. Their roles
    are the roster's: the caller refreshes them next (``rostering.roles.user_roles_refresh``).
    """
    user, linked = existing, False
    if user is None:
        user = user_match_local(clever_user=clever_user, district_id=district_id)
        if user is not None:
            user.clever_id = clever_user.id
            linked = True
            logger.info("linking local account %s to Clever user %s", user.pk, clever_user.id)
    if user is None:
        user = User(
            username=clever_username(clever_user.id),
            clever_id=clever_user.id,
            source=User.Source.CLEVER,
        )
        user.set_unusable_password()
        _profile_changes(user, clever_user, district_id)
        try:
            with transaction.atomic():
                user.save()
            return user
        except IntegrityError:
            # The sync or a parallel login created them a moment ago.
            user = User.objects.get(clever_id=clever_user.id)
    changed = _profile_changes(user, clever_user, district_id)
    if linked:
        changed += ["clever_id", "matched_by"]
    # A returning user whose data did not change costs no query here.
    if changed:
        user.save(update_fields=changed)
    return user
