"""Fixtures for the go-live tests: a staff user and client, and a clock that moves."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.models import User


@pytest.fixture
def staff(db) -> User:
    """An ops person who manages go-live (staff, with the go-live change permission)."""
    user = User.objects.create_user(
        username="ops", password="ops-pass-1234", is_staff=True, email="ops@example.com"
    )
    user.user_permissions.add(Permission.objects.get(codename="change_districtconnection"))
    return user


@pytest.fixture
def staff_client(client, staff, settings):
    # Tests move the clock by days (``clock``); a session (12 hours) kept in the database would
    # expire with it.
    settings.SESSION_COOKIE_AGE = 365 * 24 * 3600
    client.force_login(staff)
    return client


class Clock:
    """Moves ``timezone.now`` (and so ``localdate``) to simulate days passing."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch
        self._offset = dt.timedelta()
        real_now = timezone.now
        monkeypatch.setattr(timezone, "now", lambda: real_now() + self._offset)

    def advance(self, **kwargs: float) -> None:
        self._offset += dt.timedelta(**kwargs)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)
