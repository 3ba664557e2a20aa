"""Matching Clever users to accounts made in our app before their district used Clever.

One rule set, used wherever a Clever user meets our accounts: the nightly sync (before it creates
an account for a Clever user it has never seen) and a Clever login (when no account has the
user's Clever ID). Pure functions over plain values: callers read the candidates and write the
links.

The rules run in ``CLEVER_ACCOUNT_MATCHING`` order, the first that finds anything decides:

- ``sis_id``: a role's SIS id equals the account's ``sis_id``;
- ``district_username``: a role's district username equals the account's ``district_username``
  (or, when that is empty, its ``username``);
- ``email``: the same email, ignoring case, and only when its domain is in
  ``CLEVER_VERIFIED_EMAIL_DOMAINS`` (Clever does not verify emails; an unverified match is
  refused and reported, never linked).

Nothing is linked on doubt: a rule finding two accounts for one Clever user, or one account
found for two Clever users, links neither and is reported. Staff and superuser accounts are never
candidates (a Clever identity must never inherit admin rights); callers exclude them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

# The rules this module knows, beyond "clever_id" (the account already has the Clever ID).
RULES = ("sis_id", "district_username", "email")
MANUAL = "manual"  # matched_by of an account ops linked by hand


@dataclass(frozen=True, slots=True)
class Claim:
    """What a Clever user offers to be matched on."""

    clever_id: str
    name: str
    sis_ids: frozenset[str] = frozenset()
    district_usernames: frozenset[str] = frozenset()
    email: str = ""


@dataclass(frozen=True, slots=True)
class Candidate:
    """An account made in our app that a Clever user could be linked to."""

    pk: int
    username: str
    sis_id: str = ""
    district_username: str = ""
    email: str = ""


@dataclass(frozen=True, slots=True)
class Link:
    clever_id: str
    pk: int
    rule: str


@dataclass(frozen=True, slots=True)
class Doubt:
    """A Clever user not linked: why, and the accounts involved."""

    clever_id: str
    name: str
    rule: str
    # several_candidates | claimed_twice | unverified_email
    kind: str
    pks: tuple[int, ...]

    def message(self) -> str:
        """The words ops read (the run's errors, the matching report)."""
        accounts = ", ".join(f"#{pk}" for pk in self.pks)
        if self.kind == "several_candidates":
            return (
                f"{self.name or self.clever_id}: {len(self.pks)} accounts match by {self.rule} "
                f"({accounts}); none linked"
            )
        if self.kind == "claimed_twice":
            return (
                f"{self.name or self.clever_id}: account {accounts} matches by {self.rule}, and "
                "so does another Clever user; none linked"
            )
        return (
            f"{self.name or self.clever_id}: account {accounts} has the same email, but its "
            "domain is not in CLEVER_VERIFIED_EMAIL_DOMAINS; not linked"
        )


@dataclass
class Matching:
    links: list[Link] = field(default_factory=list)
    doubts: list[Doubt] = field(default_factory=list)


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[1].strip().lower() if "@" in email else ""


def verified_domains(configured: Iterable[str]) -> frozenset[str]:
    """CLEVER_VERIFIED_EMAIL_DOMAINS as compared: lower case, without a leading "@"."""
    return frozenset(d.strip().lower().lstrip("@") for d in configured if d.strip())


def rules_in_order(configured: Iterable[str]) -> tuple[str, ...]:
    """CLEVER_ACCOUNT_MATCHING's rules this module knows, in order, each once."""
    return tuple(dict.fromkeys(r for r in configured if r in RULES))


class CandidateIndex:
    """Candidates by each value a rule compares."""

    def __init__(self, candidates: Iterable[Candidate]) -> None:
        self.by: dict[str, dict[str, set[int]]] = {rule: defaultdict(set) for rule in RULES}
        self.count = 0
        for c in candidates:
            self.count += 1
            if c.sis_id:
                self.by["sis_id"][c.sis_id].add(c.pk)
            username = c.district_username or c.username
            if username:
                self.by["district_username"][username].add(c.pk)
            if c.email:
                self.by["email"][c.email.strip().lower()].add(c.pk)

    def __bool__(self) -> bool:
        return self.count > 0

    def values(self, claim: Claim, rule: str) -> Iterable[str]:
        if rule == "sis_id":
            return claim.sis_ids
        if rule == "district_username":
            return claim.district_usernames
        return (claim.email.strip().lower(),) if claim.email.strip() else ()

    def found(self, claim: Claim, rule: str) -> set[int]:
        pks: set[int] = set()
        for value in self.values(claim, rule):
            pks |= self.by[rule].get(value, set())
        return pks

    def touches(self, claim: Claim) -> bool:
        """Whether any rule could find an account for this claim (cheap pre-filter)."""
        return any(self.found(claim, rule) for rule in RULES)


def match(
    claims: Iterable[Claim],
    index: CandidateIndex,
    *,
    rules: tuple[str, ...],
    domains: frozenset[str],
    refused: frozenset[tuple[int, str]] = frozenset(),
) -> Matching:
    """Decide which claims link to which candidate. ``refused``: (account pk, Clever ID) pairs
    ops unlinked by hand, never proposed again."""
    result = Matching()
    proposed: dict[int, list[Link]] = defaultdict(list)
    names: dict[str, str] = {}
    for claim in claims:
        names[claim.clever_id] = claim.name
        for rule in rules:
            pks = {pk for pk in index.found(claim, rule) if (pk, claim.clever_id) not in refused}
            if not pks:
                continue
            if rule == "email" and email_domain(claim.email) not in domains:
                result.doubts.append(
                    Doubt(claim.clever_id, claim.name, rule, "unverified_email", tuple(sorted(pks)))
                )
            elif len(pks) > 1:
                result.doubts.append(
                    Doubt(
                        claim.clever_id, claim.name, rule, "several_candidates", tuple(sorted(pks))
                    )
                )
            else:
                proposed[next(iter(pks))].append(Link(claim.clever_id, next(iter(pks)), rule))
            break
    for pk, links in proposed.items():
        if len(links) == 1:
            result.links.append(links[0])
            continue
        for link in links:
            result.doubts.append(
                Doubt(link.clever_id, names[link.clever_id], link.rule, "claimed_twice", (pk,))
            )
    return result
