"""Login flows in progress, kept in a signed cookie: one-time, expiring ``state`` values.

A flow starts on our button (entry point "button") or when a Clever-initiated callback arrives
without ``state`` (entry point "portal") and we bounce it back to Clever with a fresh one. Each
state is bound to this browser (it is in a cookie only this browser holds, signed with
SECRET_KEY so it cannot be made up), usable once (the callback's response rewrites the cookie
without it, and the code it came with can be posted to Clever only once), and expires.

Why a cookie and not the session: a flow is all an anonymous visitor has. In the session every
hit on the login button or a state-less callback stored a session (a row, or a Redis key) that
nobody ever used; in a cookie an unauthenticated request stores nothing on our side, and the
session is written only once a login has passed the state check.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core import signing
from django.utils.http import url_has_allowed_host_and_scheme

COOKIE_NAME = "clever_login"
_SALT = "sso.flows"
# The session of a completed login remembers a keyed hash of its code, so that a refresh of
# that callback (the same code) goes home instead of ending the session it made.
LOGIN_CODE_SESSION_KEY = "clever_login_code"
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
_FLOW_FIELDS = {"state", "nonce", "next_path", "entry_point", "started_at"}


@dataclass
class Pending:
    """This browser's flows in progress and recent state-less bounces, as its cookie says."""

    flows: dict[str, dict[str, Any]] = field(default_factory=dict)
    bounces: list[float] = field(default_factory=list)
    changed: bool = False

    def cookie_value(self) -> str:
        """The signed cookie value ("" when nothing is pending: delete the cookie)."""
        if not self.flows and not self.bounces:
            return ""
        return signing.dumps({"f": self.flows, "b": self.bounces}, salt=_SALT, compress=True)


def pending_load(value: str | None) -> Pending:
    """The flows in this cookie value; none when it is missing, tampered with or malformed."""
    if not value:
        return Pending()
    try:
        data = signing.loads(value, salt=_SALT)
    except signing.BadSignature:
        return Pending(changed=True)
    flows = data.get("f") if isinstance(data, dict) else None
    bounces = data.get("b") if isinstance(data, dict) else None
    if not isinstance(flows, dict) or not isinstance(bounces, list):
        return Pending(changed=True)
    flows = {
        state: flow
        for state, flow in flows.items()
        if isinstance(flow, dict) and set(flow) == _FLOW_FIELDS
    }
    return Pending(flows=flows, bounces=[t for t in bounces if isinstance(t, (int, float))])


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


def flow_start(pending: Pending, *, entry_point: str, next_path: str = "") -> Flow:
    """Create a one-time state (and OIDC nonce) among this browser's pending flows."""
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
        for state, data in pending.flows.items()
        if now - data.get("started_at", 0) < FLOW_TTL_SECONDS
    }
    flows[flow.state] = asdict(flow)
    if len(flows) > MAX_PENDING_FLOWS:
        oldest_first = sorted(flows.items(), key=lambda item: item[1]["started_at"])
        flows = dict(oldest_first[-MAX_PENDING_FLOWS:])
    pending.flows = flows
    pending.changed = True
    return flow


def flow_consume(pending: Pending, *, state: str) -> Flow:
    """Take the flow for ``state`` out of the pending flows (once), or raise why it cannot be
    used."""
    data = pending.flows.pop(state, None) if state else None
    if data is None:
        raise StateMismatch
    pending.changed = True
    flow = Flow(**data)
    if time.time() - flow.started_at >= FLOW_TTL_SECONDS:
        raise StateExpired
    return flow


def portal_bounce_allowed(pending: Pending) -> None:
    """Count a state-less bounce; raise TooManyBounces when Clever seems to drop our state."""
    now = time.time()
    recent = [t for t in pending.bounces if now - t < BOUNCE_WINDOW_SECONDS]
    if len(recent) >= MAX_BOUNCES_IN_WINDOW:
        raise TooManyBounces
    recent.append(now)
    pending.bounces = recent
    pending.changed = True


def bounces_clear(pending: Pending) -> None:
    """Forget the bounces once a login completed."""
    if pending.bounces:
        pending.bounces = []
        pending.changed = True
