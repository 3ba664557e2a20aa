"""Writes to accounts: link accounts made in our app to Clever users (matching), find or
provision the account of someone who logged in with Clever, import accounts made before Clever."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import matching
from accounts.models import AccountLink, Mirrored, User, clever_username, display_name
from accounts.selectors import link_candidates, refused_pairs

if TYPE_CHECKING:
    from clever.records import UserRecord as CleverUser

logger = logging.getLogger(__name__)


def claim_of(clever_user: CleverUser) -> matching.Claim:
    """What this Clever user offers to be matched on (their roles' SIS ids and usernames)."""
    return matching.Claim(
        clever_id=clever_user.id,
        name=display_name(clever_user.first_name, clever_user.last_name),
        sis_ids=frozenset(r.sis_id for r in clever_user.roles if r.sis_id),
        district_usernames=frozenset(
            r.district_username for r in clever_user.roles if r.district_username
        ),
        email=clever_user.email,
    )


def _match(claims: list[matching.Claim], index: matching.CandidateIndex) -> matching.Matching:
    return matching.match(
        claims,
        index,
        rules=matching.rules_in_order(settings.CLEVER_ACCOUNT_MATCHING),
        domains=matching.verified_domains(settings.CLEVER_VERIFIED_EMAIL_DOMAINS),
        refused=refused_pairs(clever_ids=[c.clever_id for c in claims]),
    )


def user_match_local(*, clever_user: CleverUser, district_id: int) -> User | None:
    """Find an account made in our app for this Clever user, per CLEVER_ACCOUNT_MATCHING; the
    account found carries the rule that found it in ``matched_by`` (not saved here)."""
    claim = claim_of(clever_user)
    index = matching.CandidateIndex(link_candidates(district_id=district_id, claims=[claim]))
    if not index:
        return None
    result = _match([claim], index)
    for doubt in result.doubts:
        logger.warning(
            "account matching: Clever user %s not linked (%s)", claim.clever_id, doubt.kind
        )
    if not result.links:
        return None
    link = result.links[0]
    user = User.objects.get(pk=link.pk)
    user.matched_by = link.rule
    return user


def users_match_local(
    *,
    claims: list[matching.Claim],
    district_id: int,
    run_id: int | None,
    index: matching.CandidateIndex | None = None,
) -> matching.Matching:
    """Link the accounts made in our app that these Clever users match (the sync's and the
    events' step before they create accounts): each linked account takes the Clever ID and
    becomes Clever-managed, so the merge that follows updates it like any other. ``index``: the
    candidates, when the caller has read them all. Returns what was linked and what not."""
    known = set(
        User.objects.filter(clever_id__in=[c.clever_id for c in claims]).values_list(
            "clever_id", flat=True
        )
    )
    claims = [c for c in claims if c.clever_id not in known]
    if not claims:
        return matching.Matching()
    if index is None:
        index = matching.CandidateIndex(link_candidates(district_id=district_id, claims=claims))
    result = _match(claims, index)
    users = User.objects.in_bulk([link.pk for link in result.links])
    for link in result.links:
        _link(
            users[link.pk],
            clever_id=link.clever_id,
            rule=link.rule,
            district_id=district_id,
            reason=f"sync run #{run_id}" if run_id else "",
        )
    return result


def _link(
    user: User,
    *,
    clever_id: str,
    rule: str,
    district_id: int,
    reason: str = "",
    actor: User | None = None,
    merged_from: User | None = None,
) -> bool:
    """Give ``user`` (made in our app) this Clever ID: Clever-managed from now on, its synced
    fields written by the next merge (an empty digest differs from any). False when it was linked
    meanwhile, or another account took the Clever ID (a parallel login or sync)."""
    values = {
        "clever_id": clever_id,
        "source": User.Source.CLEVER,
        "district_id": district_id,
        "matched_by": rule,
        "sync_digest": "",
    }
    try:
        with transaction.atomic():
            done = User.objects.filter(pk=user.pk, clever_id=None, source=User.Source.LOCAL).update(
                **values
            )
            if done:
                AccountLink.objects.create(
                    user=user,
                    clever_id=clever_id,
                    action=AccountLink.Action.LINKED,
                    rule=rule,
                    reason=reason,
                    actor=actor,
                    merged_from=merged_from,
                )
    except IntegrityError:
        return False
    if done:
        for name, value in values.items():
            setattr(user, name, value)
        logger.info("linked account %s to Clever user %s by %s", user.pk, clever_id, rule)
    return bool(done)


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
    user = existing
    if user is None:
        found = user_match_local(clever_user=clever_user, district_id=district_id)
        if found is not None and _link(
            found,
            clever_id=clever_user.id,
            rule=found.matched_by,
            district_id=district_id,
            reason="at their first Clever login",
        ):
            user = found
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
    # A returning user whose data did not change costs no query here.
    if changed:
        user.save(update_fields=changed)
    return user


class LinkRefused(Exception):
    """A link or unlink ops asked for that must not happen; the message says why."""


def _move_related(source: User, target: User) -> None:
    """Point everything tied to ``source`` at ``target`` (roster rows, login records, ...), by
    the model's own relations so no app needs naming here. A row whose twin ``target`` already
    has (a unique key) stays on ``source``."""
    for rel in User._meta.related_objects:
        if rel.many_to_many or rel.related_model is AccountLink or not rel.field.concrete:
            continue
        rows = rel.related_model._base_manager.filter(**{rel.field.name: source})
        try:
            with transaction.atomic():
                rows.update(**{rel.field.name: target})
        except IntegrityError:
            for pk in rows.values_list("pk", flat=True):
                try:
                    with transaction.atomic():
                        rel.related_model._base_manager.filter(pk=pk).update(
                            **{rel.field.name: target}
                        )
                except IntegrityError:
                    continue


def user_link_by_hand(*, user: User, clever_id: str, reason: str, actor: User | None) -> User:
    """Link ``user`` (made in our app) to the Clever user with this ID, as ops decided: the
    account the sync or a login made for that Clever user is merged into it (its roster rows and
    logins move over; it is archived and deactivated, never deleted), and ``user`` is
    Clever-managed from now on, keeping its primary key, username and password."""
    reason = reason.strip()
    if not reason:
        raise LinkRefused("say why (the reason is recorded)")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.clever_id or user.source != User.Source.LOCAL:
            raise LinkRefused(f"{user.username} is already a Clever account")
        if user.is_staff or user.is_superuser:
            raise LinkRefused(f"{user.username} is a staff account: never linked to Clever")
        made = User.objects.select_for_update().filter(clever_id=clever_id).first()
        if made is None:
            raise LinkRefused(f"no Clever user {clever_id} has been synced yet")
        if made.matched_by:
            raise LinkRefused(f"Clever user {clever_id} is already linked to {made.username}")
        if user.district_id not in (None, made.district_id):
            raise LinkRefused(f"{user.username} belongs to another district")
        _move_related(made, user)
        synced = {
            name: getattr(made, name)
            for name in ("first_name", "last_name", "middle_name", "email", "archived_at")
        }
        made.clever_id = None
        made.username = f"merged-{made.pk}-into-{user.pk}"[:150]
        made.is_active = False
        made.archived_at = made.archived_at or timezone.now()
        made.save(update_fields=["clever_id", "username", "is_active", "archived_at"])
        if not _link(
            user,
            clever_id=clever_id,
            rule=matching.MANUAL,
            district_id=made.district_id,
            reason=reason,
            actor=actor,
            merged_from=made,
        ):
            raise LinkRefused(f"{user.username} was linked meanwhile")
        for name, value in synced.items():
            setattr(user, name, value)
        user.last_seen_run_id = made.last_seen_run_id
        user.save(update_fields=[*synced, "last_seen_run"])
    return user


def user_unlink_by_hand(*, user: User, reason: str, actor: User | None) -> User:
    """Undo a link (by a rule or by hand): ``user`` goes back to an account of our app, its
    roster rows are archived, matching never proposes this pair again, and the next sync makes
    the Clever user an account of their own."""
    reason = reason.strip()
    if not reason:
        raise LinkRefused("say why (the reason is recorded)")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.clever_id or not user.matched_by:
            raise LinkRefused(f"{user.username} was not linked from an account of ours")
        clever_id = user.clever_id
        now = timezone.now()
        for rel in User._meta.related_objects:
            if issubclass(rel.related_model, Mirrored) and not rel.many_to_many:
                rel.related_model._base_manager.filter(
                    **{rel.field.name: user, "archived_at": None}
                ).update(archived_at=now)
        user.clever_id = None
        user.source = User.Source.LOCAL
        user.matched_by = ""
        user.sync_digest = ""
        user.save(update_fields=["clever_id", "source", "matched_by", "sync_digest"])
        AccountLink.objects.create(
            user=user,
            clever_id=clever_id,
            action=AccountLink.Action.UNLINKED,
            rule=matching.MANUAL,
            reason=reason,
            actor=actor,
        )
    logger.info("unlinked account %s from Clever user %s", user.pk, clever_id)
    return user


IMPORT_COLUMNS = ("username", "email", "first_name", "last_name", "sis_id", "district_username")


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # "line N: what is wrong"; when any, nothing was written.
    errors: list[str] = field(default_factory=list)


def accounts_import(*, lines: Iterable[str], district_id: int | None) -> ImportResult:
    """Create or update accounts made before Clever (idempotent by username) from CSV text with
    a header of ``IMPORT_COLUMNS`` (any order; only ``username`` required), so Clever users can
    be matched to them. Every line is checked first: with any error, nothing is written."""
    result = ImportResult()
    reader = csv.DictReader(lines)
    header = [h.strip() for h in (reader.fieldnames or [])]
    unknown = [h for h in header if h not in IMPORT_COLUMNS]
    if "username" not in header or unknown:
        what = f"unknown columns {', '.join(unknown)}" if unknown else "no username column"
        result.errors.append(
            f"line 1: the header must name columns among {','.join(IMPORT_COLUMNS)} ({what})"
        )
        return result
    reader.fieldnames = header
    wanted: dict[str, tuple[int, dict[str, str]]] = {}
    for row in reader:
        line = reader.line_num
        if None in row:
            result.errors.append(f"line {line}: more values than the header has columns")
            continue
        values = {k: (v or "").strip() for k, v in row.items()}
        username = values.pop("username")
        if not username:
            result.errors.append(f"line {line}: username is empty")
        elif username in wanted:
            result.errors.append(
                f"line {line}: username {username} is already on line {wanted[username][0]}"
            )
        elif values.get("email") and "@" not in values["email"]:
            result.errors.append(f"line {line}: email {values['email']!r} has no @")
        else:
            wanted[username] = (line, values)
    existing = User.objects.in_bulk(list(wanted), field_name="username")
    for username, (line, _) in wanted.items():
        user = existing.get(username)
        if user is None:
            continue
        if user.clever_id or user.source != User.Source.LOCAL:
            result.errors.append(f"line {line}: {username} is a Clever account; not changed")
        elif user.is_staff or user.is_superuser:
            result.errors.append(f"line {line}: {username} is a staff account; not changed")
        elif district_id and user.district_id not in (None, district_id):
            result.errors.append(f"line {line}: {username} belongs to another district")
    if result.errors:
        return result
    with transaction.atomic():
        for username, (_, values) in wanted.items():
            user = existing.get(username)
            if user is None:
                user = User(username=username, source=User.Source.LOCAL, district_id=district_id)
                user.set_unusable_password()
                for name, value in values.items():
                    setattr(user, name, value)
                user.save()
                result.created += 1
                continue
            changed = [n for n, v in values.items() if getattr(user, n) != v]
            if district_id and user.district_id != district_id:
                user.district_id = district_id
                changed.append("district")
            for name in changed:
                if name != "district":
                    setattr(user, name, values[name])
            if changed:
                user.save(update_fields=changed)
                result.updated += 1
            else:
                result.unchanged += 1
    return result
