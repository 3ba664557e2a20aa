"""The support view of the roster: read-only lists of schools, terms, courses, sections and
enrolments, filtered and searched, in a query count that does not grow with districts; a section
with its teachers in order; a user's page with roles and sections; a district added by hand needs
a Clever id or a CSV key, and a district page with its counts and recent runs."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from rostering.models import District, Section, SectionStudent, SyncRun
from tests.sync.conftest import sync

pytestmark = pytest.mark.django_db

LISTS = ("school", "term", "course", "section", "sectionstudent", "syncrun", "district")


@pytest.fixture
def ops(client):
    user = User.objects.create_superuser("ops", "ops@example.com", "pw-for-tests-only")
    client.force_login(user)
    return client


def _count(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries), response.content.decode()


def test_roster_lists_cost_the_same_queries_at_one_and_many_districts(ops, cert, lake):
    sync(cert)
    one = {name: _count(ops, reverse(f"admin:rostering_{name}_changelist"))[0] for name in LISTS}
    sync(lake)
    sync(lake)
    for name in LISTS:
        many, _ = _count(ops, reverse(f"admin:rostering_{name}_changelist"))
        assert many == one[name], (name, one[name], many)
    # Filters by district, school, term and archived; search by name.
    url = reverse("admin:rostering_section_changelist")
    section = Section.objects.filter(district=cert, term__isnull=False).first()
    filtered = ops.get(
        url,
        {
            "district__id__exact": cert.pk,
            "school__id__exact": section.school_id,
            "term__id__exact": section.term_id,
            "archived": "no",
            "q": section.name,
        },
    ).content.decode()
    assert section.name in filtered
    enrolments = reverse("admin:rostering_sectionstudent_changelist")
    student = SectionStudent.objects.filter(section__district=lake).select_related("user").first()
    found = ops.get(enrolments, {"q": student.user.last_name}).content.decode()
    assert student.user.last_name in found


def test_synced_data_is_read_only_and_a_section_lists_teachers_in_order(ops, cert):
    sync(cert)
    section = Section.objects.filter(district=cert, teacher_links__isnull=False).first()
    url = reverse("admin:rostering_section_change", args=[section.pk])
    page = ops.get(url).content.decode()
    assert "Teachers (primary first)" in page and "Students" in page
    assert 'type="submit" value="Save"' not in page  # read-only
    assert ops.post(url, {"name": "renamed"}).status_code == 403
    section.refresh_from_db()
    assert section.name != "renamed"
    assert ops.get(reverse("admin:rostering_section_add")).status_code == 403


def test_user_page_shows_the_roster_without_the_digest(ops, cert):
    sync(cert)
    teacher = User.objects.filter(district=cert, teaching_links__position=0).first()
    page = ops.get(reverse("admin:accounts_user_change", args=[teacher.pk])).content.decode()
    assert 'data-testid="user-roles"' in page and "Teacher" in page
    assert 'data-testid="user-sections"' in page and "primary teacher" in page
    assert "Sync digest" not in page
    assert reverse("golive:login_check", args=[teacher.pk]) in page
    check = ops.get(reverse("golive:login_check", args=[teacher.pk])).content.decode()
    assert "Type supported" in check


def test_a_district_is_added_by_hand_only_with_a_clever_id_or_a_csv_key(ops):
    url = reverse("admin:rostering_district_add")
    response = ops.post(url, {"clever_id": "", "csv_key": "", "name": "Nameless"})
    assert response.status_code == 200
    assert "Give the district&#x27;s Clever id" in response.content.decode()
    assert not District.objects.exists()
    response = ops.post(url, {"clever_id": "has space", "csv_key": "", "name": "x"})
    assert "no spaces or colons" in response.content.decode()
    response = ops.post(url, {"clever_id": "5a7b6c2e9f1d3e4a5b6c7d8e", "name": "Springfield"})
    assert response.status_code == 302
    district = District.objects.get(clever_id="5a7b6c2e9f1d3e4a5b6c7d8e")
    # Not connected until Clever's token list holds it; the go-live page still works.
    assert district.status == District.Status.DISCONNECTED
    assert ops.get(reverse("golive:districts")).status_code == 200
    response = ops.post(url, {"clever_id": "", "csv_key": "pine-valley", "name": "Pine Valley"})
    assert response.status_code == 302
    assert District.objects.get(csv__key="pine-valley").source == District.Source.CSV


def test_district_page_has_sync_now_test_connection_counts_and_runs(ops, cert):
    run = sync(cert)
    page = ops.get(reverse("admin:rostering_district_change", args=[cert.pk])).content.decode()
    assert 'data-testid="sync-now"' in page and 'data-testid="test-connection"' in page
    assert 'data-testid="district-counts"' in page and ">89<" in page
    assert reverse("admin:rostering_syncrun_change", args=[run.pk]) in page
    response = ops.post(reverse("admin:rostering_district_test", args=[cert.pk]), follow=True)
    assert "Token valid; district Certification ISD reachable." in response.content.decode()
    assert ops.get(reverse("admin:rostering_district_sync", args=[cert.pk])).status_code == 405
    assert SyncRun.objects.filter(district=cert).count() == 1
