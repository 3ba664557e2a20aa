"""The go-live districts page's actions on every state: a confirmed launch note and its undo,
undoing a decline or an approval, launch testers picked by name and removed; no state beside a
sentence that contradicts it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from golive import services
from golive.models import DistrictConnection, LaunchTester
from golive.selectors import sso_block_reason
from rostering.models import District
from tests.golive.factories import clever_id, make_district, make_roster, make_user

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _row(response, cid: str):
    return next(r for r in response.context["rows"] if r.clever_district_id == cid)


def _row_html(response, cid: str) -> str:
    html = response.content.decode()
    return html.split(f'data-testid="district-{cid}"')[1].split("</tr>")[0]


def _post(client, name: str, data: dict | None = None, **kwargs):
    return client.post(reverse(f"golive:{name}", kwargs=kwargs), data or {}, follow=True)


def _days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)


# --- Mark launched: confirmed, then undone -------------------------------------------------------


def test_marking_a_launch_asks_first_saying_what_it_does(staff_client):
    district = make_district("Springfield USD")
    make_roster(district, students=3, teachers=2)
    page = staff_client.get(reverse("golive:district_launch", args=[district.clever_id]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Mark Springfield USD launched in Clever today?" in html
    assert "Noting it here launches nothing" in html
    assert (
        "Clever's launch date has not been read yet, so from now this note decides: 3 students "
        "and 2 teachers of Springfield USD can log in" in html
    )
    # Asking changed nothing.
    assert not DistrictConnection.objects.filter(launched_at__isnull=False).exists()
    page = _post(staff_client, "district_launch", clever_id=district.clever_id)
    assert _row(page, district.clever_id).state == "launched"


def test_the_confirmation_says_clevers_date_decides_when_read(staff_client):
    district = make_district("Springfield USD")
    district.clever_launch_date = _days(10)
    district.clever_state_checked_at = timezone.now()
    district.save()
    html = staff_client.get(
        reverse("golive:district_launch", args=[district.clever_id])
    ).content.decode()
    assert f"is {_days(10):%Y-%m-%d}, and logins follow it: this note lets no one in" in html


def test_the_confirmation_of_a_district_that_cannot_launch_goes_back_saying_why(staff_client):
    cid = clever_id()
    services.connection_request_record(clever_district_id=cid, name="Ogdenville")
    page = staff_client.get(reverse("golive:district_launch", args=[cid]), follow=True)
    assert (
        "Ogdenville is requested (pending): only a connected district that has not launched "
        "can be marked launched." in _messages(page)
    )
    page = staff_client.get(reverse("golive:district_launch", args=["f" * 24]), follow=True)
    assert f"No district {'f' * 24} has asked to connect, been invited or connected." in (
        _messages(page)
    )


def test_undoing_a_launch_note_brings_back_the_date_noted_before_and_refuses_logins_again(
    staff_client, staff, settings
):
    settings.CLEVER_APP_ENVIRONMENT = "production"  # launch gates logins only there
    district = make_district("Springfield USD")
    make_roster(district, students=4, teachers=1)
    student = User.objects.filter(district=district, clever_roles__role="student").first()
    _post(
        staff_client,
        "district_schedule",
        {"launch_date": _days(9).isoformat()},
        clever_id=district.clever_id,
    )
    assert sso_block_reason(district=district, user=student) is not None
    page = _post(staff_client, "district_launch", clever_id=district.clever_id)
    row = _row(page, district.clever_id)
    assert row.state == "launched" and row.can_undo_launch and not row.can_launch_now
    assert sso_block_reason(district=district, user=student) is None
    assert "Undo launch note" in _row_html(page, district.clever_id)

    confirm = staff_client.get(reverse("golive:district_launch_undo", args=[district.clever_id]))
    html = confirm.content.decode()
    assert "Take back the launch noted for Springfield USD?" in html
    assert "by ops" in html
    assert (
        "4 students and 1 teacher of Springfield USD are refused again (staff and launch "
        f"testers excepted) until {_days(9):%Y-%m-%d}, the launch date noted before" in html
    )
    assert _row(staff_client.get(reverse("golive:districts")), district.clever_id).state == (
        "launched"
    )  # asking changed nothing

    page = _post(staff_client, "district_launch_undo", clever_id=district.clever_id)
    (message,) = _messages(page)
    assert message.startswith(
        "Took back the launch noted for Springfield USD: Clever's dashboard is unchanged. The "
        f"launch date noted before, {_days(9):%Y-%m-%d}, is back."
    )
    row = _row(page, district.clever_id)
    assert (row.state, row.launch_date, row.can_launch_now, row.can_undo_launch) == (
        "connected",
        _days(9),
        True,
        False,
    )
    connection = DistrictConnection.objects.get(clever_district_id=district.clever_id)
    assert connection.launched_at is None and connection.launched_by is None
    assert sso_block_reason(district=district, user=student) is not None
    # Nothing left to undo.
    page = _post(staff_client, "district_launch_undo", clever_id=district.clever_id)
    assert "No launch of Springfield USD was noted here, so there is none to undo." in (
        _messages(page)
    )


def test_a_launch_clever_made_cannot_be_undone_here(staff_client):
    district = make_district("Springfield USD")
    _post(staff_client, "district_launch", clever_id=district.clever_id)
    district.clever_launch_date = _days(-1)
    district.clever_state_checked_at = timezone.now()
    district.save()
    page = staff_client.get(reverse("golive:districts"))
    row = _row(page, district.clever_id)
    assert row.state == "launched" and not row.can_undo_launch
    assert "Undo launch note" not in _row_html(page, district.clever_id)
    page = _post(staff_client, "district_launch_undo", clever_id=district.clever_id)
    assert any(
        m.startswith(f"Springfield USD launched in Clever on {_days(-1):%Y-%m-%d}")
        and "Only Clever support can undo a launch." in m
        for m in _messages(page)
    )
    assert _row(page, district.clever_id).state == "launched"


# --- Declines and approvals taken back ------------------------------------------------------------


def test_a_decline_can_be_taken_back(staff_client):
    cid = clever_id()
    services.connection_request_record(
        clever_district_id=cid, name="Ogdenville", note="Asked at the conference"
    )
    page = _post(staff_client, "district_decline", {"reason": "Wrong district"}, clever_id=cid)
    assert _row(page, cid).note == "Asked at the conference\nDeclined: Wrong district"
    assert "Undo decline" in _row_html(page, cid)
    page = _post(staff_client, "district_decline_undo", clever_id=cid)
    assert (
        "Took back the decline: Ogdenville's request shows pending again. If it was declined in "
        "Clever's dashboard, the district has to ask again there." in _messages(page)
    )
    row = _row(page, cid)
    assert row.state == "requested" and row.can_approve
    assert row.note == "Asked at the conference"  # the decline's reason went with it
    page = _post(staff_client, "district_decline_undo", clever_id=cid)
    assert (
        "Only a declined request can be taken back; Ogdenville is requested (pending)."
        in _messages(page)
    )


def test_an_approval_clever_has_not_acted_on_can_be_taken_back(staff_client):
    cid = clever_id()
    services.connection_request_record(clever_district_id=cid, name="Ogdenville")
    _post(staff_client, "district_approve", clever_id=cid)
    page = _post(staff_client, "district_approve_undo", clever_id=cid)
    assert _row(page, cid).state == "requested"
    _post(staff_client, "district_approve", clever_id=cid)
    District.objects.create(clever_id=cid, name="Ogdenville", status="connected")
    page = _post(staff_client, "district_approve_undo", clever_id=cid)
    assert (
        "Only an approval Clever has not acted on yet can be taken back; Ogdenville is connected."
        in _messages(page)
    )


# --- Launch testers by name --------------------------------------------------------------------


def _testers_page(client, district, q: str = ""):
    return client.get(reverse("golive:district_testers", args=[district.clever_id]), {"q": q})


def test_testers_are_found_by_name_added_listed_and_removed(staff_client, staff):
    district = make_district("Springfield USD")
    edna = make_user(district, "teacher")
    User.objects.filter(pk=edna.pk).update(first_name="Edna", last_name="Krabappel")
    seymour = make_user(district, "teacher")
    User.objects.filter(pk=seymour.pk).update(first_name="Seymour", last_name="Skinner")
    gone = make_user(district, "teacher", archived=True)
    User.objects.filter(pk=gone.pk).update(first_name="Edna", last_name="Gone")
    elsewhere = make_user(make_district("Shelbyville"), "teacher")
    User.objects.filter(pk=elsewhere.pk).update(first_name="Edna", last_name="Elsewhere")

    page = _testers_page(staff_client, district, "edna")
    found = [u.display_name for u in page.context["found"]]
    # Only the district's live users: not the archived one, nor another district's.
    assert found == ["Edna Krabappel"]
    assert edna.clever_id not in page.content.decode().split('data-testid="results"')[0]
    assert [
        u.display_name for u in _testers_page(staff_client, district, "sey skin").context["found"]
    ] == ["Seymour Skinner"]
    assert "No live synced user of Springfield USD matches" in (
        _testers_page(staff_client, district, "nobody").content.decode()
    )

    page = _post(
        staff_client,
        "district_tester",
        {"clever_user_id": edna.clever_id},
        clever_id=district.clever_id,
    )
    assert page.request["PATH_INFO"] == reverse(
        "golive:district_testers", args=[district.clever_id]
    )
    assert (
        "Edna Krabappel may log in before launch (a launch tester of Springfield USD)."
        in _messages(page)
    )
    assert [t.name for t in page.context["testers"]] == ["Edna Krabappel"]
    assert "Teacher" in page.content.decode() or "teacher" in page.content.decode()
    # A tester is no longer offered by the search.
    assert not _testers_page(staff_client, district, "edna").context["found"]
    districts = staff_client.get(reverse("golive:districts"))
    assert "Testers: Edna Krabappel" in _row_html(districts, district.clever_id)

    page = _post(
        staff_client,
        "district_tester_remove",
        {"clever_user_id": edna.clever_id},
        clever_id=district.clever_id,
    )
    assert (
        "Edna Krabappel is no longer a launch tester: they log in when the district launches."
        in _messages(page)
    )
    assert not LaunchTester.objects.exists()
    assert 'data-testid="no-testers"' in page.content.decode()


def test_a_tester_must_be_a_live_synced_user_of_the_district(staff_client):
    district = make_district("Springfield USD")
    gone = make_user(district, "teacher", archived=True)
    elsewhere = make_user(make_district("Shelbyville"), "teacher")
    for person, words in (
        (elsewhere, "Springfield USD has no synced user with Clever id"),
        (gone, "is archived (Clever no longer shares them)"),
    ):
        page = _post(
            staff_client,
            "district_tester",
            {"clever_user_id": person.clever_id},
            clever_id=district.clever_id,
        )
        assert any(words in m for m in _messages(page)), _messages(page)
    page = _post(
        staff_client,
        "district_tester",
        {"clever_user_id": "krabappel"},
        clever_id=district.clever_id,
    )
    assert any("'krabappel' is not a Clever user id" in m for m in _messages(page))
    assert not LaunchTester.objects.exists()


def test_testers_can_be_added_after_launch_and_say_when_they_matter(staff_client, staff):
    district = make_district("Springfield USD")
    teacher = make_user(district, "teacher")
    services.connection_launch_now(clever_district_id=district.clever_id, by=staff)
    page = staff_client.get(reverse("golive:districts"))
    assert _row(page, district.clever_id).can_add_tester
    page = _post(
        staff_client,
        "district_tester",
        {"clever_user_id": teacher.clever_id},
        clever_id=district.clever_id,
    )
    assert "has launched, so everyone may log in now" in page.content.decode()
    assert "(needed only if the launch moves later)" in _row_html(
        staff_client.get(reverse("golive:districts")), district.clever_id
    )


def test_a_tester_we_hold_no_user_for_is_listed_by_id_and_removable(staff_client, staff):
    district = make_district("Springfield USD")
    connection = DistrictConnection.objects.create(
        clever_district_id=district.clever_id, district=district, state="connected"
    )
    old_id = clever_id()
    LaunchTester.objects.create(connection=connection, clever_user_id=old_id)
    page = _testers_page(staff_client, district)
    assert f"Clever user {old_id}" in page.content.decode() and "not in the synced roster" in (
        page.content.decode()
    )
    _post(
        staff_client,
        "district_tester_remove",
        {"clever_user_id": old_id},
        clever_id=district.clever_id,
    )
    assert not LaunchTester.objects.exists()


def test_a_district_not_connected_yet_offers_no_tester_search(staff_client):
    cid = clever_id()
    services.connection_invite(clever_district_id=cid, name="Brockway", by=None)
    page = staff_client.get(reverse("golive:districts"))
    assert "picked by name once it connects" in _row_html(page, cid)
    page = _post(staff_client, "district_tester", {"clever_user_id": clever_id()}, clever_id=cid)
    assert any("picked from the district's synced users" in m for m in _messages(page))


# --- Every state: its actions, and nothing that contradicts it -----------------------------------

CONTRADICTIONS = {
    # state: words that must not appear in its row
    "requested": [">Connected<", ">Launched<", "healthy"],
    "approved": [">Connected<", "Mark launched", "healthy"],
    "invited": [">Connected<", "Mark launched", "healthy"],
    "declined": [">Connected<", "not connected yet", "Mark launched"],
    "connected": ["not connected", ">Launched<", "Undo launch"],
    "launched": ["not connected", ">Connected<", "Mark launched"],
    "disconnected": [">Connected<", "not connected yet", "Mark launched", "healthy"],
}
ACTIONS = {
    "requested": ["Mark approved in Clever", "Mark declined in Clever"],
    "approved": ["Undo approval", "Note launch date set in Clever"],
    "invited": ["Note launch date set in Clever"],
    "declined": ["Undo decline"],
    "connected": ["Mark launched in Clever today", "Add or remove testers"],
    "launched": ["Undo launch note", "Add or remove testers"],
    "disconnected": ["reconnects the app in Clever's dashboard"],
}


def test_every_state_has_its_actions_and_nothing_contradicting_it(staff_client, staff):
    ids = {}
    for state in ("requested", "approved", "declined"):
        ids[state] = clever_id()
        services.connection_request_record(clever_district_id=ids[state], name=state.title())
    services.connection_approve(clever_district_id=ids["approved"], by=staff)
    services.connection_decline(clever_district_id=ids["declined"], by=staff)
    ids["invited"] = clever_id()
    services.connection_invite(clever_district_id=ids["invited"], name="Invited", by=staff)
    ids["connected"] = make_district("Connected").clever_id
    ids["launched"] = make_district("Launched").clever_id
    services.connection_launch_now(clever_district_id=ids["launched"], by=staff)
    ids["disconnected"] = make_district("Gone", status="disconnected").clever_id

    page = staff_client.get(reverse("golive:districts"))
    for state, cid in ids.items():
        html = _row_html(page, cid)
        assert f'data-state="{state}"' in html
        for words in CONTRADICTIONS[state]:
            assert words not in html, (state, words)
        for words in ACTIONS[state]:
            assert words in html, (state, words)
        assert _row(page, cid).has_actions or state == "disconnected"


# --- Permission ----------------------------------------------------------------------------------

ACTION_URLS = [
    ("get", "golive:district_launch"),
    ("get", "golive:district_launch_undo"),
    ("post", "golive:district_launch_undo"),
    ("post", "golive:district_decline_undo"),
    ("post", "golive:district_approve_undo"),
    ("post", "golive:district_tester"),
    ("post", "golive:district_tester_remove"),
]


@pytest.mark.parametrize(("method", "name"), ACTION_URLS)
def test_every_action_needs_the_go_live_permission(client, django_user_model, method, name):
    district = make_district()
    teacher = make_user(district, "teacher")
    viewer = django_user_model.objects.create_user(username="support", password="x", is_staff=True)
    client.force_login(viewer)
    url = reverse(name, args=[district.clever_id])
    response = getattr(client, method)(url, {"clever_user_id": teacher.clever_id})
    assert response.status_code == 403
    assert not DistrictConnection.objects.exists()
    # The tester list itself is readable by staff, with no buttons.
    page = client.get(reverse("golive:district_testers", args=[district.clever_id]))
    assert page.status_code == 200 and "Add a tester" not in page.content.decode()
    viewer.user_permissions.add(Permission.objects.get(codename="change_districtconnection"))
    client.force_login(django_user_model.objects.get(pk=viewer.pk))
    assert getattr(client, method)(url, {"clever_user_id": teacher.clever_id}).status_code in (
        200,
        302,
    )


def test_action_pages_fit_a_phone_without_inline_style_or_script(staff_client, staff):
    district = make_district("Springfield USD")
    make_user(district, "teacher")
    services.connection_launch_now(clever_district_id=district.clever_id, by=staff)
    for url in (
        reverse("golive:districts"),
        reverse("golive:district_launch_undo", args=[district.clever_id]),
        reverse("golive:district_testers", args=[district.clever_id]) + "?q=a",
    ):
        html = staff_client.get(url).content.decode()
        assert 'name="viewport"' in html
        assert not re.search(r"\sstyle=|<style|<script(?![^>]*\ssrc=)", html), url


def test_the_admin_lists_testers_but_adds_none_by_id(client, staff):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    district = make_district()
    teacher = make_user(district, "teacher")
    services.launch_tester_add(
        clever_district_id=district.clever_id, clever_user_id=teacher.clever_id, by=staff
    )
    connection = DistrictConnection.objects.get()
    page = client.get(reverse("admin:golive_districtconnection_change", args=[connection.pk]))
    html = page.content.decode()
    assert teacher.clever_id in html and 'name="testers-0-DELETE"' in html
    assert 'name="testers-__prefix__-clever_user_id"' not in html
