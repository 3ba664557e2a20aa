"""How Django finds the logged-in user: its ModelBackend, with the per-request read made cheap."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from accounts import login_sql
from accounts.models import User


class AccountBackend(ModelBackend):
    """Django's ModelBackend; the session's user is read on every request, so through login_sql."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        user = login_sql.user_by_pk(pk=pk)
        return user if user is not None and self.user_can_authenticate(user) else None
