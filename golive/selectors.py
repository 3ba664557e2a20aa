"""Reads about go-live state that other apps ask for."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accounts.models import User
    from rostering.models import District


def sso_block_reason(*, district: District, user: User | None) -> str | None:
    """Why this district's users may not log in yet (not launched), or None when they may.

    SSO calls this after identifying the district. Secure Sync never does: launch does not
    affect rostering.
    """
    # The launch model (golive issue) decides; with no launch tracking every connected district
    # may log in.
    return None
