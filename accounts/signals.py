"""Receivers for django.contrib.auth's signals."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from accounts import login_sql
from accounts.models import User


def last_login_update(sender: Any, user: User, **kwargs: Any) -> None:
    """On every login: stamp ``last_login`` on the instance and in its row, as Django's own
    ``update_last_login`` does, in one UPDATE of that column."""
    user.last_login = timezone.now()
    login_sql.last_login_update(user_id=user.pk, at=user.last_login)
