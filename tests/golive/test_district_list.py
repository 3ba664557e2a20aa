"""The district list: state, launch date, live sharing counts and last sync, without N+1."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from golive import services
from golive.selectors import district_rows
from rostering.models import School, Section
from tests.golive.factories import clever_id, make_district, make_roster, make_run, make_user

pytestmark = pytest.mark.django_db


def _row(rows, district):
    return next(r for r in rows if r.clever_district_id == district.clever_id)


def test_counts_are_live_records_only(staff):
    district = make_district("Springfield USD")
    make_roster(district, schools=2, sections=3, students=4, teachers=2)
    # Archived records are not shared any more: they are not counted.
    School.objects.create(clever_id=clever_id(), district=district, archived_at="2026-01-01T00:00Z")
    Section.objects.create(
        clever_id=clever_id(), district=district, archived_at="2026-01-01T00:00Z"
    )
    make_user(district, "student", archived=True)
    other = make_district("Shelbyville")
    make_roster(other, schools=1, sections=1, students=1, teachers=1)

    row = _row(district_rows(), district)
    assert (row.schools, row.sections, row.students, row.teachers) == (2, 3, 4, 2)
    assert (_row(district_rows(), other).students) == 1


def test_last_sync_and_health(staff):
    healthy, failing, stale, never = (make_district(n) for n in ("A", "B", "C", "D"))
    make_run(healthy, "failed", ago=dt.timedelta(hours=30))
    make_run(healthy, "succeeded", ago=dt.timedelta(hours=2))
    make_run(failing, "succeeded", ago=dt.timedelta(hours=30))
    make_run(failing, "failed", ago=dt.timedelta(hours=1))
    make_run(stale, "succeeded", ago=dt.timedelta(days=4))
    rows = district_rows()

    assert _row(rows, healthy).last_sync_status == "succeeded"
    assert (_row(rows, healthy).health, _row(rows, healthy).healthy) == ("healthy", True)
    assert _row(rows, failing).last_sync_status == "failed"
    assert (_row(rows, failing).health, _row(rows, failing).healthy) == ("last sync failed", False)
    assert _row(rows, stale).health.startswith("stale: last good sync")
    assert (_row(rows, never).health, _row(rows, never).last_sync_status) == ("no sync yet", "")


def test_the_page_shows_who_is_live_and_healthy(staff_client, staff):
    live = make_district("Springfield USD")
    make_roster(live, schools=2, sections=5, students=7, teachers=3)
    make_run(live, "succeeded")
    services.connection_launch_now(clever_district_id=live.clever_id, by=staff)
    make_district("Shelbyville")

    page = staff_client.get(reverse("golive:districts"))
    html = page.content.decode()
    assert page.status_code == 200
    row_html = html.split(f'data-testid="district-{live.clever_id}"')[1].split("</tr>")[0]
    assert 'data-state="launched"' in row_html
    for cell in (
        '<td data-label="Schools" class="num">2</td>',
        '<td data-label="Sections" class="num">5</td>',
        ">7<",
        ">3<",
    ):
        assert cell in row_html
    assert "succeeded" in row_html and ">healthy<" in row_html
    assert "Shelbyville" in html


def _build(n: int, staff) -> None:
    for i in range(n):
        district = make_district(f"District {i}")
        make_roster(district, schools=1, sections=2, students=2, teachers=1)
        make_run(district)
        tester = district.users.filter(clever_id__isnull=False).first()
        services.launch_tester_add(
            clever_district_id=district.clever_id, clever_user_id=tester.clever_id, by=staff
        )
        if i % 2:
            services.connection_launch_now(clever_district_id=district.clever_id, by=staff)
    services.connection_invite(clever_district_id=clever_id(), name="Invited", by=staff)


def test_the_district_list_takes_three_queries_whatever_the_number(
    staff, django_assert_num_queries
):
    _build(2, staff)
    with django_assert_num_queries(3):
        assert len(district_rows()) == 3
    _build(6, staff)
    with django_assert_num_queries(3):
        rows = district_rows()
    assert len(rows) == 10 and sum(len(r.tester_names) for r in rows) == 8


def test_the_district_page_does_not_grow_queries_with_districts(staff_client, staff):
    _build(1, staff)
    with CaptureQueriesContext(connection) as few:
        staff_client.get(reverse("golive:districts"))
    _build(8, staff)
    with CaptureQueriesContext(connection) as many:
        page = staff_client.get(reverse("golive:districts"))
    assert len(page.context["rows"]) == 11
    assert len(many.captured_queries) == len(few.captured_queries)


# --- Clever's own view of the district: launch date and its SIS sync -----------------------------


def _row_html(page, district) -> str:
    html = page.content.decode()
    return html.split(f'data-testid="district-{district.clever_id}"')[1].split("</tr>")[0]


def _clever_state(district, **fields) -> None:
    for name, value in fields.items():
        setattr(district, name, value)
    district.clever_state_checked_at = timezone.now()
    district.save()


def test_a_failing_or_paused_sis_sync_to_clever_shows_with_its_date(staff_client):
    failing, paused, waiting, fine = (make_district(n) for n in ("A", "B", "C", "D"))
    _clever_state(
        failing,
        clever_state="error",
        clever_error="students.csv could not be read",
        clever_last_sync=dt.datetime(2026, 11, 30, 3, 15, tzinfo=dt.UTC),
    )
    _clever_state(
        paused,
        clever_state="paused",
        clever_pause_start=dt.datetime(2026, 6, 20, tzinfo=dt.UTC),
        clever_pause_end=dt.datetime(2027, 8, 15, tzinfo=dt.UTC),
    )
    _clever_state(waiting, clever_state="pending", clever_last_sync=None)
    _clever_state(
        fine, clever_state="success", clever_last_sync=dt.datetime(2026, 12, 1, 2, tzinfo=dt.UTC)
    )
    page = staff_client.get(reverse("golive:districts"))
    rows = {r.name: r for r in page.context["rows"]}
    assert (rows["A"].sis_problem, rows["A"].sis_note) == (
        "error",
        "SIS sync to Clever failing: students.csv could not be read. Last SIS sync "
        "2026-11-30 03:15 UTC. Clever has to fix it.",
    )
    assert (rows["B"].sis_problem, rows["B"].sis_note) == (
        "paused",
        "SIS sync to Clever paused from 2026-06-20 00:00 UTC until 2027-08-15 00:00 UTC: "
        "Clever shares last school year's data.",
    )
    assert (rows["C"].sis_problem, rows["C"].sis_note) == (
        "pending",
        "SIS sync to Clever waits on the district.",
    )
    assert rows["D"].sis_problem == ""
    assert 'data-testid="sis-error"' in _row_html(page, failing)
    assert "2026-11-30 03:15 UTC" in _row_html(page, failing)
    assert 'data-testid="sis-paused"' in _row_html(page, paused)
    assert "from 2026-06-20 00:00 UTC until 2027-08-15 00:00 UTC" in _row_html(page, paused)
    assert "sis-" not in _row_html(page, fine) and "Clever's SIS sync 2026-12-01 02:00" in (
        _row_html(page, fine)
    )


def test_a_pause_window_under_way_shows_though_clevers_state_says_otherwise(staff):
    district = make_district()
    _clever_state(
        district,
        clever_state="success",
        clever_pause_start=timezone.now() - dt.timedelta(days=1),
        clever_pause_end=None,
    )
    row = _row(district_rows(), district)
    assert row.sis_problem == "paused" and "until" not in row.sis_note


def test_the_page_shows_where_our_launch_date_and_clevers_differ(staff_client, staff):
    district = make_district("Springfield USD")
    launch = timezone.localdate() + dt.timedelta(days=30)
    services.connection_schedule_launch(
        clever_district_id=district.clever_id, launch_date=launch, by=staff
    )
    _clever_state(district, clever_launch_date=launch + dt.timedelta(days=2))
    page = staff_client.get(reverse("golive:districts"))
    row = _row(page.context["rows"], district)
    assert row.launch_differs and row.launch_date == launch + dt.timedelta(days=2)
    html = _row_html(page, district)
    assert f'data-testid="clever-launch">{launch + dt.timedelta(days=2):%Y-%m-%d}<' in html
    assert f"ours: {launch:%Y-%m-%d}, differs from Clever's; logins follow Clever's" in html

    # The same date: no difference shown.
    _clever_state(district, clever_launch_date=launch)
    page = staff_client.get(reverse("golive:districts"))
    assert not _row(page.context["rows"], district).launch_differs
    assert "differs" not in _row_html(page, district)
    assert "ours: the same" in _row_html(page, district)


def test_the_page_says_go_live_steps_are_done_in_clevers_dashboard(staff_client):
    html = staff_client.get(reverse("golive:districts")).content.decode()
    section = html.split('data-testid="done-in-clever"')[1].split("</section>")[0]
    assert "The buttons on this page only note what ops did there" in section
    assert "its token appears in Clever's token list and we see it at the next token refresh" in (
        section
    )
    assert "We read Clever's launch date from its district record at every sync" in section
    # No button claims to approve, connect or launch anything itself.
    for claim in (">Approve<", ">Launch now<", ">Invite<", "it is connected"):
        assert claim not in html


def test_a_district_without_a_clever_id_never_breaks_the_page(client, django_user_model):
    from django.contrib.auth.models import Permission

    from rostering.models import District

    ops = django_user_model.objects.create_user("ops2", password="x", is_staff=True)
    ops.user_permissions.add(Permission.objects.get(codename="change_districtconnection"))
    client.force_login(ops)
    # Rows saved before a Clever id was required (Admin, Add district, with the id left blank).
    District.objects.create(clever_id="", name="")
    make_district("Springfield USD")
    response = client.get("/golive/districts/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Springfield USD" in html and 'data-testid="broken"' in html
