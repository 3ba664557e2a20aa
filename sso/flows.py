"""Login flows in progress, kept in the browser's session: one-time, expiring ``state`` values.

A flow starts on our button (entry point "button") or when a Clever-initiated callback arrives
without ``state`` (entry point "portal") and we bounce it back to Clever with a fresh one. Each
state is bound to this session, usable once, and expires.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass

from django.contrib.sessions.backends.base import SessionBase
from django.utils.http import url_has_allowed_host_and_scheme

SESSION_KEY = "clever_flows"
BOUNCES_KEY = "clever_portal_bounces"
# Clever's codes live one minute; a person may dawdle on Clever's pages, so allow ten.
FLOW_TTL_SECONDS = 600
# A few tabs may start logins at once; older flows beyond this are dropped.
MAX_PENDING_FLOWS = 5
# State-less callbacks bounced to Clever within this window; more means Clever is not returning
# our state and bouncing again would loop.
BOUNCE_WINDOW_SECONDS = 60
MAX_BOUNCES_IN_WINDOW = 3

ENTRY_BUTTON = "button"
ENTRY_PORTAL = "portal"


@dataclass(frozen=True)
class Flow:
    state: str
    nonce: str
    next_path: str
    entry_point: str
    started_at: float


class StateMismatch(Exception):
    """The callback's state is not one this session started (forged, replayed or stale)."""


class StateExpired(Exception):
    """The callback's state was ours but is too old."""


class TooManyBounces(Exception):
    """Clever keeps sending state-less callbacks; stop bouncing."""


def safe_next(value: str | None) -> str:
    """``value`` when it is a path on this site, else "" (no open redirects)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return ""
    if any(ch in value for ch in "\r\n\t\\") or "://" in value.split("?", 1)[0]:
        return ""
    if not url_has_allowed_host_and_scheme(value, allowed_hosts=None, require_https=False):
        return ""
    return value


def flow_start(session: SessionBase, *, entry_point: str, next_path: str = "") -> Flow:
    """Create a one-time state (and OIDC nonce) in this session."""
    flow = Flow(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        next_path=safe_next(next_path),
        entry_point=entry_point,
        started_at=time.time(),
    )
    now = flow.started_at
    flows = {
        state: data
        for state, data in (session.get(SESSION_KEY) or {}).items()
        if now - data.get("started_at", 0) < FLOW_TTL_SECONDS
    }
    flows[flow.state] = asdict(flow)
    if len(flows) > MAX_PENDING_FLOWS:
        oldest_first = sorted(flows.items(), key=lambda item: item[1]["started_at"])
        flows = dict(oldest_first[-MAX_PENDING_FLOWS:])
    session[SESSION_KEY] = flows
    return flow


def flow_consume(session: SessionBase, *, state: str) -> Flow:
    """Take the flow for ``state`` out of the session (once), or raise why it cannot be used."""
    flows = dict(session.get(SESSION_KEY) or {})
    data = flows.pop(state, None) if state else None
    if data is None:
        raise StateMismatch
    session[SESSION_KEY] = flows
    flow = Flow(**data)
    if time.time() - flow.started_at >= FLOW_TTL_SECONDS:
        raise StateExpired
    return flow


def portal_bounce_allowed(session: SessionBase) -> None:
    """Count a state-less bounce; raise TooManyBounces when Clever seems to drop our state."""
    now = time.time()
    recent = [t for t in session.get(BOUNCES_KEY) or [] if now - t < BOUNCE_WINDOW_SECONDS]
    if len(recent) >= MAX_BOUNCES_IN_WINDOW:
        raise TooManyBounces
    recent.append(now)
    session[BOUNCES_KEY] = recent
