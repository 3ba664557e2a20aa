"""Why can't this person log in? What their next Clever login would do, in words, and what to
change: type supported, district connected and launched, account archived or deactivated,
matched, classes to see. Read-only: it calls Clever for nothing and writes nothing.

Here, in the top app, because it asks SSO (the supported types) and go-live (the launch gate)
the same questions a real login asks, over the roster.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings

from accounts.models import User
from clever import usertypes
from golive.selectors import sso_block_reason
from rostering.models import District, SectionStudent, SectionTeacher, UserRole
from sso.models import LoginRecord, LoginRefusal
from sso.services import supported_user_types

LOGINS_SHOWN = 10


@dataclass
class Finding:
    ok: bool | None  # None: nothing wrong, worth knowing
    title: str
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class LoginEntry:
    """One Clever login of theirs and how it ended."""

    at: dt.datetime
    user_type: str
    entry_point: str
    ok: bool
    outcome: str
    # The Clever app it went through, when it is not the one configured now.
    other_app: str = ""


@dataclass
class LoginCheck:
    verdict: str
    would_log_in: bool
    # Logs in and sees their classes: nothing to fix.
    clear: bool = False
    findings: list[Finding] = field(default_factory=list)
    logins: list[LoginEntry] = field(default_factory=list)


def _type_finding(roles: list[str]) -> tuple[Finding, str]:
    supported = [t for t in supported_user_types() if t != "contact"]
    setting = f"CLEVER_SUPPORTED_USER_TYPES = {settings.CLEVER_SUPPORTED_USER_TYPES!r}"
    if not roles:
        return (
            Finding(
                False,
                "No role from Clever",
                "Clever shares no live role for this person, so we cannot tell what they "
                "would log in as.",
                "Check the district shares this person with the app in Clever's dashboard.",
            ),
            "",
        )
    admitted = next((r for r in roles if r in supported), "")
    # Clever: an admin who also teaches is admitted as a teacher (sso.services.admitted_type).
    if not admitted and any(r in usertypes.ADMIN_TYPES for r in roles) and "teacher" in supported:
        admitted = "teacher" if "teacher" in roles else ""
    if admitted:
        return (
            Finding(True, "Type supported", f"Logs in as a {admitted} ({setting})."),
            admitted,
        )
    return (
        Finding(
            False,
            "Type not supported",
            f"Clever logs them in as {', '.join(roles)}; this app admits only "
            f"{', '.join(supported) or 'no type'} ({setting}). The login is refused with the "
            "'not supported' page.",
            f"To let them in, add {roles[0]} to CLEVER_SUPPORTED_USER_TYPES (and give that "
            "type a home page), or ask the district to give them a supported role in Clever.",
        ),
        "",
    )


def last_logins(*, user: User, limit: int = LOGINS_SHOWN) -> list[LoginEntry]:
    """Their last Clever logins, newest first: the successes (``LoginRecord``) and the refusals
    once Clever had named them (``LoginRefusal``, by Clever user id: kept
    CLEVER_LOGIN_REFUSALS_KEEP_DAYS). Two queries."""
    app = settings.CLEVER_CLIENT_ID

    def other(client_id: str) -> str:
        return client_id if client_id and client_id != app else ""

    entries = [
        LoginEntry(r.created_at, r.user_type, r.entry_point, True, "logged in", other(r.client_id))
        for r in LoginRecord.objects.filter(user=user).only(
            "created_at", "user_type", "entry_point", "client_id"
        )[:limit]
    ]
    if user.clever_id:
        entries += [
            LoginEntry(
                r.created_at,
                r.user_type,
                r.entry_point,
                False,
                r.get_kind_display(),
                other(r.client_id),
            )
            for r in LoginRefusal.objects.filter(clever_user_id=user.clever_id)[:limit]
        ]
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def login_check(*, user: User) -> LoginCheck:
    """What ``user``'s next Clever login would do, finding by finding, with their last logins."""
    logins = last_logins(user=user)
    if not user.clever_id:
        return LoginCheck(
            "Not a Clever account",
            False,
            False,
            [
                Finding(
                    None,
                    "Made in our app",
                    "This account is not linked to a Clever user, so Clever cannot log it in. "
                    "It logs in with its username and password.",
                    "To let a Clever user in as this account, link it on the district's "
                    "account matching page.",
                )
            ],
            logins,
        )
    findings: list[Finding] = []
    refused = False
    role_rows = list(UserRole.objects.filter(user=user).order_by("role"))
    live_roles = [r.role for r in role_rows if r.archived_at is None]
    roles = live_roles or [r.role for r in role_rows]
    finding, _admitted = _type_finding(roles)
    findings.append(finding)
    refused |= finding.ok is False

    district = user.district
    if district is None:
        findings.append(
            Finding(
                False,
                "No district",
                "The account belongs to no district we hold.",
                "Refresh connections (python manage.py clever_sync) once the district is "
                "connected in Clever.",
            )
        )
        refused = True
    elif district.status != District.Status.CONNECTED:
        findings.append(
            Finding(
                False,
                "District not connected",
                f"{district} is disconnected (since "
                f"{district.disconnected_at:%Y-%m-%d} UTC): the login is refused."
                if district.disconnected_at
                else f"{district} is disconnected: the login is refused.",
                "The district reconnects the app in Clever's dashboard; it connects here at "
                "the next token refresh.",
            )
        )
        refused = True
    else:
        reason = sso_block_reason(district=district, user=user)
        if reason:
            findings.append(
                Finding(
                    False,
                    "District not launched",
                    f"{district} is connected but not launched; they would read: {reason}",
                    "Launch the district in Clever's dashboard (logins follow Clever's launch "
                    "date), or add them as a launch tester on the go-live districts page.",
                )
            )
            refused = True
        else:
            findings.append(
                Finding(True, "District connected and launched", f"{district} lets them in.")
            )

    if not user.is_active:
        findings.append(
            Finding(
                False,
                "Account deactivated",
                "This account is deactivated (it was merged into another by a link made by "
                "hand), so a login does not stick.",
                "See 'Links to Clever' below for which account took its place.",
            )
        )
        refused = True
    if user.archived_at:
        findings.append(
            Finding(
                False,
                "Account archived",
                f"Clever stopped sharing this person at {user.archived_at:%Y-%m-%d %H:%M} UTC "
                "(the district removed them, or from the app's sharing). Clever shows them "
                "no app to open; if they get in, every class of theirs is archived, so their "
                "home page is empty.",
                "The district shares them with the app again in Clever's dashboard; the next "
                "sync restores the same account, with its history.",
            )
        )
    else:
        findings.append(
            Finding(
                True,
                "Account live",
                f"Linked to Clever user {user.clever_id}"
                + (
                    f" (matched to an account of ours by {user.matched_by})"
                    if user.matched_by
                    else ""
                )
                + "; Clever still shares them.",
            )
        )
    sections = (
        SectionStudent.objects.filter(
            user=user, archived_at__isnull=True, section__archived_at__isnull=True
        ).count()
        + SectionTeacher.objects.filter(
            user=user, archived_at__isnull=True, section__archived_at__isnull=True
        ).count()
    )
    if sections:
        findings.append(Finding(True, "Classes", f"In {sections} live section(s)."))
    else:
        findings.append(
            Finding(
                False,
                "No classes",
                "They are in no live section, so their home page lists no class.",
                "Check the sections on the user page; the district's SIS or Clever's sharing "
                "rules decide who is in which section.",
            )
        )
    if refused:
        verdict = "Their next Clever login would be refused"
    elif user.archived_at or not sections:
        verdict = "They could log in, but would see no classes"
    else:
        verdict = "Their next Clever login would work"
    clear = not refused and not user.archived_at and bool(sections)
    return LoginCheck(verdict, not refused, clear, findings, logins)
