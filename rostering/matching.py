"""The matching report of a district (a named read): which accounts made in our app are linked to
Clever users and by which rule, which are left unmatched, and which Clever users could not be
linked (several candidates, one account claimed twice, an unverified email) or could be linked
by hand now (their account made by the sync before ours was imported).

It runs the same rules as the sync and logins (``accounts.matching``) over what the roster holds
now, so it is never stale.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q

from accounts import matching
from accounts.models import AccountLink, User, display_name
from accounts.selectors import link_candidates, refused_pairs
from rostering.models import District, UserRole


@dataclass(frozen=True)
class Linked:
    user: User
    rule: str
    link: AccountLink | None  # the recorded link (None for links made before links were recorded)


@dataclass(frozen=True)
class Unlinked:
    """A Clever user with a candidate account, not linked."""

    clever_user: User  # the account the sync or a login made for them
    candidates: list[User]
    rule: str
    # several_candidates | claimed_twice | unverified_email | ready (one candidate: link by hand)
    kind: str
    message: str


@dataclass
class MatchingReport:
    district: District
    rules: tuple[str, ...]
    verified_domains: frozenset[str]
    linked: list[Linked] = field(default_factory=list)
    unmatched: list[User] = field(default_factory=list)
    several: list[Unlinked] = field(default_factory=list)
    refused_email: list[Unlinked] = field(default_factory=list)
    ready: list[Unlinked] = field(default_factory=list)
    unlinked_by_hand: list[AccountLink] = field(default_factory=list)


def _claims(district: District, candidates: list[matching.Candidate]) -> list[matching.Claim]:
    """Claims of the district's Clever users (accounts made for Clever, not linked ones) that
    share a value with some candidate: three narrow queries, whatever the district's size."""
    sis = {c.sis_id for c in candidates if c.sis_id}
    names = {c.district_username or c.username for c in candidates}
    emails = {c.email.strip().lower() for c in candidates if c.email.strip()}
    roles = UserRole.objects.filter(
        archived_at=None,
        user__district=district,
        user__archived_at=None,
        user__matched_by="",
        user__clever_id__isnull=False,
    )
    user_ids = set(roles.filter(sis_id__in=sis).values_list("user_id", flat=True))
    user_ids |= set(roles.filter(district_username__in=names).values_list("user_id", flat=True))
    if emails:
        email_q = Q()
        for email in emails:
            email_q |= Q(email__iexact=email)
        user_ids |= set(
            User.objects.filter(email_q, district=district, matched_by="", archived_at=None)
            .exclude(clever_id=None)
            .values_list("pk", flat=True)
        )
    values: dict[int, dict[str, set[str]]] = defaultdict(lambda: {"sis": set(), "names": set()})
    for user_id, sis_id, username in UserRole.objects.filter(
        user_id__in=user_ids, archived_at=None
    ).values_list("user_id", "sis_id", "district_username"):
        if sis_id:
            values[user_id]["sis"].add(sis_id)
        if username:
            values[user_id]["names"].add(username)
    return [
        matching.Claim(
            clever_id=u.clever_id,
            name=display_name(u.first_name, u.last_name),
            sis_ids=frozenset(values[u.pk]["sis"]),
            district_usernames=frozenset(values[u.pk]["names"]),
            email=u.email,
        )
        for u in User.objects.filter(pk__in=user_ids).order_by("pk")
    ]


def matching_report(*, district: District) -> MatchingReport:
    """Linked, unmatched and doubtful accounts of ``district``, by the current rules."""
    report = MatchingReport(
        district=district,
        rules=matching.rules_in_order(settings.CLEVER_ACCOUNT_MATCHING),
        verified_domains=matching.verified_domains(settings.CLEVER_VERIFIED_EMAIL_DOMAINS),
    )
    links = {
        link.user_id: link
        for link in AccountLink.objects.filter(
            user__district=district, action=AccountLink.Action.LINKED
        ).order_by("created_at", "pk")
    }
    for user in (
        User.objects.filter(district=district).exclude(matched_by="").exclude(clever_id=None)
    ).order_by("last_name", "first_name", "pk"):
        report.linked.append(Linked(user, user.matched_by, links.get(user.pk)))
    candidates = link_candidates(district_id=district.pk)
    report.unlinked_by_hand = list(
        AccountLink.objects.filter(
            user__district=district, action=AccountLink.Action.UNLINKED
        ).select_related("user", "actor")
    )
    if not candidates:
        return report
    claims = _claims(district, candidates)
    result = matching.match(
        claims,
        matching.CandidateIndex(candidates),
        rules=report.rules,
        domains=report.verified_domains,
        refused=refused_pairs(clever_ids=[c.clever_id for c in claims]),
    )
    users = User.objects.in_bulk([c.pk for c in candidates])
    made = User.objects.in_bulk([c.clever_id for c in claims], field_name="clever_id")
    involved: set[int] = set()
    for doubt in result.doubts:
        involved.update(doubt.pks)
        entry = Unlinked(
            made[doubt.clever_id],
            [users[pk] for pk in doubt.pks],
            doubt.rule,
            doubt.kind,
            doubt.message(),
        )
        (report.refused_email if doubt.kind == "unverified_email" else report.several).append(entry)
    for link in result.links:
        involved.add(link.pk)
        report.ready.append(
            Unlinked(
                made[link.clever_id],
                [users[link.pk]],
                link.rule,
                "ready",
                f"{users[link.pk].username} matches by {link.rule}; the sync made this Clever "
                "user's account before ours was imported: link by hand to merge them",
            )
        )
    # Only this district's own accounts count as "left unmatched" (those in no district may
    # belong to any district).
    report.unmatched = [
        users[c.pk]
        for c in candidates
        if c.pk not in involved and users[c.pk].district_id == district.pk
    ]
    return report
