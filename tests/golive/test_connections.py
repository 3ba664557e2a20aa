"""Ops' notes of go-live steps done in Clever's dashboard (request, approve, decline, invite,
launch date, launch now), and what Clever's token list and district record say."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from golive.models import DistrictConnection, LaunchTester
from rostering.models import District
from tests.golive.factories import clever_id, make_district, make_user

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _row(response, clever_district_id: str):
    return next(r for r in response.context["rows"] if r.clever_district_id == clever_district_id)


def _post(client, name: str, data: dict | None = None, **kwargs):
    return client.post(reverse(f"golive:{name}", kwargs=kwargs), data or {}, follow=True)


def _row_html(response, clever_district_id: str) -> str:
    html = response.content.decode()
    return html.split(f'data-testid="district-{clever_district_id}"')[1].split("</tr>")[0]


def _days(n: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=n)).isoformat()


def test_a_recorded_request_is_pending_then_approved_then_connects_with_its_token(
    staff_client, staff
):
    cid = clever_id()
    page = _post(
        staff_client, "district_request", {"clever_district_id": cid, "name": "Shelbyville"}
    )
    assert (
        "Recorded Shelbyville's request to connect. Approve or decline it in Clever's dashboard "
        "(Pending Requests), then note it here." in _messages(page)
    )
    assert _row(page, cid).state == "requested"
    assert b"Requested (pending)" in page.content

    page = _post(staff_client, "district_approve", clever_id=cid)
    assert (
        "Noted: Shelbyville's request approved in Clever's dashboard. It connects when its token "
        "appears in Clever's token list (at the next token refresh, before each nightly sync); "
        "then it shows as connected and its data syncs." in _messages(page)
    )
    # Clever has not connected it yet: the page never says connected, nor offers a launch.
    row = _row(page, cid)
    assert (row.state, row.state_label, row.linked) == (
        "approved",
        "Approved in Clever (no token yet)",
        False,
    )
    assert not row.can_launch_now
    assert row.health == "not connected yet: no token in Clever's token list"
    row_html = _row_html(page, cid)
    assert 'data-state="approved"' in row_html and ">Connected<" not in row_html
    assert "Mark launched in Clever" not in row_html
    connection = DistrictConnection.objects.get(clever_district_id=cid)
    assert connection.decided_by == staff and connection.decided_at is not None

    # Clever connects it: its token appears in Clever's token list, and the refresh records it.
    District.objects.create(clever_id=cid, name="Shelbyville", status="connected")
    page = staff_client.get(reverse("golive:districts"))
    row = _row(page, cid)
    assert (row.state, row.state_label, row.linked, row.can_launch_now) == (
        "connected",
        "Connected",
        True,
        True,
    )


def test_a_declined_request_shows_declined_with_the_reason(staff_client):
    cid = clever_id()
    _post(staff_client, "district_request", {"clever_district_id": cid, "name": "Ogdenville"})
    page = _post(staff_client, "district_decline", {"reason": "Not a customer"}, clever_id=cid)
    row = _row(page, cid)
    assert row.state == "declined" and row.note == "Declined: Not a customer"
    # A declined request cannot then be approved.
    page = _post(staff_client, "district_approve", clever_id=cid)
    assert "Only a pending request can be approved; Ogdenville is declined." in _messages(page)
    assert _row(page, cid).state == "declined"


def test_invite_then_the_district_connects_through_the_token_list(staff_client):
    cid = clever_id()
    page = _post(
        staff_client,
        "district_invite",
        {"clever_district_id": cid, "name": "North Haverbrook", "launch_date": ""},
    )
    assert (
        "Noted: North Haverbrook invited from Clever's dashboard. It shows as connected once it "
        "accepts and its token appears in Clever's token list (at the next token refresh)."
        in _messages(page)
    )
    row = _row(page, cid)
    assert row.state == "invited" and not row.linked
    assert row.health == "not connected yet: the invitation is not accepted"
    assert ">Connected<" not in _row_html(page, cid)

    # The district accepts: its token appears in Clever's token list and the sync records it.
    District.objects.create(clever_id=cid, name="North Haverbrook", status="connected")
    page = staff_client.get(reverse("golive:districts"))
    row = _row(page, cid)
    assert row.state == "connected" and row.linked


def test_invite_refuses_a_district_that_asked_to_connect(staff_client):
    cid = clever_id()
    _post(staff_client, "district_request", {"clever_district_id": cid, "name": "Capital City"})
    page = _post(
        staff_client, "district_invite", {"clever_district_id": cid, "name": "Capital City"}
    )
    assert (
        "Capital City has asked to connect: approve the request instead of inviting."
        in _messages(page)
    )


def test_invite_with_a_past_launch_date_is_refused(staff_client):
    cid = clever_id()
    page = _post(
        staff_client,
        "district_invite",
        {"clever_district_id": cid, "name": "Brockway", "launch_date": _days(-1)},
    )
    assert any("The launch date must be in the future" in m for m in _messages(page))
    assert not DistrictConnection.objects.filter(clever_district_id=cid).exists()


def test_a_bad_district_id_is_refused_naming_it(staff_client):
    page = _post(
        staff_client, "district_invite", {"clever_district_id": "springfield", "name": "X"}
    )
    assert (
        "'springfield' is not a Clever district id: Clever ids are 24 hexadecimal characters "
        "(Clever dashboard > the district's page)." in _messages(page)
    )


def test_an_invalid_launch_date_is_refused_naming_it(staff_client):
    district = make_district()
    page = _post(
        staff_client,
        "district_schedule",
        {"launch_date": "2026-13-45"},
        clever_id=district.clever_id,
    )
    assert "Launch date: '2026-13-45' is not a date: use YYYY-MM-DD, e.g. 2026-12-01." in _messages(
        page
    )
    assert _row(page, district.clever_id).launch_date is None


def test_schedule_then_reschedule_a_future_launch(staff_client):
    district = make_district("Springfield USD")
    cid = district.clever_id
    page = _post(staff_client, "district_schedule", {"launch_date": _days(10)}, clever_id=cid)
    assert (
        f"Noted Springfield USD's launch date in Clever: {_days(10)}. Clever's launch date has "
        "not been read yet: it appears here at the next sync or token refresh, and until then "
        "this note decides logins." in _messages(page)
    )
    row = _row(page, cid)
    assert row.state == "connected" and row.launch_date.isoformat() == _days(10)
    assert not row.launch_from_clever

    page = _post(staff_client, "district_schedule", {"launch_date": _days(3)}, clever_id=cid)
    assert _row(page, cid).launch_date.isoformat() == _days(3)
    launch_cell = _row_html(page, cid).split('data-testid="launch"')[1].split("</td>")[0]
    assert f'<span class="nowrap" data-testid="our-launch">{_days(3)}</span>' in launch_cell
    assert "our note. Clever's not read yet: our note decides logins" in launch_cell


@pytest.mark.parametrize("days", [0, -2])
def test_a_launch_date_today_or_past_is_refused(staff_client, days):
    district = make_district()
    page = _post(
        staff_client,
        "district_schedule",
        {"launch_date": _days(days)},
        clever_id=district.clever_id,
    )
    assert any(
        m.startswith("The launch date must be in the future")
        and "Use Mark launched in Clever for a launch today" in m
        for m in _messages(page)
    )
    assert _row(page, district.clever_id).launch_date is None


def test_a_passed_launch_date_launches_and_can_no_longer_be_changed(staff_client, clock):
    district = make_district("Springfield USD")
    cid = district.clever_id
    launch = _days(2)
    _post(staff_client, "district_schedule", {"launch_date": launch}, clever_id=cid)
    assert _row(staff_client.get(reverse("golive:districts")), cid).state == "connected"

    clock.advance(days=3)
    page = staff_client.get(reverse("golive:districts"))
    assert _row(page, cid).state == "launched"
    page = _post(staff_client, "district_schedule", {"launch_date": _days(5)}, clever_id=cid)
    assert (
        f"Springfield USD launched on {launch} (its launch date): a launch date that has passed "
        "can no longer be changed (Clever support can help if the launch must be undone)."
        in _messages(page)
    )
    assert _row(page, cid).launch_date.isoformat() == launch


def test_launch_now(staff_client, staff):
    district = make_district("Springfield USD")
    page = _post(staff_client, "district_launch", clever_id=district.clever_id)
    assert (
        "Noted: Springfield USD launched in Clever's dashboard today. Clever's launch date has "
        "not been read yet: it appears here at the next sync or token refresh, and until then "
        "this note decides logins." in _messages(page)
    )
    row = _row(page, district.clever_id)
    assert row.state == "launched" and row.launch_date == timezone.localdate()
    connection = DistrictConnection.objects.get(district=district)
    assert connection.launched_by == staff and connection.launched_at is not None
    # Launching again, or rescheduling a launched district, is refused.
    page = _post(staff_client, "district_launch", clever_id=district.clever_id)
    assert "Springfield USD is already launched." in _messages(page)


def test_launch_now_needs_a_connected_district(staff_client):
    cid = clever_id()
    _post(staff_client, "district_request", {"clever_district_id": cid, "name": "Shelbyville"})
    page = _post(staff_client, "district_launch", clever_id=cid)
    assert "Only a connected district can launch; Shelbyville is requested (pending)." in _messages(
        page
    )
    assert _row(page, cid).state == "requested"


def test_a_disconnected_district_shows_disconnected_and_cannot_launch(staff_client):
    district = make_district("Springfield USD", status="disconnected")
    page = staff_client.get(reverse("golive:districts"))
    assert _row(page, district.clever_id).state == "disconnected"
    page = _post(staff_client, "district_launch", clever_id=district.clever_id)
    assert "Only a connected district can launch; Springfield USD is disconnected." in _messages(
        page
    )


def test_unknown_district_actions_say_so(staff_client):
    cid = clever_id()
    page = _post(staff_client, "district_launch", clever_id=cid)
    assert f"No district {cid} has asked to connect, been invited or connected." in _messages(page)


def test_add_a_launch_tester(staff_client, staff):
    district = make_district()
    teacher = make_user(district, "teacher")
    page = _post(
        staff_client,
        "district_tester",
        {"clever_user_id": teacher.clever_id, "note": "Ms Krabappel"},
        clever_id=district.clever_id,
    )
    assert (
        f"{teacher.display_name} may log in before launch (a launch tester of {district})."
        in _messages(page)
    )
    row = _row(staff_client.get(reverse("golive:districts")), district.clever_id)
    assert row.testers == 1 and row.tester_names == [teacher.display_name]
    tester = LaunchTester.objects.get()
    assert tester.clever_user_id == teacher.clever_id and tester.added_by == staff


def test_a_request_for_a_connected_district_is_refused(staff_client):
    district = make_district("Springfield USD")
    page = _post(
        staff_client,
        "district_request",
        {"clever_district_id": district.clever_id, "name": "Springfield USD"},
    )
    assert "Springfield USD is already connected." in _messages(page)
    assert _row(page, district.clever_id).state == "connected"


def test_an_invited_district_whose_date_passed_before_it_connected_gets_a_new_date(
    staff_client, clock
):
    cid = clever_id()
    _post(
        staff_client,
        "district_invite",
        {"clever_district_id": cid, "name": "Brockway", "launch_date": _days(1)},
    )
    clock.advance(days=2)
    page = staff_client.get(reverse("golive:districts"))
    assert _row(page, cid).state == "invited"  # never connected, so never launched
    page = _post(staff_client, "district_schedule", {"launch_date": _days(7)}, clever_id=cid)
    assert any(
        m.startswith(f"Noted Brockway's launch date in Clever: {_days(7)}.")
        for m in _messages(page)
    )


def test_a_district_that_launched_then_disconnected_keeps_its_passed_date(staff_client, staff):
    district = make_district("Springfield USD")
    _post(staff_client, "district_launch", clever_id=district.clever_id)
    District.objects.filter(pk=district.pk).update(status="disconnected")
    page = _post(
        staff_client, "district_schedule", {"launch_date": _days(4)}, clever_id=district.clever_id
    )
    assert any("launch date that has passed can no longer be changed" in m for m in _messages(page))
    assert _row(page, district.clever_id).state == "disconnected"


# --- Clever's launch date decides; ours is a note ------------------------------------------------


def _clever_launch(district: District, days: int | None) -> None:
    """What the last read of Clever's district record said of its launch date."""
    district.clever_launch_date = (
        None if days is None else timezone.localdate() + dt.timedelta(days=days)
    )
    district.clever_state_checked_at = timezone.now()
    district.save()


def test_a_district_launched_in_clever_shows_launched_without_any_note_of_ours(staff_client):
    district = make_district("Springfield USD")
    _clever_launch(district, -3)
    page = staff_client.get(reverse("golive:districts"))
    row = _row(page, district.clever_id)
    assert (row.state, row.launch_from_clever, row.launch_date.isoformat()) == (
        "launched",
        True,
        _days(-3),
    )
    assert not row.launch_differs and not row.can_launch_now
    assert f'data-testid="clever-launch">{_days(-3)}</span>' in _row_html(page, district.clever_id)
    # Its launch has passed in Clever: a new date cannot be noted.
    page = _post(
        staff_client, "district_schedule", {"launch_date": _days(5)}, clever_id=district.clever_id
    )
    assert (
        f"Springfield USD launched on {_days(-3)} (Clever's launch date): a launch date that has "
        "passed can no longer be changed (Clever support can help if the launch must be undone)."
        in _messages(page)
    )


def test_our_launch_date_differing_from_clevers_is_shown_and_clevers_decides(staff_client):
    district = make_district("Springfield USD")
    cid = district.clever_id
    _post(staff_client, "district_launch", clever_id=cid)  # ops noted a launch today...
    _clever_launch(district, 10)  # ...but Clever's district record still says in ten days
    page = staff_client.get(reverse("golive:districts"))
    row = _row(page, cid)
    assert (row.state, row.launch_date.isoformat(), row.our_launch_date) == (
        "connected",
        _days(10),
        timezone.localdate(),
    )
    assert row.launch_from_clever and row.launch_differs
    assert (
        f'<span class="fail" data-testid="launch-differs">ours: {_days(0)}, differs from '
        "Clever's; logins follow Clever's</span>" in _row_html(page, cid)
    )
    # Noting the launch again says what Clever's record said when last read.
    page = _post(staff_client, "district_launch", clever_id=cid)
    (message,) = _messages(page)
    assert message.startswith(
        "Noted: Springfield USD launched in Clever's dashboard today. Clever's launch date, as "
        "last read ("
    )
    assert message.endswith(
        f"), is {_days(10)}, and logins follow it; a change made in Clever's dashboard shows "
        "here at the next sync or token refresh."
    )


def test_a_district_clever_gave_no_launch_date_falls_back_to_our_note(staff_client):
    district = make_district("Springfield USD")
    _clever_launch(district, None)  # read, but no launch date we could use
    page = staff_client.get(reverse("golive:districts"))
    assert _row(page, district.clever_id).state == "connected"
    assert (
        "Clever gave no launch date (read "
        f"{district.clever_state_checked_at:%Y-%m-%d %H:%M} UTC): logins wait for Clever's or a "
        "noted launch" in _row_html(page, district.clever_id)
    )
