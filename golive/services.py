"""Writes for go-live: checklist runs, ops' notes of district connections, launch dates, testers.

Approving, inviting and launching a district are done in Clever's dashboard; these functions
record ops' notes of them (which connect and launch nothing: Clever's token list and its
district record say what Clever did). Every change of a connection's state happens in one
function here; each refuses, with a ``GoLiveError`` whose message ops read, what Clever would
not allow either.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from golive import checklist, selectors
from golive.models import (
    APPROVED,
    ChecklistRun,
    CheckResult,
    DistrictConnection,
    LaunchTester,
    launch_of,
    state_label,
)
from rostering.connections import district_clever_state_refresh
from rostering.models import District

if TYPE_CHECKING:
    from accounts.models import User

State = DistrictConnection.State
CLEVER_ID_RE = re.compile(r"^[0-9a-f]{24}$")
# A login refused as not launched re-reads Clever's district record when the stored one is older
# than this, so a launch made in Clever's dashboard lets people in within a minute, not at the
# next nightly sync (and a burst of refused logins costs Clever one request a minute).
LAUNCH_RECHECK_SECONDS = 60


# How a decline's reason starts in the connection's note.
DECLINED_NOTE = "Declined: "


class GoLiveError(Exception):
    """An ops action we refuse, with a message that says why."""


# --- checklist ----------------------------------------------------------------------------------


def checklist_run(*, by: User | None = None) -> ChecklistRun:
    """Evaluate every go-live step now and record the results as a new run."""
    outcomes = [step() for step in checklist.STEPS]
    with transaction.atomic():
        run = ChecklistRun.objects.create(
            checked_at=timezone.now(),
            checked_by=by if by is not None and by.is_authenticated else None,
            ready=all(o.status != checklist.FAIL for o in outcomes),
        )
        CheckResult.objects.bulk_create(
            CheckResult(
                run=run,
                position=position,
                key=o.key,
                title=o.title,
                status=o.status,
                summary=o.summary,
                evidence=o.evidence,
                fix=o.fix if o.status == checklist.FAIL else "",
            )
            for position, o in enumerate(outcomes, start=1)
        )
    return run


# --- the launch gate ----------------------------------------------------------------------------


def launch_gate(*, district: District, user: User | None) -> str | None:
    """SSO's launch gate: why this login is refused (not launched yet), or None. A refusal first
    re-reads Clever's district record when ours is older than LAUNCH_RECHECK_SECONDS (GET
    /v3.0/districts/{id}, stored), so Clever's launch date decides as Clever says it now."""
    reason = selectors.sso_block_reason(district=district, user=user)
    if reason is None or district.status != District.Status.CONNECTED:
        return reason
    checked = district.clever_state_checked_at
    if checked is not None and timezone.now() - checked < dt.timedelta(
        seconds=LAUNCH_RECHECK_SECONDS
    ):
        return reason
    if not district_clever_state_refresh(district=district):
        return reason
    return selectors.sso_block_reason(district=district, user=user)


# --- district connections -----------------------------------------------------------------------


def _today() -> dt.date:
    return timezone.localdate()


def _clean_clever_id(value: str, what: str = "district") -> str:
    value = (value or "").strip().lower()
    if not CLEVER_ID_RE.match(value):
        raise GoLiveError(
            f"{value or '(empty)'!r} is not a Clever {what} id: Clever ids are 24 hexadecimal "
            "characters (Clever dashboard > the district's page)."
        )
    return value


def _rostering_district(clever_district_id: str) -> District | None:
    return District.objects.filter(clever_id=clever_district_id).first()


def _locked(clever_district_id: str) -> DistrictConnection | None:
    """The connection row of this district, locked until the transaction ends, if any."""
    return (
        DistrictConnection.objects.select_for_update()
        .filter(clever_district_id=clever_district_id)
        .first()
    )


def _connection_for_update(clever_district_id: str) -> DistrictConnection:
    """The connection row, locked; created for a district Clever's token list already holds."""
    clever_district_id = _clean_clever_id(clever_district_id)
    connection = _locked(clever_district_id)
    district = _rostering_district(clever_district_id)
    if connection is None:
        if district is None:
            raise GoLiveError(
                f"No district {clever_district_id} has asked to connect, been invited or connected."
            )
        connection = DistrictConnection.objects.create(
            clever_district_id=clever_district_id,
            name=district.name,
            district=district,
            state=State.CONNECTED,
        )
    elif district is not None and connection.district_id != district.pk:
        connection.district = district
        connection.name = connection.name or district.name
        connection.save(update_fields=["district", "name", "updated_at"])
    return connection


def _current_state(connection: DistrictConnection) -> str:
    district = _rostering_district(connection.clever_district_id)
    return connection.effective_state(today=_today(), district=district)


def _label(state: str) -> str:
    label = state_label(state)
    return label[:1].lower() + label[1:]


def connection_request_record(
    *, clever_district_id: str, name: str, note: str = "", by: User | None = None
) -> DistrictConnection:
    """Record a district's request to connect (Clever dashboard > Pending Requests)."""
    clever_district_id = _clean_clever_id(clever_district_id)
    name = name.strip()
    if not name:
        raise GoLiveError("A request needs the district's name.")
    with transaction.atomic():
        connection = _locked(clever_district_id)
        district = _rostering_district(clever_district_id)
        if connection is not None:
            state = _current_state(connection)
            if state not in (State.DECLINED, State.DISCONNECTED):
                raise GoLiveError(f"{connection} is already {_label(state)}.")
        else:
            if district is not None and district.status == "connected":
                raise GoLiveError(f"{district} is already connected.")
            connection = DistrictConnection(clever_district_id=clever_district_id)
        connection.name = name
        connection.state = State.REQUESTED
        connection.requested_at = timezone.now()
        connection.note = note.strip()
        connection.district = district
        connection.save()
    return connection


def connection_approve(*, clever_district_id: str, by: User | None) -> DistrictConnection:
    """Note that ops approved a pending request in Clever's dashboard (this connects nothing:
    the district connects when its token appears in Clever's token list)."""
    with transaction.atomic():
        connection = _connection_for_update(clever_district_id)
        state = _current_state(connection)
        if state != State.REQUESTED:
            raise GoLiveError(
                f"Only a pending request can be approved; {connection} is {_label(state)}."
            )
        connection.state = State.CONNECTED
        connection.decided_at = timezone.now()
        connection.decided_by = by
        connection.save()
    return connection


def connection_decline(
    *, clever_district_id: str, by: User | None, reason: str = ""
) -> DistrictConnection:
    """Note that ops declined a pending request in Clever's dashboard."""
    with transaction.atomic():
        connection = _connection_for_update(clever_district_id)
        state = _current_state(connection)
        if state != State.REQUESTED:
            raise GoLiveError(
                f"Only a pending request can be declined; {connection} is {_label(state)}."
            )
        connection.state = State.DECLINED
        connection.decided_at = timezone.now()
        connection.decided_by = by
        if reason.strip():
            # On a line of its own after the request's note, so an undo takes only it away.
            declined = f"{DECLINED_NOTE}{reason.strip()}"
            connection.note = f"{connection.note}\n{declined}" if connection.note else declined
        connection.save()
    return connection


def _check_future(launch_date: dt.date, today: dt.date) -> None:
    if launch_date <= today:
        raise GoLiveError(
            f"The launch date must be in the future (after {today:%Y-%m-%d}, today in UTC); "
            f"got {launch_date:%Y-%m-%d}. Use Mark launched in Clever for a launch today."
        )


def connection_invite(
    *,
    clever_district_id: str,
    name: str,
    by: User | None,
    launch_date: dt.date | None = None,
) -> DistrictConnection:
    """Note that ops invited a district from Clever's dashboard, optionally with the future
    launch date set there (it connects when it accepts and its token appears)."""
    clever_district_id = _clean_clever_id(clever_district_id)
    today = _today()
    if launch_date is not None:
        _check_future(launch_date, today)
    with transaction.atomic():
        connection = _locked(clever_district_id)
        district = _rostering_district(clever_district_id)
        if connection is None and district is not None and district.status == "connected":
            raise GoLiveError(f"{district} is already connected.")
        if connection is not None:
            state = _current_state(connection)
            if state == State.REQUESTED:
                raise GoLiveError(
                    f"{connection} has asked to connect: approve the request instead of inviting."
                )
            if state not in (State.DECLINED, State.DISCONNECTED, State.INVITED):
                raise GoLiveError(f"{connection} is already {_label(state)}.")
        else:
            connection = DistrictConnection(clever_district_id=clever_district_id)
        connection.name = name.strip() or connection.name or (district.name if district else "")
        if not connection.name:
            raise GoLiveError("An invitation needs the district's name.")
        connection.state = State.INVITED
        connection.invited_at = timezone.now()
        connection.decided_by = by
        connection.district = district
        connection.launch_date = launch_date
        connection.save()
    return connection


def connection_schedule_launch(
    *, clever_district_id: str, launch_date: dt.date, by: User | None
) -> DistrictConnection:
    """Note the future launch date set (or changed) in Clever's dashboard; refused once the
    deciding launch date (Clever's, else our note) has passed, as Clever refuses it."""
    today = _today()
    with transaction.atomic():
        connection = _connection_for_update(clever_district_id)
        district = _rostering_district(connection.clever_district_id)
        state = connection.effective_state(today=today, district=district)
        launch = launch_of(district=district, connection=connection, today=today)
        # A passed date launched the district, unless it never connected (invited, or approved
        # with no token yet).
        if launch.launched and launch.date is not None and district is not None:
            whose = "Clever's launch date" if launch.from_clever else "its launch date"
            raise GoLiveError(
                f"{connection} launched on {launch.date:%Y-%m-%d} ({whose}): a launch date that "
                "has passed can no longer be changed (Clever support can help if the launch must "
                "be undone)."
            )
        if state not in (State.CONNECTED, State.INVITED, APPROVED):
            raise GoLiveError(
                f"A launch date needs a connected or invited district; {connection} is "
                f"{_label(state)}."
            )
        _check_future(launch_date, today)
        connection.launch_date = launch_date
        connection.decided_by = by
        connection.save()
    return connection


def connection_launch_now(*, clever_district_id: str, by: User | None) -> DistrictConnection:
    """Note that ops launched a connected district in Clever's dashboard today (Launch Now
    there): the Portal and logins follow Clever's launch date once the next read of its district
    record brings it; until Clever's has been read, this note lets logins in."""
    today = _today()
    with transaction.atomic():
        connection = _connection_for_update(clever_district_id)
        state = _current_state(connection)
        if state == State.LAUNCHED:
            raise GoLiveError(f"{connection} is already launched.")
        if state != State.CONNECTED:
            raise GoLiveError(
                f"Only a connected district can launch; {connection} is {_label(state)}."
            )
        # Launched is the connected state from the deciding launch date on (launch_of).
        connection.state = State.CONNECTED
        # Kept for the undo (connection_launch_undo), unless an earlier launch note holds it.
        if connection.launched_at is None:
            connection.launch_date_before = connection.launch_date
        connection.launch_date = today
        connection.launched_at = timezone.now()
        connection.launched_by = by
        connection.save()
    return connection


def connection_launch_undo(*, clever_district_id: str, by: User | None) -> DistrictConnection:
    """Take back a launch noted with "Mark launched in Clever today" (noted by mistake): the
    launch date noted before it comes back. Refused when Clever's own launch date has passed,
    since then the district launched in Clever whatever we noted (only Clever support undoes it).
    """
    today = _today()
    with transaction.atomic():
        connection = _connection_for_update(clever_district_id)
        district = _rostering_district(connection.clever_district_id)
        if connection.launched_at is None:
            raise GoLiveError(
                f"No launch of {connection} was noted here, so there is none to undo."
            )
        launch = launch_of(district=district, connection=connection, today=today)
        if launch.from_clever and launch.launched:
            raise GoLiveError(
                f"{connection} launched in Clever on {launch.date:%Y-%m-%d} (Clever's launch "
                "date): logins follow Clever's, so undoing our note would change nothing. Only "
                "Clever support can undo a launch."
            )
        if connection.state == State.LAUNCHED:
            connection.state = State.CONNECTED  # a row from before launch followed the date
        connection.launch_date = connection.launch_date_before
        connection.launch_date_before = None
        connection.launched_at = None
        connection.launched_by = None
        connection.decided_by = by
        connection.save()
    return connection


def connection_decline_undo(*, clever_district_id: str, by: User | None) -> DistrictConnection:
    """Take back a decline noted by mistake: the request shows pending again."""
    with transaction.atomic():
        connection = _connection_for_update(clever_district_id)
        state = _current_state(connection)
        if state != State.DECLINED:
            raise GoLiveError(
                f"Only a declined request can be taken back; {connection} is {_label(state)}."
            )
        connection.state = State.REQUESTED
        connection.decided_at = None
        connection.decided_by = None
        connection.note = "\n".join(
            line for line in connection.note.splitlines() if not line.startswith(DECLINED_NOTE)
        )
        connection.save()
    return connection


def connection_approve_undo(*, clever_district_id: str, by: User | None) -> DistrictConnection:
    """Take back an approval noted by mistake, while Clever has not connected the district: the
    request shows pending again."""
    with transaction.atomic():
        connection = _connection_for_update(clever_district_id)
        state = _current_state(connection)
        if state != APPROVED:
            raise GoLiveError(
                f"Only an approval Clever has not acted on yet can be taken back; {connection} "
                f"is {_label(state)}."
            )
        connection.state = State.REQUESTED
        connection.decided_at = None
        connection.decided_by = None
        connection.save()
    return connection


def _tester_candidate(district: District | None, clever_user_id: str) -> User:
    """The district's live synced user with this Clever id, or a GoLiveError saying why not."""
    if district is None:
        raise GoLiveError(
            "Launch testers are picked from the district's synced users: it has none until it "
            "connects and syncs."
        )
    user = selectors.tester_candidate(district=district, clever_user_id=clever_user_id)
    if user is None:
        raise GoLiveError(
            f"{district} has no synced user with Clever id {clever_user_id!r}: pick a tester by "
            "name from its synced users."
        )
    if user.archived_at is not None:
        raise GoLiveError(
            f"{user} is archived (Clever no longer shares them), so they cannot test the launch."
        )
    return user


def launch_tester_add(
    *, clever_district_id: str, clever_user_id: str, by: User, note: str = ""
) -> LaunchTester:
    """Let one synced user of a district log in here before the district launches."""
    clever_user_id = _clean_clever_id(clever_user_id, "user")
    with transaction.atomic():
        connection = _connection_for_update(clever_district_id)
        district = _rostering_district(connection.clever_district_id)
        if district is not None and district.status != District.Status.CONNECTED:
            raise GoLiveError(f"{district} is disconnected: its users cannot log in to test.")
        _tester_candidate(district, clever_user_id)
        tester, _ = LaunchTester.objects.update_or_create(
            connection=connection,
            clever_user_id=clever_user_id,
            defaults={"note": note.strip(), "added_by": by},
        )
    return tester


def launch_tester_remove(*, clever_district_id: str, clever_user_id: str, by: User) -> int:
    """Stop letting one Clever user log in before their district launches; 0 when they were
    not a tester."""
    clever_user_id = _clean_clever_id(clever_user_id, "user")
    with transaction.atomic():
        connection = _connection_for_update(clever_district_id)
        deleted, _ = LaunchTester.objects.filter(
            connection=connection, clever_user_id=clever_user_id
        ).delete()
    if not deleted:
        raise GoLiveError(f"Clever user {clever_user_id} is not a launch tester of {connection}.")
    return deleted
