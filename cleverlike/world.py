"""The look-alike's state: districts and their records, the app, codes, tokens, events, faults.

One ``world`` per process, shared by the server threads; every method takes the lock. Records
are kept serialised (compact JSON bytes, sorted id lists per type and role) so a district of a
million students fits in memory and a 10,000-record page is served by slicing and joining.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from cleverlike.build import (
    RECORD_TYPES,
    USER_ROLES,
    build_district,
    display_name,
    district_id_for,
    dumps,
    timestamp,
)
from rostering.csvformat import parse_folder

CODE_LIFETIME_SECONDS = 60
ID_TOKEN_LIFETIME_SECONDS = 3600
REQUEST_LOG_MAX = 100_000
FAULT_KINDS = ("500", "502", "503", "429", "401", "timeout", "html")
# The fields of Clever's district record tests may set (World.district_state_set).
DISTRICT_STATE_FIELDS = ("launch_date", "state", "pause_start", "pause_end", "last_sync", "error")
# Created/updated events are emitted parents first; deletions children first.
_EVENT_ORDER = ("districts", "schools", "terms", "courses", "users", "sections")
# The login type a multi-role user gets when no role was chosen.
LOGIN_ROLE_ORDER = ("student", "teacher", "staff", "district_admin", "contact")


@dataclass
class App:
    """A Clever app registered with the look-alike (client credentials and redirect URIs)."""

    client_id: str
    client_secret: str
    redirect_uris: list[str]
    oidc: bool = True


@dataclass
class Code:
    """An authorization code waiting to be exchanged."""

    user_id: str
    district_id: str
    client_id: str
    redirect_uri: str
    login_type: str
    nonce: str | None
    issued_at: float
    used: bool = False


@dataclass
class UserToken:
    """An SSO (user) bearer token."""

    user_id: str
    district_id: str
    login_type: str
    client_id: str


@dataclass
class Event:
    """One entry of the events feed."""

    id: str
    district_id: str
    record_type: str
    schools: frozenset[str]
    payload: bytes


@dataclass
class DistrictState:
    """One district: its records by type (shared or not) and which are shared, sorted by id."""

    id: str
    key: str
    name: str
    path: Path | None
    token: str
    connected: bool = True
    records: dict[str, dict[str, bytes]] = field(default_factory=dict)
    unshared: dict[str, set[str]] = field(default_factory=dict)
    order: dict[str, list[str]] = field(default_factory=dict)
    role_order: dict[str, list[str]] = field(default_factory=dict)
    user_roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    user_names: dict[str, str] = field(default_factory=dict)

    def record(self, record_type: str, record_id: str) -> dict[str, Any] | None:
        """A shared record (parsed), or None when absent or unshared."""
        raw = self.raw(record_type, record_id)
        return None if raw is None else json.loads(raw)

    def raw(self, record_type: str, record_id: str) -> bytes | None:
        """A shared record's JSON bytes, or None when absent or unshared."""
        if record_id in self.unshared.get(record_type, ()):
            return None
        return self.records.get(record_type, {}).get(record_id)

    def reindex(self, record_type: str) -> None:
        """Rebuild the sorted id lists of one type after records or sharing changed."""
        hidden = self.unshared.get(record_type, set())
        ids = sorted(i for i in self.records[record_type] if i not in hidden)
        self.order[record_type] = ids
        if record_type == "users":
            for role in USER_ROLES:
                self.role_order[role] = [i for i in ids if role in self.user_roles.get(i, ())]

    def show(self, record_type: str, record_id: str, *, shared: bool) -> None:
        """Add or remove one id in the sorted lists (bisect: no full re-sort on big districts)."""
        lists = [self.order[record_type]]
        if record_type == "users":
            lists += [self.role_order[r] for r in self.user_roles.get(record_id, ())]
        for ids in lists:
            i = bisect.bisect_left(ids, record_id)
            present = i < len(ids) and ids[i] == record_id
            if shared and not present:
                ids.insert(i, record_id)
            elif not shared and present:
                del ids[i]

    @property
    def schools(self) -> dict[str, bytes]:
        """The district's school records (JSON bytes by id)."""
        return self.records["schools"]


class Faults:
    """Injected failures: the next ``times`` requests under a path prefix fail with ``kind``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[list[Any]] = []
        self.timeout_seconds = 2.0

    def add(self, path_prefix: str, kind: str, times: int = 1) -> None:
        """Make the next ``times`` requests whose path starts with ``path_prefix`` fail."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(FAULT_KINDS)}")
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        with self._lock:
            self._rules.append([path_prefix, kind, times])

    def take(self, path: str) -> str | None:
        """The fault kind this request must suffer (consuming one use), or None."""
        with self._lock:
            for rule in self._rules:
                if path.startswith(rule[0]):
                    rule[2] -= 1
                    if rule[2] == 0:
                        self._rules.remove(rule)
                    return rule[1]
        return None

    def clear(self) -> None:
        """Forget every injected fault."""
        with self._lock:
            self._rules.clear()
            self.timeout_seconds = 2.0


class World:
    """Everything the look-alike knows; see cleverlike/README.md for the contract."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.districts: dict[str, DistrictState] = {}
        self.apps: dict[str, App] = {}
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, UserToken] = {}
        self.events: list[Event] = []
        self._event_ids: list[str] = []
        self._event_counter = 0
        self._event_ts = 0
        self.faults = Faults()
        self.rate_limit_per_minute = 1200
        self._rate: dict[str, tuple[int, int]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.time_offset = 0.0
        self._cache: dict[tuple[str, tuple], tuple[DistrictState, str]] = {}

    # --- time ---------------------------------------------------------------------------------
    def now(self) -> float:
        """The look-alike's clock (Unix seconds), shifted by ``advance()``."""
        return time.time() + self.time_offset

    def advance(self, seconds: float) -> None:
        """Move the look-alike's clock forward (ages codes and rate-limit windows) for tests."""
        with self._lock:
            self.time_offset += seconds

    def _now_dt(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.now(), tz=dt.UTC)

    # --- set-up -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Reload every district from CLEVER_LOOKALIKE_DATA_DIR; forget all other state."""
        with self._lock:
            self.districts = {}
            self.apps = {}
            self.codes = {}
            self.tokens = {}
            self.events = []
            self._event_ids = []
            self.faults.clear()
            self.rate_limit_per_minute = 1200
            self._rate = {}
            self.requests = []
            self.time_offset = 0.0
            data_dir = Path(settings.CLEVER_LOOKALIKE_DATA_DIR)
            if data_dir.is_dir():
                for folder in sorted(
                    p for p in data_dir.iterdir() if (p / "schools.csv").is_file()
                ):
                    self.load_district(folder)
            if settings.CLEVER_CLIENT_ID:
                uris = settings.CLEVER_REDIRECT_URIS
                uris = [uris] if isinstance(uris, str) else list(uris)
                self.register_app(
                    settings.CLEVER_CLIENT_ID,
                    settings.CLEVER_CLIENT_SECRET,
                    uris
                    or ([settings.CLEVER_REDIRECT_URI] if settings.CLEVER_REDIRECT_URI else []),
                    # Clever sends id_tokens only to apps its support enabled for OIDC; the
                    # product's setting says whether ours is.
                    oidc=settings.CLEVER_OIDC_ENABLED,
                )

    def register_app(
        self, client_id: str, client_secret: str, redirect_uris: Iterable[str], *, oidc: bool = True
    ) -> App:
        """Register (or replace) an app; its first redirect URI is the primary one."""
        app = App(client_id, client_secret, list(redirect_uris), oidc=oidc)
        with self._lock:
            self.apps[client_id] = app
        return app

    def default_app(self) -> App | None:
        """The app registered from settings (the only one, usually)."""
        with self._lock:
            return self.apps.get(settings.CLEVER_CLIENT_ID) or next(iter(self.apps.values()), None)

    # --- districts ----------------------------------------------------------------------------
    def district_named(self, name: str) -> DistrictState:
        """The district with this name (or folder key); KeyError naming the known ones."""
        with self._lock:
            for d in self.districts.values():
                if name in (d.name, d.key):
                    return d
            known = ", ".join(sorted(d.name for d in self.districts.values()))
        raise KeyError(f"no district named {name!r}; known: {known}")

    def district(self, district_id: str) -> DistrictState:
        """The district with this Clever ID; KeyError when unknown."""
        with self._lock:
            try:
                return self.districts[district_id]
            except KeyError:
                raise KeyError(f"no district with id {district_id!r}") from None

    def connect(self, district_id: str) -> None:
        """Connect the district to the app: its token works and is in the token list."""
        with self._lock:
            self.district(district_id).connected = True

    def disconnect(self, district_id: str) -> None:
        """Disconnect the district: its token gives 401 and leaves the token list."""
        with self._lock:
            self.district(district_id).connected = False

    def load_district(self, path: Path | str) -> DistrictState:
        """(Re)load one district from a CSV folder; a reload emits the matching events."""
        path = Path(path)
        meta = _read_meta(path)
        key = meta.get("key") or path.name
        did = district_id_for(key)
        signature = _signature(path)
        with self._lock:
            cached = self._cache.get((str(path), signature))
        if cached is not None:
            fresh = _copy_state(cached[0])
        else:
            built = build_district(key, parse_folder(path), meta, self._now_dt())
            fresh = DistrictState(
                id=did,
                key=key,
                name=built.records["districts"][did]["name"],
                path=path,
                token=_district_token(key),
                connected=bool(meta.get("connected", True)),
            )
            for record_type in RECORD_TYPES:
                fresh.records[record_type] = {
                    rid: obj if isinstance(obj, bytes) else dumps(obj)
                    for rid, obj in built.records.pop(record_type).items()
                }
                fresh.unshared[record_type] = set()
            fresh.user_roles = built.user_roles
            fresh.user_names = built.user_names
        with self._lock:
            old = self.districts.get(did)
            if old is None:
                for record_type in RECORD_TYPES:
                    fresh.reindex(record_type)
                if cached is None:
                    self._cache[(str(path), signature)] = (_copy_state(fresh), key)
                self.districts[did] = fresh
                return fresh
            self._merge_reload(old, fresh)
            return old

    def _merge_reload(self, old: DistrictState, fresh: DistrictState) -> None:
        """Replace ``old``'s records with ``fresh``'s, keeping timestamps and emitting events."""
        stamp = timestamp(self._now_dt())
        creates: list[tuple[str, bytes]] = []
        updates: list[tuple[str, bytes, dict[str, Any]]] = []
        deletes: list[tuple[str, bytes]] = []
        for record_type in _EVENT_ORDER:
            before = old.records[record_type]
            after = fresh.records[record_type]
            hidden = old.unshared[record_type]
            merged: dict[str, bytes] = {}
            for rid in sorted(after):
                new_raw = after[rid]
                old_raw = before.get(rid)
                if old_raw is None:
                    merged[rid] = new_raw
                    creates.append((record_type, new_raw))
                    continue
                if old_raw == new_raw:
                    merged[rid] = old_raw
                    continue
                old_obj, new_obj = json.loads(old_raw), json.loads(new_raw)
                for keep in ("created", "last_modified", "last_sync"):
                    if keep in old_obj:
                        new_obj[keep] = old_obj[keep]
                if new_obj == old_obj:
                    merged[rid] = old_raw
                    continue
                changed = {
                    k: old_obj.get(k)
                    for k in set(old_obj) | set(new_obj)
                    if old_obj.get(k) != new_obj.get(k)
                }
                if "last_modified" in new_obj:
                    new_obj["last_modified"] = stamp
                merged[rid] = dumps(new_obj)
                if rid not in hidden:
                    updates.append((record_type, merged[rid], changed))
            for rid in sorted(set(before) - set(after)):
                if rid not in hidden:
                    deletes.append((record_type, before[rid]))
            old.records[record_type] = merged
            old.unshared[record_type] = {r for r in hidden if r in merged}
        old.user_roles = fresh.user_roles
        old.user_names = fresh.user_names
        old.name = fresh.name
        old.path = fresh.path
        for record_type in RECORD_TYPES:
            old.reindex(record_type)
        for record_type, raw in creates:
            self._emit(old, record_type, "created", raw)
        for record_type, raw, changed in updates:
            self._emit(old, record_type, "updated", raw, changed)
        for record_type, raw in sorted(deletes, key=lambda d: -_EVENT_ORDER.index(d[0])):
            self._emit(old, record_type, "deleted", raw)

    # --- sharing and changes ------------------------------------------------------------------
    def _find(self, record_type: str, clever_id: str) -> DistrictState:
        if record_type not in RECORD_TYPES:
            raise ValueError(f"unknown record type {record_type!r}; use one of {RECORD_TYPES}")
        for d in self.districts.values():
            if clever_id in d.records[record_type]:
                return d
        raise KeyError(f"no {record_type} record with id {clever_id!r}")

    def unshare(self, record_type: str, clever_id: str) -> None:
        """Stop sharing a record: it leaves lists, 404s by id, and a *.deleted event is emitted."""
        with self._lock:
            d = self._find(record_type, clever_id)
            if clever_id in d.unshared[record_type]:
                return
            d.unshared[record_type].add(clever_id)
            d.show(record_type, clever_id, shared=False)
            self._emit(d, record_type, "deleted", d.records[record_type][clever_id])

    def reshare(self, record_type: str, clever_id: str) -> None:
        """Share an unshared record again (same id), emitting *.created."""
        with self._lock:
            d = self._find(record_type, clever_id)
            if clever_id not in d.unshared[record_type]:
                return
            d.unshared[record_type].discard(clever_id)
            d.show(record_type, clever_id, shared=True)
            self._emit(d, record_type, "created", d.records[record_type][clever_id])

    def update_record(self, record_type: str, clever_id: str, **fields: Any) -> dict[str, Any]:
        """Change top-level fields of a record (``a__b=v`` sets a nested one); emits *.updated."""
        with self._lock:
            d = self._find(record_type, clever_id)
            obj = json.loads(d.records[record_type][clever_id])
            before = json.loads(d.records[record_type][clever_id])
            for name, value in fields.items():
                *path, last = name.split("__")
                target = obj
                for part in path:
                    target = target.setdefault(part, {})
                if value is None:
                    target.pop(last, None)
                else:
                    target[last] = value
            changed = {
                k: before.get(k) for k in set(before) | set(obj) if before.get(k) != obj.get(k)
            }
            if not changed:
                return obj
            if "last_modified" in obj:
                obj["last_modified"] = timestamp(self._now_dt())
            raw = dumps(obj)
            d.records[record_type][clever_id] = raw
            if record_type == "users":
                roles = tuple(r for r in USER_ROLES if r in obj.get("roles", {}))
                d.user_names[clever_id] = display_name(obj.get("name", {}))
                if roles != d.user_roles.get(clever_id):
                    d.user_roles[clever_id] = roles
                    d.reindex("users")
            if record_type == "districts":
                d.name = obj.get("name", d.name)
            if clever_id not in d.unshared[record_type]:
                self._emit(d, record_type, "updated", raw, changed)
            return obj

    def district_state_set(self, district_id: str, **fields: Any) -> dict[str, Any]:
        """Set what Clever's district record says of its launch and SIS sync (``launch_date``,
        ``state``, ``pause_start``, ``pause_end``, ``last_sync``, ``error``), as a district's
        or the app partner's changes in Clever's dashboard would; dates and datetimes are
        spelled as Clever does, None is served as null, any other value as given (so tests can
        send malformed ones). Emits districts.updated."""
        unknown = sorted(set(fields) - set(DISTRICT_STATE_FIELDS))
        if unknown:
            raise KeyError(f"not a district state field: {', '.join(unknown)}")
        with self._lock:
            d = self.district(district_id)
            obj = json.loads(d.records["districts"][d.id])
            changed = {}
            for name, value in fields.items():
                if isinstance(value, dt.datetime):
                    value = timestamp(value)
                elif isinstance(value, dt.date):
                    value = value.isoformat()
                if obj.get(name) != value or name not in obj:
                    changed[name] = obj.get(name)
                obj[name] = value
            if changed:
                raw = dumps(obj)
                d.records["districts"][d.id] = raw
                self._emit(d, "districts", "updated", raw, changed)
            return obj

    # --- reading ------------------------------------------------------------------------------
    def users(self, district_id: str, role: str | None = None) -> list[dict[str, Any]]:
        """The district's shared users (API shape) in id order, optionally of one role."""
        with self._lock:
            d = self.district(district_id)
            ids = d.role_order[role] if role else d.order["users"]
            return [json.loads(d.records["users"][i]) for i in ids]

    def records(self, district_id: str, record_type: str) -> list[dict[str, Any]]:
        """The district's shared records of one type (API shape) in id order."""
        with self._lock:
            d = self.district(district_id)
            return [json.loads(d.records[record_type][i]) for i in d.order[record_type]]

    def user(self, user_id: str) -> tuple[DistrictState, dict[str, Any]]:
        """The district and record of a shared user; KeyError when unknown or unshared."""
        with self._lock:
            for d in self.districts.values():
                rec = d.record("users", user_id)
                if rec is not None:
                    return d, rec
        raise KeyError(f"no shared user with id {user_id!r}")

    def page(
        self,
        d: DistrictState,
        record_type: str,
        *,
        role: str | None,
        limit: int,
        starting_after: str | None,
        ending_before: str | None,
    ) -> tuple[list[bytes], bool, bool]:
        """One page of shared records (JSON bytes) and whether records exist after / before it."""
        with self._lock:
            ids = d.role_order[role] if role else d.order[record_type]
            chosen, has_after, has_before = paginate_ids(ids, limit, starting_after, ending_before)
            store = d.records[record_type]
            return [store[i] for i in chosen], has_after, has_before

    # --- OAuth --------------------------------------------------------------------------------
    def issue_code(
        self,
        user_id: str,
        *,
        redirect_uri: str | None = None,
        as_role: str | None = None,
        client_id: str | None = None,
        nonce: str | None = None,
    ) -> str:
        """A code as if the user had just logged in at Clever (single use, 60 s)."""
        with self._lock:
            d, _ = self.user(user_id)
            roles = d.user_roles.get(user_id, ())
            if as_role is not None and as_role not in roles:
                raise ValueError(
                    f"user {user_id} has no {as_role!r} role (roles: {', '.join(roles)})"
                )
            login_type = as_role or next(r for r in LOGIN_ROLE_ORDER if r in roles)
            app = self.apps.get(client_id) if client_id else self.default_app()
            if app is None:
                raise ValueError(f"no app registered with client_id {client_id!r}")
            code = secrets.token_urlsafe(24)
            self.codes[code] = Code(
                user_id=user_id,
                district_id=d.id,
                client_id=app.client_id,
                redirect_uri=redirect_uri or (app.redirect_uris[0] if app.redirect_uris else ""),
                login_type=login_type,
                nonce=nonce,
                issued_at=self.now(),
            )
            return code

    def redeem_code(self, code: str, *, client_id: str, redirect_uri: str | None) -> Code:
        """Use a code once; ValueError (invalid_grant) when unknown, used, expired or mismatched."""
        with self._lock:
            entry = self.codes.get(code)
            if entry is None:
                raise ValueError("unknown code")
            if entry.used:
                raise ValueError("code already used")
            entry.used = True
            if self.now() - entry.issued_at > CODE_LIFETIME_SECONDS:
                raise ValueError("code expired")
            if entry.client_id != client_id:
                raise ValueError("code was issued to another client")
            if redirect_uri is not None and redirect_uri != entry.redirect_uri:
                raise ValueError("redirect_uri does not match the authorize request")
            return entry

    def issue_user_token(self, code: Code) -> str:
        """An SSO bearer token for the user a redeemed code names."""
        token = secrets.token_hex(20)
        with self._lock:
            self.tokens[token] = UserToken(
                code.user_id, code.district_id, code.login_type, code.client_id
            )
        return token

    def token_owner(self, token: str) -> DistrictState | UserToken | None:
        """Who a bearer token belongs to: a connected district, a user, or None (invalid)."""
        with self._lock:
            if token in self.tokens:
                return self.tokens[token]
            for d in self.districts.values():
                if d.token == token:
                    return d if d.connected else None
        return None

    def rate_hit(self, token: str) -> tuple[bool, int, int]:
        """Count a request: (allowed, remaining, window reset as Unix seconds)."""
        now = self.now()
        window = int(now // 60)
        reset = (window + 1) * 60
        key = hashlib.sha256(token.encode()).hexdigest()
        with self._lock:
            seen_window, count = self._rate.get(key, (window, 0))
            if seen_window != window:
                count = 0
            count += 1
            self._rate[key] = (window, count)
            limit = self.rate_limit_per_minute
        return count <= limit, max(0, limit - count), reset

    def log_request(self, method: str, path: str, query: dict[str, str]) -> None:
        """Remember a served request (method, path after the base URL, query parameters)."""
        with self._lock:
            self.requests.append((method, path, query))
            if len(self.requests) > REQUEST_LOG_MAX:
                # A long-running demo must not grow without bound; tests never get near this.
                del self.requests[: REQUEST_LOG_MAX // 10]

    # --- events -------------------------------------------------------------------------------
    def _next_event_id(self) -> str:
        self._event_ts = max(self._event_ts, int(time.time()))
        self._event_counter += 1
        return f"{self._event_ts:08x}{self._event_counter:016x}"

    def _emit(
        self,
        d: DistrictState,
        record_type: str,
        action: str,
        raw: bytes,
        previous: dict[str, Any] | None = None,
    ) -> None:
        obj = json.loads(raw)
        event: dict[str, Any] = {
            "id": self._next_event_id(),
            "type": f"{record_type}.{action}",
            "created": timestamp(self._now_dt()),
            "data": {"object": obj},
        }
        if previous is not None:
            event["previous_attributes"] = previous
        self.events.append(
            Event(event["id"], d.id, record_type, _schools_of(record_type, obj), dumps(event))
        )
        self._event_ids.append(event["id"])

    def event_page(
        self,
        d: DistrictState,
        *,
        limit: int,
        starting_after: str | None,
        ending_before: str | None,
        record_types: list[str],
        school: str | None,
    ) -> tuple[list[bytes], bool, bool]:
        """One page of the district's events, ascending, filtered like Clever's /events."""
        with self._lock:
            matching = [
                e
                for e in self.events
                if e.district_id == d.id
                and (not record_types or e.record_type in record_types)
                and (school is None or school in e.schools)
            ]
            by_id = {e.id: e for e in matching}
            chosen, has_after, has_before = paginate_ids(
                [e.id for e in matching], limit, starting_after, ending_before
            )
            return [by_id[i].payload for i in chosen], has_after, has_before

    def event(self, d: DistrictState, event_id: str) -> bytes | None:
        """One event of the district by id, or None."""
        with self._lock:
            i = bisect.bisect_left(self._event_ids, event_id)
            if i < len(self.events) and self.events[i].id == event_id:
                e = self.events[i]
                return e.payload if e.district_id == d.id else None
        return None


def paginate_ids(
    ids: list[str], limit: int, starting_after: str | None, ending_before: str | None
) -> tuple[list[str], bool, bool]:
    """One page of a sorted id list and whether ids exist after / before it (bisect, no scan)."""
    if ending_before is not None and starting_after is None:
        end = bisect.bisect_left(ids, ending_before)
        start = max(0, end - limit)
    else:
        start = bisect.bisect_right(ids, starting_after) if starting_after else 0
        end = start + limit
        if ending_before is not None:
            end = min(end, bisect.bisect_left(ids, ending_before))
    return ids[start:end], end < len(ids), start > 0


def _schools_of(record_type: str, obj: dict[str, Any]) -> frozenset[str]:
    if record_type == "schools":
        return frozenset({obj["id"]})
    if record_type == "sections":
        return frozenset({obj["school"]})
    if record_type == "users":
        found: set[str] = set()
        for role in obj.get("roles", {}).values():
            if isinstance(role, dict):
                found.update(role.get("schools", []))
                if role.get("school"):
                    found.add(role["school"])
        return frozenset(found)
    return frozenset()


def _district_token(key: str) -> str:
    # Deterministic, so tokens the product stored survive a restart of the look-alike.
    return hashlib.sha256(f"cleverlike-district-token:{key}".encode()).hexdigest()[:40]


def _read_meta(path: Path) -> dict[str, Any]:
    meta_file = path / "district.json"
    if not meta_file.is_file():
        return {}
    try:
        return json.loads(meta_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{meta_file}: not valid JSON ({exc})") from exc


def _signature(path: Path) -> tuple:
    return tuple(
        (p.name, p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(path.iterdir())
        if p.is_file()
    )


def _copy_state(src: DistrictState) -> DistrictState:
    """A copy whose containers are independent (the bytes themselves are immutable)."""
    return DistrictState(
        id=src.id,
        key=src.key,
        name=src.name,
        path=src.path,
        token=src.token,
        connected=src.connected,
        records={t: dict(r) for t, r in src.records.items()},
        unshared={t: set(u) for t, u in src.unshared.items()},
        order={t: list(o) for t, o in src.order.items()},
        role_order={r: list(o) for r, o in src.role_order.items()},
        user_roles=dict(src.user_roles),
        user_names=dict(src.user_names),
    )


world = World()
