"""Named reads of accounts."""

from __future__ import annotations

from accounts import login_sql
from accounts.models import User


def user_by_clever_id(*, clever_id: str) -> User | None:
    """The account keyed by this Clever ID (made by the sync or an earlier login), if any."""
    return login_sql.user_by_clever_id(clever_id=clever_id)
