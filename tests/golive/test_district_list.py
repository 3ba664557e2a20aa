"""The district list: state, launch date, live sharing counts and last sync, without N+1."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

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
    for cell in ('<td class="num">2</td>', '<td class="num">5</td>', ">7<", ">3<"):
        assert cell in row_html
    assert "succeeded" in row_html and ">healthy<" in row_html
    assert "Shelbyville" in html


def _build(n: int, staff) -> None:
    for i in range(n):
        district = make_district(f"District {i}")
        make_roster(district, schools=1, sections=2, students=2, teachers=1)
        make_run(district)
        if i % 2:
            services.connection_launch_now(clever_district_id=district.clever_id, by=staff)
    services.connection_invite(clever_district_id=clever_id(), name="Invited", by=staff)


def test_the_district_list_takes_two_queries_whatever_the_number(staff, django_assert_num_queries):
    _build(2, staff)
    with django_assert_num_queries(2):
        assert len(district_rows()) == 3
    _build(6, staff)
    with django_assert_num_queries(2):
        assert len(district_rows()) == 10


def test_the_district_page_does_not_grow_queries_with_districts(staff_client, staff):
    _build(1, staff)
    with CaptureQueriesContext(connection) as few:
        staff_client.get(reverse("golive:districts"))
    _build(8, staff)
    with CaptureQueriesContext(connection) as many:
        page = staff_client.get(reverse("golive:districts"))
    assert len(page.context["rows"]) == 11
    assert len(many.captured_queries) == len(few.captured_queries)
