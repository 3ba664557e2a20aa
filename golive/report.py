"""The certification report: Clever's certification questions answered from our configuration.

Every answer is built when the report is read, from settings and the models, so it says what
this deployment does now. ``certification_report`` returns sections of questions and answers;
``report_markdown`` renders them for the management command.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

ROLE_LABELS = {
    "student": "students",
    "teacher": "teachers",
    "staff": "school staff",
    "district_admin": "district admins",
    "contact": "contacts (parents/guardians)",
}
MATCH_LABELS = {
    "clever_id": "Clever ID (an account already linked to this Clever user)",
    "sis_id": "SIS id within the same district",
    "district_username": "district username within the same district",
    "email": "email address",
}
WEEKDAYS = {
    "0": "Sunday",
    "1": "Monday",
    "2": "Tuesday",
    "3": "Wednesday",
    "4": "Thursday",
    "5": "Friday",
    "6": "Saturday",
    "7": "Sunday",
}


@dataclass
class Answer:
    question: str
    answer: str


@dataclass
class ReportSection:
    title: str
    answers: list[Answer] = field(default_factory=list)

    def add(self, question: str, answer: str) -> None:
        self.answers.append(Answer(question, answer))


def _roles(roles: list[str]) -> str:
    labels = [ROLE_LABELS.get(r, r) for r in roles]
    if not labels:
        return "none"
    if len(labels) == 1:
        return labels[0]
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def api_version() -> str:
    """The Data API version our client calls, read from its endpoint paths."""
    from rostering import clever_api

    return clever_api.USERS_PATH.strip("/").split("/")[0]


def sync_schedule() -> tuple[str, bool]:
    """The nightly sync's schedule in words, and whether it runs at least once a day."""
    expr = settings.CLEVER_SYNC_CRON
    minute, hour, day, month, weekday = expr.split()
    every_day = day == "*" and month == "*" and weekday == "*"
    if minute.isdigit() and hour.isdigit():
        at = f"{int(hour):02d}:{int(minute):02d} UTC"
        if every_day:
            return f"every day at {at}", True
        if day == "*" and month == "*" and weekday in WEEKDAYS:
            return f"every {WEEKDAYS[weekday]} at {at}", False
    if every_day and minute.isdigit() and hour == "*":
        return f"every hour at minute {int(minute)}", True
    if every_day and minute.isdigit() and "," in hour:
        return f"every day at hours {hour} UTC, minute {int(minute)}", True
    if every_day and minute.isdigit() and hour.startswith("*/"):
        return f"every {hour[2:]} hours at minute {int(minute)}", True
    return f"on the cron schedule `{expr}` (UTC)", every_day


def _matching() -> str:
    strategy = [s for s in settings.CLEVER_ACCOUNT_MATCHING if s and s != "clever_id"]
    steps = "; then ".join(MATCH_LABELS.get(s, s) for s in strategy)
    text = (
        "Yes. A Clever user is found by Clever ID first (an account the sync created or an "
        "earlier login linked). Otherwise we look for an account made in our app, not yet "
        "linked, in the same district or none, and never a staff account"
        + (f", in this order (CLEVER_ACCOUNT_MATCHING): {steps}" if steps else "")
        + ". A unique match is linked to the Clever ID and keeps its history; an ambiguous one "
        "is not linked. "
    )
    if not strategy:
        text += "No other matching is configured (CLEVER_ACCOUNT_MATCHING lists none)."
    if "email" in strategy:
        domains = [d for d in settings.CLEVER_VERIFIED_EMAIL_DOMAINS if d]
        if domains:
            text += (
                "Email matches are trusted only for addresses in the verified domains "
                f"{', '.join(domains)} (CLEVER_VERIFIED_EMAIL_DOMAINS), because Clever does not "
                "verify email addresses; any other address matching an existing account stops "
                "the login with a page asking the school to link the accounts."
            )
        else:
            text += (
                "No email domain is verified (CLEVER_VERIFIED_EMAIL_DOMAINS is empty) and Clever "
                "does not verify email addresses, so an email match never links an account: the "
                "login stops with a page asking the school to link the accounts."
            )
    return text.strip()


def _event_types() -> list[str]:
    """The record types the sync's event handler applies (districts, then its entity specs)."""
    from rostering.sync.specs import ENTITIES

    return ["districts", *(spec.name for spec in ENTITIES)]


def certification_report() -> list[ReportSection]:
    """Clever's certification questions, answered from this deployment's settings and code."""
    from accounts.selectors import ADMIN_TYPES
    from sso.services import supported_user_types

    supported = supported_user_types()
    synced = [r for r in settings.CLEVER_SYNC_USER_ROLES if r]
    schedule, daily = sync_schedule()
    rostering_only = settings.CLEVER_ROSTERING_ONLY
    oidc = settings.CLEVER_OIDC_ENABLED
    admin_types = [t for t in supported if t in ADMIN_TYPES]
    max_fraction = settings.CLEVER_SYNC_ARCHIVE_MAX_FRACTION
    max_count = settings.CLEVER_SYNC_ARCHIVE_MAX_COUNT

    if rostering_only:
        login_text = "Users do not log in with Clever (rostering only: CLEVER_ROSTERING_ONLY)."
    elif oidc:
        login_text = (
            "Logins use OpenID Connect (CLEVER_OIDC_ENABLED): we verify the id_token Clever "
            "returns with the code exchange (RS256 signature from Clever's published keys, "
            "issuer, audience = our client id, expiry, nonce) and key the user on its `sub` "
            "claim (the v3 Clever ID)."
        )
    else:
        login_text = (
            "Logins use OAuth 2.0 (OpenID Connect is off: CLEVER_OIDC_ENABLED): after the code "
            "exchange we read the user with their own token from GET /v3.0/me and the user "
            "record it links to."
        )

    general = ReportSection("General")
    general.add(
        "Which version of Clever's API are you using?",
        f"Data API {api_version()} at {settings.CLEVER_API_BASE_URL}, district tokens from "
        f"{settings.CLEVER_OAUTH_BASE_URL}/oauth/tokens.",
    )
    general.add(
        "Which field does your application use as the key identifier from Clever?",
        "The Clever ID (`id`, for users the v3 multi-role id) of every record type: districts, "
        "schools, terms, courses, sections and users are each unique on `clever_id`, and SSO "
        "finds accounts by it. SIS ids, emails and names are stored as data, never as keys.",
    )
    general.add(
        "What's the top-level or central record in your data model?",
        "The district. Schools, terms, courses, sections, users and their enrollments all belong "
        "to one district; within it the user (one row per person whatever their roles) is what "
        "progress and history attach to.",
    )
    general.add(
        "What are the steps that need to be taken for a district to get set up with your "
        "application via Clever?",
        "1. The district requests to connect (we approve it on our Districts page) or we invite "
        "it. 2. When it shares data, its district-app token appears in Clever's token list; we "
        "pick it up and the first sync mirrors its data (no action from the district). "
        "3. Ops check the district's sharing counts and last sync on the Districts page. "
        "4. We launch it now or on a launch date agreed with the district; from then on its "
        + (
            "data is used by the app."
            if rostering_only
            else "users see the app in the Clever Portal and can log in. Before launch they see "
            'a friendly "not launched yet" page (ops and listed test users can log in).'
        ),
    )
    general.add(
        "Does your application use district-app tokens to sync data?",
        "Yes. The sync lists the app's district tokens with GET /oauth/tokens?owner_type=district "
        "(HTTP Basic, our client id and secret), stores each encrypted, and reads the district's "
        "data with it. User tokens from SSO are used only to identify the user logging in.",
    )
    general.add(
        "Does your application need to run a sync to initialize data in the account before they "
        "can log in?",
        "No. "
        + (
            "There are no Clever logins (rostering only); the first sync starts on its own when a "
            "district connects."
            if rostering_only
            else "A user who logs in before their district's first sync is provisioned from "
            "Clever at login (the district is looked up in the token list on the spot); the "
            "sync then fills in rosters. The district must be launched (or the user a tester)."
        ),
    )
    general.add(
        "How does your application handle missing fields which are not required / guaranteed in "
        "Clever?",
        "Only Clever's guaranteed fields are required (ids and the links between records); every "
        "other field (email, grade, SIS ids, names of terms and courses, term dates, section "
        "teacher) is stored empty when missing and nothing depends on it. A record missing a "
        "guaranteed field is reported in the run's errors and the rest of the sync continues. "
        "Users with missing data are never blocked from logging in.",
    )
    general.add(
        "Does your application update data upon login or with a daily batched sync?",
        f"Both: a full sync {schedule} (CLEVER_SYNC_CRON)"
        + ("" if daily else " — note this is NOT at least once a day as Clever requires")
        + (
            ""
            if rostering_only
            else ", and each login refreshes the user's own record (name, email, roles) from Clever"
        )
        + ".",
    )

    provisioning = ReportSection("Provisioning accounts")
    provisioning.add(
        "Which Clever user types will have accounts in your application?",
        f"The sync mirrors {_roles(synced)} (CLEVER_SYNC_USER_ROLES). "
        + (
            "No user logs in with Clever (rostering only)."
            if rostering_only
            else f"Supported for login: {_roles(supported)} (CLEVER_SUPPORTED_USER_TYPES)."
        ),
    )
    provisioning.add(
        "Do you support a user type that has more access than teachers?",
        (
            f"Yes: {_roles(admin_types)} log in to a read-only overview of their district "
            "(its schools with section counts and the roster sync's status); they cannot edit "
            "rosters or other users."
            if admin_types
            else "No. Only "
            + _roles(supported)
            + " log in; a staff member or district admin who also teaches is admitted as a "
            "teacher."
        )
        + " Our own ops staff accounts are separate from Clever users and never linked to them.",
    )

    matching = ReportSection("Matching")
    matching.add(
        "How will you match Clever districts with existing districts in your CRM / database?",
        "By Clever district ID only: a district is created when its token first appears in "
        "Clever's token list, and an invitation or request recorded by ops is linked to it by "
        "the same ID. We have no other district records to match.",
    )
    matching.add(
        "How will you match Clever schools with existing schools in your CRM / database?",
        "By Clever school ID within the district. A school Clever deletes and recreates gets a "
        "new ID and appears as a new school; the old one is archived.",
    )
    matching.add(
        "Does your application match user records in order to preserve historical/progress "
        "data and accounts? If so, how?",
        _matching(),
    )

    rostering = ReportSection("Rostering")
    rostering.add(
        "Does your application sync student-teacher associations from Clever?",
        "Yes, through sections: each section's teachers (primary first, then co-teachers) and "
        "students are mirrored, archived when Clever stops sharing them and restored when they "
        "come back.",
    )

    ongoing = ReportSection("Ongoing updates")
    ongoing.add(
        "How often is a new sync triggered, and how?",
        f"Celery beat starts a full sync of every connected district {schedule} "
        f"(CLEVER_SYNC_CRON = `{settings.CLEVER_SYNC_CRON}`)"
        + ("" if daily else "; this is less than Clever's once-a-day minimum")
        + '. Ops can also sync a district at once (admin "Sync now" or '
        "`python manage.py clever_sync`); all three enter the same sync service.",
    )
    ongoing.add(
        "Do you update data on user login, using full data syncs, or using events?",
        "Full data syncs on the schedule above"
        + ("" if rostering_only else ", plus the user's own record on each login")
        + ". A full sync can always be run on demand, whatever else is used.",
    )

    admin = ReportSection("Admin edits")
    admin.add(
        "Can a teacher or admin edit the permissions a user has or assign additional roles to a "
        "user?",
        "No. Roles come from Clever only (one row per role per user); a sync overwrites them.",
    )
    admin.add(
        "Can a teacher or admin create users who are not managed by the Clever sync?",
        "Teachers and Clever admins cannot. Our own ops staff can create local accounts in the "
        'Django admin (marked "Created in our app"); the sync never touches them.',
    )
    admin.add(
        "Can a teacher or admin create groups of students that are not managed by the Clever "
        "sync, split a section into subgroups, or add or remove students from a synced section?",
        "No. Sections and enrollments are exactly what Clever shares.",
    )
    admin.add(
        "If you can do any of the above, will the changes persist?",
        "The only in-app edits are fields the sync never writes (e.g. a preferred name) and "
        "local accounts; they persist until edited. Everything synced is overwritten by the "
        "next sync.",
    )

    records = ReportSection("Updating and deleting records")
    records.add(
        "What happens if a student moves between classes?",
        "The next sync archives the old enrollment and adds the new one (an enrollment seen "
        "again later is restored on the same row). The student's account and progress stay "
        "with the student.",
    )
    records.add(
        "What happens if a student moves between schools?",
        "Same account (same Clever ID): the next sync updates the student's schools and primary "
        "school and archives the old school's enrollments. Progress is tied to the student, "
        "not the school, so it follows them.",
    )
    records.add(
        "What do you do if a record is deleted from Clever and no longer appears in the API?",
        "A sync that fetched every record type completely archives what it did not see "
        "(nothing is deleted); a partial or failed fetch archives nothing. As a guard, a run "
        f"that would archive more than {max_fraction:.0%} or {max_count} records of one type "
        "stops for ops review (CLEVER_SYNC_ARCHIVE_MAX_FRACTION / _MAX_COUNT).",
    )
    records.add(
        "Can a record be restored after it has been deleted / archived?",
        "Yes, for every type including terms and courses: when its Clever ID reappears the "
        "same row is restored, so everything tied to it (progress, history) reattaches.",
    )

    progress = ReportSection("Student progress")
    progress.add(
        "Does your application store progress data for display or reporting purposes?",
        "Any progress the app stores is tied to the student's user row (keyed by Clever ID), "
        "never to a section or enrollment.",
    )
    progress.add(
        "Is there any case where progress data would be deleted?",
        "No sync deletes it: records leave Clever by being archived, and restored on return.",
    )

    rollover = ReportSection("Rollover")
    rollover.add(
        "How do you handle semester or school year rollover?",
        "Like any other change: last term's sections stop being shared and are archived, the "
        "new ones are created; students and teachers keep their accounts and history. A "
        "rollover that removes a large share of records at once trips the archive review guard "
        "so ops confirm it first. Paused districts (showing last year's data) simply sync "
        "unchanged.",
    )

    roster = ReportSection("If your application uses roster data")
    roster.add(
        "Is there any data on the section object that would change your application's behavior?",
        "No: the section's name, subject, grade, period, course and term are shown, not used "
        "to assign content.",
    )
    roster.add(
        "How do you handle users who aren't associated with any sections?",
        "They have accounts and can log in; their home page says they have no classes yet.",
    )
    roster.add(
        "How do you handle users with multiple sections, or in multiple schools?",
        "Supported: a user has any number of sections and schools (each school link per role), "
        "and a section's students may belong to other schools than the section's.",
    )
    roster.add(
        "Do you support co-teachers? Is there a maximum?",
        "Yes, with no maximum: every teacher Clever lists on a section is linked, in Clever's "
        "order (the primary teacher first), and each sees the section.",
    )
    events = ReportSection("If you use events")
    events.add(
        "Can you initiate a full data (non-events) sync if needed?",
        'Yes, at any time (admin "Sync now" or `python manage.py clever_sync`), and the '
        f"scheduled full sync runs {schedule} whether or not events are used.",
    )
    events.add(
        "Which records do you process events for?",
        f"{', '.join(_event_types()).capitalize()} (created, updated and deleted), in order, "
        "each with the district's event cursor so a failure resumes after the last applied event "
        "(`python manage.py clever_sync --events`). Events supplement the full sync; they are "
        "not scheduled on their own.",
    )

    initial = ReportSection("Initial sync")
    initial.add(
        "Who kicks off the initial sync?",
        "Nobody has to: the scheduled sync picks up every district in Clever's token list, and "
        'ops can start it at once (admin "Sync now" or `python manage.py clever_sync`).',
    )
    initial.add(
        "Which record types will be synced?",
        "The district, schools, terms, courses, sections (with their teachers and students) "
        f"and users with the roles {_roles(synced)}, with each user's schools.",
    )
    if not rostering_only:
        login = ReportSection("Provisioning and updating on login")
        login.add(
            "Which record types do you store/access?",
            "At login: the user (GET /v3.0/me and the user record) and their district. Everything "
            "else comes from the sync.",
        )
        login.add("How do users log in?", login_text)
        login.add(
            "What happens when a user logs in for the first time?",
            "We identify them at Clever, find their account (the one the sync created, or a "
            "matched existing account, see Matching) or create it, and log them in to their "
            "role's home page.",
        )
        login.add(
            "What happens when a user logs in after their account has been provisioned?",
            "We find the account by Clever ID, refresh their name, email and roles from Clever, "
            "replace any previous session on the device, and log them in.",
        )
        admins = ReportSection("Administrators")
        admins.add(
            "What access levels of administrator users do you support, and how do they map to "
            "Clever user types?",
            (
                f"One: {_roles(admin_types)} (Clever types, as CLEVER_SUPPORTED_USER_TYPES lists "
                "them) see the district overview described above."
                if admin_types
                else "None: no administrator type is in CLEVER_SUPPORTED_USER_TYPES."
            ),
        )
        admins.add(
            "If a teacher is also an administrator in Clever, how is this handled?",
            "In Clever's v3 API such a person is one user with one Clever ID and several roles; "
            "we keep one account with one role row per Clever role, and the home page follows "
            "the type they logged in as.",
        )
    sections = [general, provisioning, matching, rostering, ongoing, admin, records, progress]
    sections += [rollover, roster, events, initial]
    if not rostering_only:
        sections += [login, admins]
    return sections


def report_markdown(sections: list[ReportSection]) -> str:
    """The report as Markdown."""
    lines = [
        "# Clever certification answers",
        "",
        f"Generated {timezone.now():%Y-%m-%d %H:%M} UTC from this deployment's configuration "
        f"(CLEVER_APP_ENVIRONMENT = {settings.CLEVER_APP_ENVIRONMENT}).",
    ]
    for section in sections:
        lines += ["", f"## {section.title}"]
        for item in section.answers:
            lines += ["", f"**{item.question}**", "", item.answer]
    return "\n".join(lines) + "\n"
