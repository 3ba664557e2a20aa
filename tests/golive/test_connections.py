"""District connections: request, approve, decline, invite, schedule, reschedule, launch now."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from golive.models import DistrictConnection, LaunchTester
from rostering.models import District
from tests.golive.factories import clever_id, make_district

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _row(response, clever_district_id: str):
    return next(r for r in response.context["rows"] if r.clever_district_id == clever_district_id)


def _post(client, name: str, data: dict | None = None, **kwargs):
    return client.post(reverse(f"golive:{name}", kwargs=kwargs), data or {}, follow=True)


def _days(n: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=n)).isoformat()


def test_a_recorded_request_is_pending_then_approved(staff_client, staff):
    cid = clever_id()
    page = _post(
        staff_client, "district_request", {"clever_district_id": cid, "name": "Shelbyville"}
    )
    assert "Recorded Shelbyville's request to connect." in _messages(page)
    assert _row(page, cid).state == "requested"
    assert b"Requested (pending)" in page.content

    page = _post(staff_client, "district_approve", clever_id=cid)
    assert "Approved Shelbyville: it is connected." in _messages(page)
    assert _row(page, cid).state == "connected"
    connection = DistrictConnection.objects.get(clever_district_id=cid)
    assert connection.decided_by == staff and connection.decided_at is not None


def test_a_declined_request_shows_declined_with_the_reason(staff_client):
    cid = clever_id()
    _post(staff_client, "district_request", {"clever_district_id": cid, "name": "Ogdenville"})
    page = _post(staff_client, "district_decline", {"reason": "Not a customer"}, clever_id=cid)
    row = _row(page, cid)
    assert row.state == "declined" and row.note == "Not a customer"
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
    assert "Invited North Haverbrook." in _messages(page)
    row = _row(page, cid)
    assert row.state == "invited" and not row.linked and row.health == "not connected yet"

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
    assert f"Springfield USD launches on {_days(10)}." in _messages(page)
    row = _row(page, cid)
    assert row.state == "connected" and row.launch_date.isoformat() == _days(10)

    page = _post(staff_client, "district_schedule", {"launch_date": _days(3)}, clever_id=cid)
    assert _row(page, cid).launch_date.isoformat() == _days(3)
    assert f'<td data-testid="launch" class="nowrap">{_days(3)}</td>'.encode() in page.content


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
        m.startswith("The launch date must be in the future") and "Use Launch now" in m
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
        f"Springfield USD launched on {launch}: a launch date that has passed can no longer be "
        "changed (Clever support can help if the launch must be undone)." in _messages(page)
    )
    assert _row(page, cid).launch_date.isoformat() == launch


def test_launch_now(staff_client, staff):
    district = make_district("Springfield USD")
    page = _post(staff_client, "district_launch", clever_id=district.clever_id)
    assert (
        "Launched Springfield USD: its users can log in and see the app in the Clever Portal."
        in _messages(page)
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
    user_id = clever_id()
    page = _post(
        staff_client,
        "district_tester",
        {"clever_user_id": user_id, "note": "Ms Krabappel"},
        clever_id=district.clever_id,
    )
    assert f"Clever user {user_id} may log in before launch." in _messages(page)
    assert _row(page, district.clever_id).testers == 1
    tester = LaunchTester.objects.get()
    assert tester.clever_user_id == user_id and tester.added_by == staff


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
    assert f"Brockway launches on {_days(7)}." in _messages(page)


def test_a_district_that_launched_then_disconnected_keeps_its_passed_date(staff_client, staff):
    district = make_district("Springfield USD")
    _post(staff_client, "district_launch", clever_id=district.clever_id)
    District.objects.filter(pk=district.pk).update(status="disconnected")
    page = _post(
        staff_client, "district_schedule", {"launch_date": _days(4)}, clever_id=district.clever_id
    )
    assert any("launch date that has passed can no longer be changed" in m for m in _messages(page))
    assert _row(page, district.clever_id).state == "disconnected"
