"""The user admin: a Clever-linked account's Clever fields and powers cannot be changed by ops."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User
from tests.factories import CleverUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    ops = User.objects.create_superuser(username="root", password="pw-root-123456")
    client.force_login(ops)
    return client


def _form(user: User, **changes) -> dict:
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "middle_name": user.middle_name,
        "preferred_name": user.preferred_name,
        "source": user.source,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
        # The (read-only) links-to-Clever inline's management form, as the browser sends it.
        "link_history-TOTAL_FORMS": "0",
        "link_history-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_a_clever_linked_account_cannot_be_made_staff_or_renamed_in_the_admin(admin_client):
    student = CleverUserFactory(first_name="Molly", is_staff=False)
    url = reverse("admin:accounts_user_change", args=[student.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="is_staff"' not in page and 'name="is_superuser"' not in page
    assert 'name="first_name"' not in page  # shown, not editable: Clever owns it
    assert 'name="preferred_name"' in page  # ours to edit

    response = admin_client.post(
        url,
        _form(student, is_staff="on", is_superuser="on", first_name="Hacked", preferred_name="Mo"),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    student.refresh_from_db()
    assert not student.is_staff and not student.is_superuser
    assert student.first_name == "Molly" and student.preferred_name == "Mo"


def test_an_account_made_in_our_app_can_still_be_made_staff(admin_client):
    local = User.objects.create_user(username="ops2", password="pw-ops-123456")
    url = reverse("admin:accounts_user_change", args=[local.pk])
    response = admin_client.post(url, _form(local, is_staff="on", first_name="Olga"))
    assert response.status_code == 302, response.content.decode()[:2000]
    local.refresh_from_db()
    assert local.is_staff and local.first_name == "Olga"
