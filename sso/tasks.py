"""Housekeeping for Log in with Clever, run by Celery beat (CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task

from sso import services


@shared_task(ignore_result=True)
def prune_redeemed_codes() -> int:
    """Forget the hashes of codes redeemed over a day ago (Clever's codes live one minute)."""
    return services.redeemed_codes_prune()


@shared_task(ignore_result=True)
def prune_login_refusals() -> int:
    """Forget refused-login records older than CLEVER_LOGIN_REFUSALS_KEEP_DAYS."""
    return services.login_refusals_prune()
