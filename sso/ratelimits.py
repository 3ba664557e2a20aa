"""How often one client address may hit the login button and the callback (django-ratelimit).

Counted in the default cache (Redis in production, so every worker shares the count); without
``CACHE_URL`` each process counts alone. Whole schools often share one address (NAT), so the
default limit, ``CLEVER_LOGIN_RATE_LIMIT``, is set for a school's morning rush, not for one
person; what it stops is one address hammering the login for nothing.
"""

from __future__ import annotations

import ipaddress
import logging

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

logger = logging.getLogger(__name__)

GROUP = "sso.login"


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind ``TRUSTED_PROXY_COUNT`` proxies the address
    the outermost one saw (X-Forwarded-For, counted from the right, where proxies append)."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxies:
            candidate = hops[-proxies]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                logger.warning("X-Forwarded-For entry is not an address; using REMOTE_ADDR")
    return remote


def _key(group: str, request: HttpRequest) -> str:
    address = client_address(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    # One IPv6 client usually holds a whole /64.
    network = ipaddress.ip_network(f"{ip}/{64 if ip.version == 6 else 32}", strict=False)
    return str(network.network_address)


def login_rate_limited(request: HttpRequest) -> int:
    """Count this request against its address; seconds until it may try again (0: go ahead)."""
    rate = settings.CLEVER_LOGIN_RATE_LIMIT
    if not rate:
        return 0
    try:
        usage = get_usage(request, group=GROUP, key=_key, rate=rate, increment=True)
    except Exception as exc:
        # The cache is down: the login cannot keep a session either, so do not add a refusal
        # of our own; the outage shows in /healthz.
        logger.warning("login rate limit not counted: %s", type(exc).__name__)
        return 0
    if not usage or not usage["should_limit"]:
        return 0
    return max(1, usage["time_left"])
