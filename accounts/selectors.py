"""Named reads of accounts."""

from __future__ import annotations

from django.db.models import Q

from accounts import login_sql, matching
from accounts.models import AccountLink, User


def user_by_clever_id(*, clever_id: str) -> User | None:
    """The account keyed by this Clever ID (made by the sync or an earlier login), if any."""
    return login_sql.user_by_clever_id(clever_id=clever_id)


def _linkable(district_id: int) -> Q:
    # Active accounts made in our app (not the sync's or a login's), not linked to Clever, with
    # no staff powers (a Clever identity must never inherit admin rights), in this district or
    # in none.
    return Q(
        clever_id=None, source=User.Source.LOCAL, is_active=True, is_staff=False, is_superuser=False
    ) & (Q(district=None) | Q(district_id=district_id))


def _candidate_query(claim: matching.Claim) -> Q:
    q = Q(pk__in=[])
    if claim.sis_ids:
        q |= Q(sis_id__in=claim.sis_ids)
    if claim.district_usernames:
        q |= Q(district_username__in=claim.district_usernames)
        q |= Q(district_username="", username__in=claim.district_usernames)
    if claim.email.strip():
        q |= Q(email__iexact=claim.email.strip())
    return q


def link_candidates(
    *, district_id: int, claims: list[matching.Claim] | None = None
) -> list[matching.Candidate]:
    """Accounts made in our app that a Clever user of this district may be linked to; with
    ``claims``, only those sharing one of their values."""
    query = User.objects.filter(_linkable(district_id))
    if claims is not None:
        wanted = Q(pk__in=[])
        for claim in claims:
            wanted |= _candidate_query(claim)
        query = query.filter(wanted)
    return [
        matching.Candidate(*row)
        for row in query.order_by("pk").values_list(
            "pk", "username", "sis_id", "district_username", "email"
        )
    ]


def linkable_exist(*, district_id: int) -> bool:
    """Whether any account could be linked to a Clever user of this district (the sync skips
    matching when none could: one cheap query)."""
    return User.objects.filter(_linkable(district_id)).exists()


def refused_pairs(*, clever_ids: list[str]) -> frozenset[tuple[int, str]]:
    """(account pk, Clever ID) pairs ops unlinked by hand: matching never proposes them again."""
    rows = AccountLink.objects.filter(
        clever_id__in=clever_ids, action=AccountLink.Action.UNLINKED
    ).values_list("user_id", "clever_id")
    return frozenset(rows)


def unassigned_local_accounts() -> list[User]:
    """Linkable accounts in no district: matched against every district's Clever users."""
    return list(User.objects.filter(_linkable(0), district=None).order_by("username"))
