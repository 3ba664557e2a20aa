"""The admin's banner of what needs ops now (held and failed runs, districts not syncing)."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from rostering.alerts import ops_alerts

register = template.Library()


@register.inclusion_tag("rostering/ops_alerts.html")
def ops_alerts_banner() -> dict[str, Any]:
    return {"alerts": ops_alerts(), "stale_hours": settings.CLEVER_SYNC_STALE_HOURS}
