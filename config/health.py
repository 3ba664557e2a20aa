"""``GET /healthz``: are the database, the broker and the session cache reachable (when set)?"""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, connection.vendor
    except Exception as exc:
        return False, f"{type(exc).__name__}"


def _broker_ok() -> tuple[bool, str]:
    if not settings.CELERY_BROKER_URL:
        return True, "not configured: tasks run in-process"
    from config.celery import app

    try:
        with app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_max=0, timeout=2)
        return True, "reachable"
    except Exception as exc:
        return False, f"{type(exc).__name__}"


def _cache_ok() -> tuple[bool, str]:
    if not settings.CACHE_IS_SHARED:
        return True, "not configured: sessions are in the database"
    from django.core.cache import cache

    try:
        cache.get("healthz")
        return True, "reachable"
    except Exception as exc:
        return False, f"{type(exc).__name__}"


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    db_ok, db_detail = _database_ok()
    broker_ok, broker_detail = _broker_ok()
    cache_ok, cache_detail = _cache_ok()
    ok = db_ok and broker_ok and cache_ok
    return JsonResponse(
        {
            "status": "ok" if ok else "unavailable",
            "database": {"ok": db_ok, "detail": db_detail},
            "broker": {"ok": broker_ok, "detail": broker_detail},
            "cache": {"ok": cache_ok, "detail": cache_detail},
        },
        status=200 if ok else 503,
    )
