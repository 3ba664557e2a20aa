"""Housekeeping for who is logged in, run by Celery beat (CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task

from accounts.sessions import sessions_expired_clear


@shared_task(ignore_result=True)
def clear_expired_sessions() -> None:
    """Delete sessions past SESSION_COOKIE_AGE, so database rows do not pile up."""
    sessions_expired_clear()
