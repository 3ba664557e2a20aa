"""Refused logins recorded per person once Clever has said who logged in: the kind, type, entry
point and client id, never a code or token; one INSERT on the refusal's path, none added to a
success; pruned after CLEVER_LOGIN_REFUSALS_KEEP_DAYS by Celery beat."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from sso.models import LoginRecord, LoginRefusal
from sso.tasks import prune_login_refusals
from tests.sso.helpers import at_clever, button_login, path_and_query, query, start_login

pytestmark = pytest.mark.django_db


def _refusal(settings, clever_user_id: str, kind: str, user_type: str) -> LoginRefusal:
    (row,) = LoginRefusal.objects.all()
    assert (row.clever_user_id, row.kind, row.user_type, row.entry_point, row.client_id) == (
        clever_user_id,
        kind,
        user_type,
        "button",
        settings.CLEVER_CLIENT_ID,
    )
    assert timezone.now() - row.created_at < timedelta(minutes=1)
    return row


def _values(row: LoginRefusal) -> str:
    return " ".join(str(getattr(row, f.attname)) for f in LoginRefusal._meta.fields)


def test_an_unsupported_type_is_recorded_under_the_clever_user(client, clever, demo, settings):
    staff = demo.one("staff", where=lambda u: "teacher" not in u["roles"])
    response, callback_url = button_login(client, staff["id"], as_role="staff")
    assert response.status_code == 403
    row = _refusal(settings, staff["id"], "unsupported_type", "staff")
    assert row.get_kind_display() == "refused: their type is not supported"
    # The code and state of the login are nowhere in the row; the success table is untouched.
    for secret in (query(callback_url)["code"], query(callback_url)["state"]):
        assert secret not in _values(row)
    assert not LoginRecord.objects.exists()
    assert not User.objects.filter(clever_id=staff["id"]).exists()


def test_a_district_not_connected_is_recorded(client, clever, demo, settings):
    teacher = demo.one("teacher")
    callback_url = at_clever(start_login(client), teacher["id"])
    clever.world.disconnect(demo.district_id)
    assert client.get(path_and_query(callback_url)).status_code == 403
    _refusal(settings, teacher["id"], "district_not_connected", "teacher")


def test_a_district_not_launched_is_recorded(client, clever, demo, settings, monkeypatch):
    from sso import gates

    monkeypatch.setattr(gates, "_gates", [lambda **kw: "Launch is scheduled for 1 December."])
    teacher = demo.one("teacher")
    response, _ = button_login(client, teacher["id"])
    assert response.status_code == 403
    row = _refusal(settings, teacher["id"], "not_launched", "teacher")
    assert "December" not in _values(row)  # the kind only, not the page's words


def test_a_deactivated_account_is_recorded_and_its_earlier_success_kept(
    client, clever, demo, settings
):
    teacher = demo.one("teacher")
    button_login(client, teacher["id"])
    User.objects.filter(clever_id=teacher["id"]).update(is_active=False)
    response, _ = button_login(Client(), teacher["id"])
    assert response.status_code == 403
    _refusal(settings, teacher["id"], "account_inactive", "teacher")
    assert LoginRecord.objects.count() == 1


def test_clever_failing_after_it_named_the_person_is_recorded(client, clever, demo, settings):
    settings.CLEVER_HTTP_TIMEOUT = 0.5
    teacher = demo.one("teacher")
    callback_url = at_clever(start_login(client), teacher["id"])
    clever.world.faults.add("/v3.0/users/", "502")
    assert client.get(path_and_query(callback_url)).status_code == 503
    _refusal(settings, teacher["id"], "clever_unavailable", "teacher")


def test_a_user_record_of_another_district_is_recorded_as_unusable(client, clever, demo, settings):
    teacher = demo.one("teacher")
    callback_url = at_clever(start_login(client), teacher["id"])
    clever.world.update_record("users", teacher["id"], district="0" * 24)
    assert client.get(path_and_query(callback_url)).status_code == 502
    _refusal(settings, teacher["id"], "clever_rejected", "teacher")


@pytest.mark.parametrize(("prefix", "kind"), [("/oauth/tokens", "503"), ("/v3.0/me", "500")])
def test_a_failure_before_clever_names_anyone_records_nothing(client, clever, demo, prefix, kind):
    callback_url = at_clever(start_login(client), demo.one("teacher")["id"])
    clever.world.faults.add(prefix, kind)
    assert client.get(path_and_query(callback_url)).status_code == 503
    forged = at_clever(start_login(client), demo.one("teacher")["id"], state="forged")
    assert client.get(path_and_query(forged)).status_code == 400
    assert not LoginRefusal.objects.exists()


def test_a_refusal_costs_one_insert(client, clever, demo, settings, django_assert_max_num_queries):
    staff = demo.one("staff", where=lambda u: "teacher" not in u["roles"])
    callback_url = at_clever(start_login(client), staff["id"], as_role="staff")
    with django_assert_max_num_queries(20) as refused:
        client.get(path_and_query(callback_url))
    inserts = [q["sql"] for q in refused.captured_queries if q["sql"].startswith("INSERT")]
    assert sum("sso_loginrefusal" in q for q in inserts) == 1
    assert not any("sso_loginrecord" in q for q in inserts)


def test_a_success_touches_no_refusal_table(client, clever, demo, django_assert_max_num_queries):
    with django_assert_max_num_queries(30) as ctx:
        response, _ = button_login(client, demo.one("teacher")["id"])
    assert response.status_code == 302
    assert LoginRecord.objects.count() == 1
    assert not any("sso_loginrefusal" in q["sql"] for q in ctx.captured_queries)


def test_refusals_are_pruned_after_the_kept_days_by_celery_beat(client, clever, demo, settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["prune-login-refusals"]
    assert schedule["task"] == prune_login_refusals.name
    assert settings.CLEVER_LOGIN_REFUSALS_KEEP_DAYS == 90
    staff = demo.one("staff", where=lambda u: "teacher" not in u["roles"])
    for _ in range(2):
        button_login(Client(), staff["id"], as_role="staff")
    old, recent = LoginRefusal.objects.order_by("pk")
    LoginRefusal.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=90, minutes=1)
    )
    LoginRefusal.objects.filter(pk=recent.pk).update(created_at=timezone.now() - timedelta(days=89))
    assert prune_login_refusals() == 1
    assert list(LoginRefusal.objects.values_list("pk", flat=True)) == [recent.pk]
    settings.CLEVER_LOGIN_REFUSALS_KEEP_DAYS = 30
    assert prune_login_refusals() == 1
    assert not LoginRefusal.objects.exists()
