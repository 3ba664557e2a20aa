"""The user support page lists a person's last Clever logins with the outcome of each: the
successes (sso.LoginRecord) and the refusals recorded once Clever named them (sso.LoginRefusal)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from golive.logincheck import LOGINS_SHOWN
from sso.models import LoginRecord, LoginRefusal
from tests.golive.factories import make_district, make_user

pytestmark = pytest.mark.django_db


def _at(record, minutes_ago: int) -> None:
    type(record).objects.filter(pk=record.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=minutes_ago)
    )


def _login(person, minutes_ago: int, *, client_id: str = "", entry_point: str = "portal"):
    record = LoginRecord.objects.create(
        user=person, user_type="teacher", client_id=client_id, entry_point=entry_point
    )
    _at(record, minutes_ago)


def _refusal(clever_user_id: str, kind: str, minutes_ago: int, *, client_id: str = ""):
    record = LoginRefusal.objects.create(
        clever_user_id=clever_user_id,
        kind=kind,
        user_type="teacher",
        entry_point="button",
        client_id=client_id,
    )
    _at(record, minutes_ago)


def _rows(page) -> list[str]:
    html = page.content.decode()
    table = html.split('data-testid="logins"')[1].split("</table>")[0]
    rows = re.findall(r'<tr data-testid="login" data-ok="(yes|no)">(.*?)</tr>', table, re.S)
    return [f"{ok} " + " ".join(re.sub(r"<[^>]+>", " ", cells).split()) for ok, cells in rows]


def test_the_page_lists_successes_and_refusals_newest_first(staff_client, settings):
    district = make_district()
    person = make_user(district, "teacher")
    other = make_user(district, "teacher")
    _login(person, 300, client_id=settings.CLEVER_CLIENT_ID)
    _refusal(person.clever_id, "not_launched", 200, client_id=settings.CLEVER_CLIENT_ID)
    _refusal(person.clever_id, "account_inactive", 100, client_id="the-dev-app")
    _login(person, 10, client_id=settings.CLEVER_CLIENT_ID, entry_point="button")
    _refusal(other.clever_id, "unsupported_type", 5)  # someone else's: not theirs

    page = staff_client.get(reverse("golive:login_check", args=[person.pk]))
    assert page.status_code == 200
    rows = _rows(page)
    assert [r.split(" UTC ", 1)[1] for r in rows] == [
        "teacher button logged in",
        "teacher button refused: account deactivated (through another Clever app, the-dev-app)",
        "teacher button refused: district not launched",
        "teacher portal logged in",
    ]
    assert [r.split()[0] for r in rows] == ["yes", "no", "no", "yes"]
    assert "Logins refused once Clever said who it was are kept 90 days" in page.content.decode()


def test_the_page_shows_the_last_ones_in_the_same_queries_however_many(staff_client):
    person = make_user(make_district(), "student")
    _login(person, 1)
    with CaptureQueriesContext(connection) as few:
        staff_client.get(reverse("golive:login_check", args=[person.pk]))
    for minutes in range(2, 40):
        _login(person, minutes * 2)
        _refusal(person.clever_id, "district_not_connected", minutes * 2 + 1)
    with CaptureQueriesContext(connection) as many:
        page = staff_client.get(reverse("golive:login_check", args=[person.pk]))
    assert len(many.captured_queries) == len(few.captured_queries)
    rows = _rows(page)
    assert len(rows) == LOGINS_SHOWN
    assert rows[1].endswith("logged in") and rows[2].endswith("refused: district not connected")


def test_a_person_never_logged_in_says_so(staff_client):
    person = make_user(make_district(), "student")
    page = staff_client.get(reverse("golive:login_check", args=[person.pk])).content.decode()
    assert "No Clever login recorded for them." in page
