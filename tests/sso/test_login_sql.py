"""accounts.login_sql (and sso.login_sql's inserts) read and write the same rows the ORM would,
on PostgreSQL and SQLite alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user
from django.test import RequestFactory
from django.utils import timezone

from accounts import login_sql
from accounts.backends import AccountBackend
from accounts.models import User
from tests.factories import CleverUserFactory

pytestmark = pytest.mark.django_db


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_user_by_clever_id_is_the_orms_row_with_aware_times():
    user = CleverUserFactory(last_login=timezone.now() - timedelta(days=1))
    found = login_sql.user_by_clever_id(clever_id=user.clever_id)
    assert _fields(found) == _fields(User.objects.get(pk=user.pk))
    assert timezone.is_aware(found.last_login) and timezone.is_aware(found.date_joined)
    assert login_sql.user_by_clever_id(clever_id="0" * 24) is None


def test_user_by_pk():
    user = CleverUserFactory()
    assert _fields(login_sql.user_by_pk(pk=user.pk)) == _fields(User.objects.get(pk=user.pk))
    assert login_sql.user_by_pk(pk=user.pk + 1000) is None


def test_the_backend_keeps_inactive_users_out():
    user = CleverUserFactory()
    assert AccountBackend().get_user(user.pk) == user
    assert AccountBackend().get_user("not a number") is None
    user.is_active = False
    user.save()
    assert AccountBackend().get_user(user.pk) is None


def test_a_session_from_the_backend_loads_its_user(client):
    user = CleverUserFactory()
    client.force_login(user, backend="accounts.backends.AccountBackend")
    request = RequestFactory().get("/")
    request.session = client.session
    assert get_user(request) == user


def test_raw_inserts_store_times_as_the_orm_does():
    # An exact match through the ORM only works when the stored value has the ORM's own form
    # (on SQLite: naive UTC text, no "+00:00").
    from sso import login_sql as sso_sql
    from sso.models import LoginRecord, RedeemedCode

    at = timezone.now().replace(microsecond=123456)
    assert sso_sql.redeemed_code_insert(code_hash="h" * 64, at=at)
    assert not sso_sql.redeemed_code_insert(code_hash="h" * 64, at=at)
    assert RedeemedCode.objects.filter(created_at=at).count() == 1
    user = CleverUserFactory()
    sso_sql.login_record_insert(
        user_id=user.pk,
        user_type="teacher",
        district_id=user.district_id,
        production_credentials=True,
        client_id="prod-client",
        entry_point="portal",
        at=at,
    )
    record = LoginRecord.objects.get(created_at=at)
    assert (record.user, record.district_id) == (user, user.district_id)
    assert (
        record.user_type,
        record.production_credentials,
        record.client_id,
        record.entry_point,
    ) == ("teacher", True, "prod-client", "portal")


def test_every_login_stamps_last_login_in_the_row(client, clever, demo):
    from tests.sso.helpers import button_login

    teacher = demo.one("teacher")
    before = timezone.now()
    button_login(client, teacher["id"])
    stamped = User.objects.get(clever_id=teacher["id"]).last_login
    assert stamped is not None and before <= stamped <= timezone.now()
    assert User.objects.filter(last_login=stamped).count() == 1  # stored as the ORM stores it

    # Ops staff logging in to the admin with a password go through the same receiver.
    ops = User.objects.create_user("ops-person", password="a long enough password", is_staff=True)
    assert ops.last_login is None
    assert client.login(username="ops-person", password="a long enough password")
    ops.refresh_from_db()
    assert ops.last_login is not None and ops.last_login >= stamped
