"""Reads about go-live state: the latest checklist, the district list, launch gating."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from accounts.models import User, display_name
from golive.models import (
    APPROVED,
    ChecklistRun,
    DistrictConnection,
    LaunchTester,
    launch_of,
    state_label,
)
from rostering.models import District, School, Section, SyncRun, UserRole
from rostering.selectors import count_per_district

State = DistrictConnection.State
# A district whose last successful sync is older than this is shown as stale.
SYNC_STALE_AFTER = dt.timedelta(hours=48)


def checklist_latest() -> ChecklistRun | None:
    """The most recent checklist run with its results, or None before the first check."""
    return ChecklistRun.objects.prefetch_related("results").select_related("checked_by").first()


def _connection_for(district: District) -> DistrictConnection | None:
    # Every connection carries the district's Clever ID (unique, read-only); the foreign key is
    # filled in only once an ops action touched it.
    return DistrictConnection.objects.filter(clever_district_id=district.clever_id).first()


def _state(connection: DistrictConnection | None, *, district: District, today: dt.date) -> str:
    """A district's go-live state: its connection's, else what Clever says."""
    if connection is not None:
        return connection.effective_state(today=today, district=district)
    if district.status == district.Status.DISCONNECTED:
        return State.DISCONNECTED
    launched = launch_of(district=district, connection=None, today=today).launched
    return State.LAUNCHED if launched else State.CONNECTED


def _long_date(day: dt.date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def sso_block_reason(*, district: District, user: User | None) -> str | None:
    """Why this district's users may not log in yet (not launched), or None when they may.

    SSO calls this after identifying the district. Secure Sync never does: launch does not
    affect rostering. Gating applies to the production Clever app only (the development app's
    sandbox districts are for testing). The launch date that decides is Clever's, from the
    district's record as last read (each sync and token refresh); while we have never read one,
    ops' own note of the launch decides (``golive.models.launch_of``). Ops can always test: staff
    accounts, and the Clever users listed as the district's launch testers, log in before launch.
    """
    if settings.CLEVER_APP_ENVIRONMENT != "production":
        return None
    if user is not None and user.is_staff:
        return None
    name = district.name or "your district"
    if district.status == District.Status.DISCONNECTED:
        return (
            f"{name} is no longer connected to this app through Clever, so you can't log in "
            "with Clever. Please ask your school's Clever administrator."
        )
    today = timezone.localdate()
    if district.clever_launch_date is not None and district.clever_launch_date <= today:
        return None  # launched in Clever: the login path reads nothing more
    connection = _connection_for(district)
    launch = launch_of(district=district, connection=connection, today=today)
    if launch.launched:
        return None
    if (
        connection is not None
        and user is not None
        and user.clever_id
        and LaunchTester.objects.filter(
            connection=connection, clever_user_id=user.clever_id
        ).exists()
    ):
        return None
    if launch.date is not None and launch.date > today:
        # Only Clever's launch date says when Clever shows the app in the Portal.
        where = "here and from the Clever Portal" if launch.from_clever else "here"
        return (
            f"This app launches for {name} on {_long_date(launch.date)}. From then on you can "
            f"log in {where}."
        )
    return (
        f"This app hasn't launched for {name} yet. Your school will let you know when it's "
        "ready; until then you can't log in with Clever."
    )


def launch_note(*, clever_district_id: str) -> str:
    """What decides the district's logins now, for ops after they noted a launch date."""
    district = District.objects.filter(clever_id=clever_district_id).first()
    if district is None or district.clever_launch_date is None:
        return (
            "Clever's launch date has not been read yet: it appears here at the next sync or "
            "token refresh, and until then this note decides logins."
        )
    return (
        f"Clever's launch date, as last read ({_when(district.clever_state_checked_at)}), is "
        f"{district.clever_launch_date:%Y-%m-%d}, and logins follow it; a change made in Clever's "
        "dashboard shows here at the next sync or token refresh."
    )


# --- the district list --------------------------------------------------------------------------


@dataclass
class DistrictRow:
    clever_district_id: str
    name: str
    state: str
    state_label: str
    # The launch date that decides logins: Clever's when read (launch_from_clever), else ours.
    launch_date: dt.date | None
    linked: bool
    launch_from_clever: bool = False
    # Ops' note of the launch date (only a note once Clever's is known).
    our_launch_date: dt.date | None = None
    # What Clever's district record said when last read (clever_checked_at; None: never).
    clever_launch_date: dt.date | None = None
    clever_checked_at: dt.datetime | None = None
    clever_state: str = ""
    clever_pause_start: dt.datetime | None = None
    clever_pause_end: dt.datetime | None = None
    clever_last_sync: dt.datetime | None = None
    clever_error: str = ""
    schools: int = 0
    sections: int = 0
    students: int = 0
    teachers: int = 0
    testers: int = 0
    last_sync_status: str = ""
    last_sync_at: dt.datetime | None = None
    last_success_at: dt.datetime | None = None
    health: str = ""
    # None when there is nothing to judge yet (not connected).
    healthy: bool | None = None
    note: str = ""
    # The district's SIS sync to Clever when it is not well: "error", "pending" or "paused".
    sis_problem: str = ""
    sis_note: str = ""
    # The launch testers' names (their Clever id when we hold no synced user for it).
    tester_names: list[str] = field(default_factory=list)
    # A launch was noted here with "Mark launched in Clever today" (and can be taken back).
    launch_noted: bool = False

    @property
    def launch_differs(self) -> bool:
        """Our note and Clever's launch date are both known and differ."""
        return (
            self.our_launch_date is not None
            and self.clever_launch_date is not None
            and self.our_launch_date != self.clever_launch_date
        )

    @property
    def broken(self) -> bool:
        """No usable Clever id (a row added by hand before ids were required): listed, with
        no actions, so it never breaks the page for the others."""
        return not self.clever_district_id or "/" in self.clever_district_id

    @property
    def can_approve(self) -> bool:
        return self.state == State.REQUESTED and not self.broken

    @property
    def can_schedule(self) -> bool:
        return self.state in (State.CONNECTED, State.INVITED, APPROVED) and not self.broken

    @property
    def can_launch_now(self) -> bool:
        return self.state == State.CONNECTED and not self.broken

    @property
    def can_add_tester(self) -> bool:
        """Testers are picked from the district's synced users: it must be connected (before
        or after launch: a tester added after launch can test if the launch moves later)."""
        return self.state in (State.CONNECTED, State.LAUNCHED) and self.linked and not self.broken

    @property
    def can_manage_testers(self) -> bool:
        return (self.can_add_tester or self.testers > 0) and not self.broken

    @property
    def can_undo_launch(self) -> bool:
        """A launch noted here that Clever's own launch date has not overtaken."""
        launched_by_clever = self.launch_from_clever and self.state == State.LAUNCHED
        return self.launch_noted and not launched_by_clever and not self.broken

    @property
    def can_undo_decline(self) -> bool:
        return self.state == State.DECLINED and not self.broken

    @property
    def can_undo_approve(self) -> bool:
        return self.state == APPROVED and not self.broken

    @property
    def has_actions(self) -> bool:
        return any(
            (
                self.can_approve,
                self.can_launch_now,
                self.can_schedule,
                self.can_manage_testers,
                self.can_undo_launch,
                self.can_undo_decline,
                self.can_undo_approve,
            )
        )


def _when(moment: dt.datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else ""


def _sis_note(district: District, now: dt.datetime) -> tuple[str, str]:
    """(problem, sentence) about the district's SIS sync to Clever, from Clever's district
    record; ("", "") when Clever reports nothing wrong."""
    start, end = district.clever_pause_start, district.clever_pause_end
    in_pause = start is not None and start <= now and (end is None or now < end)
    error = f": {district.clever_error}" if district.clever_error else ""
    last = _when(district.clever_last_sync)
    since = f" Last SIS sync {last}." if last else ""
    if district.clever_state == "error":
        return ("error", f"SIS sync to Clever failing{error}.{since} Clever has to fix it.")
    if district.clever_state == "pending":
        return ("pending", f"SIS sync to Clever waits on the district{error}.{since}")
    if district.clever_state == "paused" or in_pause:
        window = "".join(
            (f" from {_when(start)}" if start else "", f" until {_when(end)}" if end else "")
        )
        return (
            "paused",
            f"SIS sync to Clever paused{window}: Clever shares last school year's data.",
        )
    if district.clever_error:
        return ("error", f"Clever reports a SIS sync error{error}.{since}")
    return ("", "")


# What the Health column says of a district Clever's token list does not hold, by state: each
# agrees with the state beside it (never "not connected yet" beside a decline).
NOT_LINKED_HEALTH = {
    State.REQUESTED: "not connected: the request is pending",
    APPROVED: "not connected yet: no token in Clever's token list",
    State.INVITED: "not connected yet: the invitation is not accepted",
    State.DECLINED: "not connected: declined",
    State.DISCONNECTED: "disconnected",
}


def _health(row: DistrictRow, now: dt.datetime) -> tuple[str, bool | None]:
    if not row.linked:
        return (NOT_LINKED_HEALTH.get(row.state, "not connected"), None)
    if row.state == State.DISCONNECTED:
        return ("disconnected", False)
    if not row.last_sync_status:
        return ("no sync yet", False)
    if row.last_sync_status in ("failed", "needs_review"):
        return (f"last sync {row.last_sync_status.replace('_', ' ')}", False)
    if row.last_success_at is None:
        return ("no successful sync yet", False)
    if now - row.last_success_at > SYNC_STALE_AFTER:
        return (f"stale: last good sync {row.last_success_at:%Y-%m-%d %H:%M} UTC", False)
    return ("healthy", True)


def _tester_names(clever_district_id: str | None) -> dict[str, list[str]]:
    """Each connection's launch testers by name (one query), keyed by Clever district id."""
    synced = User.objects.filter(clever_id=OuterRef("clever_user_id"))
    testers = LaunchTester.objects.annotate(
        first=Subquery(synced.values("first_name")[:1]),
        last=Subquery(synced.values("last_name")[:1]),
        preferred=Subquery(synced.values("preferred_name")[:1]),
    ).values_list("connection__clever_district_id", "clever_user_id", "first", "last", "preferred")
    if clever_district_id is not None:
        testers = testers.filter(connection__clever_district_id=clever_district_id)
    names: dict[str, list[str]] = {}
    for district_id, user_id, first, last, preferred in testers.order_by("last", "first", "pk"):
        name = display_name(first or "", last or "", preferred or "")
        names.setdefault(district_id, []).append(name or f"Clever user {user_id}")
    return names


def district_rows(*, clever_district_id: str | None = None) -> list[DistrictRow]:
    """Every district we know (connections and Clever's token list) with counts and last sync;
    only the one with ``clever_district_id`` when given.

    Three queries whatever the number of districts: the districts with their counts and last
    sync as subqueries, the connection rows, and the launch testers with their names.
    """

    live_roles = UserRole.objects.filter(archived_at__isnull=True, user__archived_at__isnull=True)
    runs = SyncRun.objects.filter(district=OuterRef("pk"), dry_run=False).order_by("-created_at")
    districts = District.objects.annotate(
        n_schools=count_per_district(School.objects.filter(archived_at__isnull=True)),
        n_sections=count_per_district(Section.objects.filter(archived_at__isnull=True)),
        n_students=count_per_district(live_roles.filter(role="student"), "user__district"),
        n_teachers=count_per_district(live_roles.filter(role="teacher"), "user__district"),
        last_status=Subquery(runs.values("status")[:1]),
        last_created=Subquery(runs.values("created_at")[:1]),
        last_finished=Subquery(runs.values("finished_at")[:1]),
        last_success=Subquery(
            runs.filter(status=SyncRun.Status.SUCCEEDED)
            .order_by("-finished_at")
            .values("finished_at")[:1]
        ),
    )
    connection_rows = DistrictConnection.objects.annotate(n_testers=Count("testers"))
    if clever_district_id is not None:
        districts = districts.filter(clever_id=clever_district_id)
        connection_rows = connection_rows.filter(clever_district_id=clever_district_id)
    connections = {c.clever_district_id: c for c in connection_rows}
    tester_names = _tester_names(clever_district_id)
    today = timezone.localdate()
    now = timezone.now()
    rows: list[DistrictRow] = []
    for district in districts:
        connection = connections.pop(district.clever_id, None)
        state = _state(connection, district=district, today=today)
        launch = launch_of(district=district, connection=connection, today=today)
        sis_problem, sis_note = _sis_note(district, now)
        row = DistrictRow(
            clever_district_id=district.clever_id,
            name=district.name
            or (connection.name if connection else "")
            or district.clever_id
            or "(a district with no Clever id)",
            state=state,
            state_label=state_label(state),
            launch_date=launch.date,
            launch_from_clever=launch.from_clever,
            our_launch_date=connection.launch_date if connection else None,
            clever_launch_date=district.clever_launch_date,
            clever_checked_at=district.clever_state_checked_at,
            clever_state=district.clever_state,
            clever_pause_start=district.clever_pause_start,
            clever_pause_end=district.clever_pause_end,
            clever_last_sync=district.clever_last_sync,
            clever_error=district.clever_error,
            linked=True,
            schools=district.n_schools,
            sections=district.n_sections,
            students=district.n_students,
            teachers=district.n_teachers,
            testers=connection.n_testers if connection else 0,
            last_sync_status=district.last_status or "",
            last_sync_at=district.last_finished or district.last_created,
            last_success_at=district.last_success,
            note=connection.note if connection else "",
            sis_problem=sis_problem,
            sis_note=sis_note,
            launch_noted=connection is not None and connection.launched_at is not None,
        )
        rows.append(row)
    for connection in connections.values():
        state = connection.effective_state(today=today, district=None)
        rows.append(
            DistrictRow(
                clever_district_id=connection.clever_district_id,
                name=connection.name or connection.clever_district_id,
                state=state,
                state_label=state_label(state),
                launch_date=connection.launch_date,
                our_launch_date=connection.launch_date,
                linked=False,
                testers=connection.n_testers,
                note=connection.note,
                launch_noted=connection.launched_at is not None,
            )
        )
    for row in rows:
        row.health, row.healthy = _health(row, now)
        row.tester_names = tester_names.get(row.clever_district_id, [])
    order = {
        s: i
        for i, s in enumerate(
            [
                State.REQUESTED,
                State.LAUNCHED,
                State.CONNECTED,
                APPROVED,
                State.INVITED,
                State.DISCONNECTED,
                State.DECLINED,
            ]
        )
    }
    rows.sort(key=lambda r: (order.get(r.state, 9), r.name.lower()))
    return rows


def district_row(*, clever_district_id: str) -> DistrictRow | None:
    """One district's row of the district list (for the pages of its actions), or None."""
    return next(iter(district_rows(clever_district_id=clever_district_id)), None)


# --- launch testers -----------------------------------------------------------------------------

# Search results shown at once; more asks for a longer name.
TESTER_RESULTS = 20


@dataclass(frozen=True)
class Tester:
    clever_user_id: str
    name: str
    # The synced account (None: we hold no user with this Clever id, e.g. added before testers
    # were picked by name).
    user_id: int | None
    roles: str
    archived: bool
    note: str
    added_by: str
    added_at: dt.datetime


def tester_candidate(*, district: District, clever_user_id: str) -> User | None:
    """The district's synced user with this Clever id, if any."""
    return User.objects.filter(district=district, clever_id=clever_user_id).first()


def _roles(user: User) -> str:
    live = (r for r in user.clever_roles.all() if r.archived_at is None)
    return ", ".join(sorted({r.role.replace("_", " ") for r in live}))


def launch_testers(*, clever_district_id: str) -> list[Tester]:
    """A district's launch testers with their names and roles, by name (two queries)."""
    testers = list(
        LaunchTester.objects.filter(connection__clever_district_id=clever_district_id)
        .select_related("added_by")
        .order_by("created_at", "pk")
    )
    users = {
        u.clever_id: u
        for u in User.objects.filter(
            clever_id__in=[t.clever_user_id for t in testers]
        ).prefetch_related("clever_roles")
    }
    rows = []
    for t in testers:
        user = users.get(t.clever_user_id)
        rows.append(
            Tester(
                clever_user_id=t.clever_user_id,
                name=(user.display_name or str(user))
                if user
                else f"Clever user {t.clever_user_id}",
                user_id=user.pk if user else None,
                roles=_roles(user) if user else "",
                archived=bool(user and user.archived_at),
                note=t.note,
                added_by=str(t.added_by) if t.added_by else "",
                added_at=t.created_at,
            )
        )
    rows.sort(key=lambda r: r.name.lower())
    return rows


def tester_search(
    *, district: District, query: str, exclude: set[str], limit: int = TESTER_RESULTS
) -> tuple[list[User], bool]:
    """The district's live synced users whose name has every word of ``query`` (a Clever id
    or an email matches too), testers in ``exclude`` left out; (users by name, more beyond)."""
    words = query.split()
    if not words:
        return [], False
    users = User.objects.filter(
        district=district, clever_id__isnull=False, archived_at__isnull=True
    ).exclude(clever_id__in=exclude)
    if len(words) == 1 and ("@" in words[0] or len(words[0]) == 24):
        users = users.filter(Q(clever_id=words[0].lower()) | Q(email__iexact=words[0]))
    else:
        for word in words:
            users = users.filter(
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(preferred_name__icontains=word)
            )
    found = list(
        users.order_by("last_name", "first_name", "pk").prefetch_related("clever_roles")[
            : limit + 1
        ]
    )
    for user in found:
        user.role_names = _roles(user)
    return found[:limit], len(found) > limit
