"""The Data API v3.0 (/v3.0/...), /userinfo and /me, shaped as Clever's OpenAPI files say."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from cleverlike.build import RECORD_TYPES, USER_ROLES
from cleverlike.http import json_error, served
from cleverlike.world import DistrictState, UserToken, paginate_ids, world

DEFAULT_LIMIT = 100
MAX_LIMIT = 10000
SCOPE_ERROR = "Resource not in token's scopes"
LIST_TYPES = (*RECORD_TYPES, "resources", "events")


class ApiError(Exception):
    """An error answer: status, message and the headers to send with it."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def _bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _json_bytes(body: bytes, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="application/json; charset=utf-8")


def _authenticate(request: HttpRequest) -> tuple[DistrictState | UserToken, dict[str, str]]:
    """The token's owner and the rate-limit headers; ApiError for 401 / 429."""
    token = _bearer(request)
    if token is None:
        raise ApiError(401, "Authorization header with a Bearer token is required")
    owner = world.token_owner(token)
    if owner is None:
        raise ApiError(401, "invalid or revoked token")
    allowed, remaining, reset = world.rate_hit(token)
    headers = {
        "X-RateLimit-Limit": str(world.rate_limit_per_minute),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(reset),
    }
    if not allowed:
        limit = world.rate_limit_per_minute
        raise ApiError(429, f"Too Many Requests: {limit} requests per minute per token", headers)
    return owner, headers


def _limit(request: HttpRequest) -> int:
    raw = request.GET.get("limit")
    if raw in (None, ""):
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise ApiError(400, f"limit must be an integer, got {raw!r}") from None
    if limit < 1:
        raise ApiError(400, f"limit must be at least 1, got {limit}")
    if limit > MAX_LIMIT:
        raise ApiError(413, f"limit must be at most {MAX_LIMIT}, got {limit}")
    return limit


def _list_body(
    request: HttpRequest,
    path: str,
    items: list[bytes],
    has_after: bool,
    has_before: bool,
    limit: int,
    extra: list[tuple[str, str]],
) -> bytes:
    """A list response: {"data": [{"data": record}, ...], "links": [...]}."""
    links: list[dict[str, str]] = []
    base = [("limit", str(limit)), *extra]
    links.append({"rel": "self", "uri": f"{path}?{urlencode(_self_params(request))}".rstrip("?")})
    if items and has_after:
        last = json.loads(items[-1])["id"]
        links.append(
            {"rel": "next", "uri": f"{path}?{urlencode([*base, ('starting_after', last)])}"}
        )
    if items and has_before:
        first = json.loads(items[0])["id"]
        links.append(
            {"rel": "prev", "uri": f"{path}?{urlencode([*base, ('ending_before', first)])}"}
        )
    body = b'{"data":[' + b",".join(b'{"data":' + i + b"}" for i in items) + b'],"links":'
    return body + json.dumps(links).encode() + b"}"


def _self_params(request: HttpRequest) -> list[tuple[str, str]]:
    return [(k, v) for k in request.GET for v in request.GET.getlist(k)]


def _district_for(owner: DistrictState | UserToken) -> DistrictState:
    if isinstance(owner, DistrictState):
        return owner
    return world.district(owner.district_id)


def _me(owner: DistrictState | UserToken) -> dict[str, Any]:
    if isinstance(owner, DistrictState):
        return {
            "type": "district",
            "data": {
                "id": owner.id,
                "district": owner.id,
                "type": "district",
                "authorized_by": "district",
            },
            "links": [
                {"rel": "self", "uri": "/me"},
                {"rel": "canonical", "uri": f"/v3.0/districts/{owner.id}"},
                {"rel": "district", "uri": f"/v3.0/districts/{owner.id}"},
            ],
        }
    return {
        "type": owner.login_type,
        "data": {
            "id": owner.user_id,
            "district": owner.district_id,
            "type": owner.login_type,
            "authorized_by": "district",
        },
        "links": [
            {"rel": "self", "uri": "/me"},
            {"rel": "canonical", "uri": f"/v3.0/users/{owner.user_id}"},
            {"rel": "district", "uri": f"/v3.0/districts/{owner.district_id}"},
        ],
    }


def _single(d: DistrictState, record_type: str, record_id: str) -> bytes:
    if record_type == "events":
        raw = world.event(d, record_id)
    elif record_type == "resources":
        raw = None
    else:
        raw = d.raw(record_type, record_id)
    if raw is None:
        raise ApiError(404, f"{record_type[:-1]} {record_id} not found")
    return b'{"data":' + raw + b"}"


@dataclass
class _Nested:
    """What /{type}/{id}/{sub} names: one record (``one``) or a sorted id list (``ids``)."""

    target: str
    one: str | None = None
    ids: list[str] = field(default_factory=list)


def _sections(d: DistrictState) -> list[dict[str, Any]]:
    return [json.loads(d.records["sections"][i]) for i in d.order["sections"]]


def _role_schools(role: dict[str, Any], primary_only: bool) -> list[str]:
    found = [role["school"]] if role.get("school") else []
    return found if primary_only else [*found, *role.get("schools", [])]


def _nested(
    d: DistrictState, record_type: str, record_id: str, sub: str, request: HttpRequest
) -> _Nested:
    """Resolve a nested endpoint of a shared record; ApiError 404 when there is none."""
    rec = d.record(record_type, record_id)
    if rec is None:
        raise ApiError(404, f"{record_type[:-1]} {record_id} not found")
    if sub == "district":
        return _Nested("districts", one=d.id)
    if sub == "resources":
        return _Nested("resources")
    shared_users = set(d.order["users"])
    role = request.GET.get("role") or None
    primary_only = request.GET.get("primary") == "true"
    if record_type == "sections" and sub in ("school", "term", "course"):
        key = {"school": "school", "term": "term_id", "course": "course"}[sub]
        return _Nested(f"{sub}s", one=rec.get(key) or "")
    if record_type == "sections" and sub == "users":
        ids = list(rec["teachers"]) if role in (None, "teacher") else []
        ids += rec["students"] if role in (None, "student") else []
        return _Nested("users", ids=sorted(set(ids) & shared_users))
    if record_type == "schools" and sub == "users":
        out = []
        for uid in d.role_order[role] if role else d.order["users"]:
            roles = json.loads(d.records["users"][uid])["roles"]
            if any(
                record_id in _role_schools(r, primary_only)
                for name, r in roles.items()
                if role in (None, name)
            ):
                out.append(uid)
        return _Nested("users", ids=out)
    if record_type == "schools" and sub in ("sections", "terms", "courses"):
        secs = [s for s in _sections(d) if s["school"] == record_id]
        if sub == "sections":
            return _Nested("sections", ids=[s["id"] for s in secs])
        key = "term_id" if sub == "terms" else "course"
        found = {s.get(key) for s in secs} & set(d.order[sub])
        return _Nested(sub, ids=sorted(i for i in found if i))
    if record_type in ("terms", "courses") and sub in ("sections", "schools"):
        key = "term_id" if record_type == "terms" else "course"
        secs = [s for s in _sections(d) if s.get(key) == record_id]
        if sub == "sections":
            return _Nested("sections", ids=[s["id"] for s in secs])
        return _Nested("schools", ids=sorted({s["school"] for s in secs} & set(d.order["schools"])))
    if record_type == "users" and sub == "schools":
        found = set()
        for r in rec["roles"].values():
            found.update(_role_schools(r, primary_only))
        return _Nested("schools", ids=sorted(found & set(d.order["schools"])))
    if record_type == "users" and sub in ("sections", "mystudents", "myteachers"):
        mine = [s for s in _sections(d) if record_id in s["students"] or record_id in s["teachers"]]
        if sub == "sections":
            return _Nested("sections", ids=[s["id"] for s in mine])
        if sub == "mystudents":
            ids = {i for s in mine if record_id in s["teachers"] for i in s["students"]}
        else:
            ids = {i for s in mine if record_id in s["students"] for i in s["teachers"]}
        return _Nested("users", ids=sorted(ids & shared_users))
    if record_type == "users" and sub == "mycontacts":
        ids = [
            uid
            for uid in d.role_order["contact"]
            if any(
                rel.get("student") == record_id
                for rel in json.loads(d.records["users"][uid])["roles"]["contact"][
                    "student_relationships"
                ]
            )
        ]
        return _Nested("users", ids=ids)
    raise ApiError(404, f"unknown endpoint /v3.0/{record_type}/{record_id}/{sub}")


def _handle(request: HttpRequest, rest: str) -> HttpResponse:
    owner, headers = _authenticate(request)
    parts = [p for p in rest.split("/") if p]
    path = "/v3.0/" + "/".join(parts)
    if isinstance(owner, UserToken):
        allowed = (
            parts == ["me"]
            or parts == ["users", owner.user_id]
            or parts == ["districts", owner.district_id]
        )
        if not allowed:
            raise ApiError(403, SCOPE_ERROR, headers)
    d = _district_for(owner)
    try:
        body = _route(request, d, owner, parts, path)
    except ApiError as exc:
        raise ApiError(exc.status, exc.message, headers) from None
    response = _json_bytes(body) if isinstance(body, bytes) else JsonResponse(body)
    for name, value in headers.items():
        response[name] = value
    return response


def _route(
    request: HttpRequest,
    d: DistrictState,
    owner: DistrictState | UserToken,
    parts: list[str],
    path: str,
) -> bytes | dict[str, Any]:
    if parts == ["me"]:
        return _me(owner)
    if not parts or parts[0] not in LIST_TYPES:
        raise ApiError(404, f"unknown endpoint {path}")
    record_type = parts[0]
    if len(parts) == 2:
        return _single(d, record_type, parts[1])
    if len(parts) == 3 and record_type in RECORD_TYPES:
        nested = _nested(d, record_type, parts[1], parts[2], request)
        if nested.one is not None:
            return _single(d, nested.target, nested.one)
        limit = _limit(request)
        chosen, after, before = paginate_ids(
            nested.ids, limit, request.GET.get("starting_after"), request.GET.get("ending_before")
        )
        items = [d.records[nested.target][i] for i in chosen]
        nested_extra = [(k, request.GET[k]) for k in ("role", "primary") if request.GET.get(k)]
        return _list_body(request, path, items, after, before, limit, nested_extra)
    if len(parts) != 1:
        raise ApiError(404, f"unknown endpoint {path}")
    limit = _limit(request)
    after = request.GET.get("starting_after") or None
    before = request.GET.get("ending_before") or None
    extra: list[tuple[str, str]] = []
    if record_type == "events":
        record_types = request.GET.getlist("record_type")
        school = request.GET.get("school") or None
        items, has_after, has_before = world.event_page(
            d,
            limit=limit,
            starting_after=after,
            ending_before=before,
            record_types=record_types,
            school=school,
        )
        extra += [("record_type", t) for t in record_types]
        if school:
            extra.append(("school", school))
        return _list_body(request, path, items, has_after, has_before, limit, extra)
    if record_type == "resources":
        return _list_body(request, path, [], False, False, limit, extra)
    role = None
    if record_type == "users":
        role = request.GET.get("role") or None
        if role is not None and role not in USER_ROLES:
            raise ApiError(400, f"role must be one of {', '.join(USER_ROLES)}, got {role!r}")
        if role:
            extra.append(("role", role))
    if record_type == "districts":
        items = [d.raw("districts", d.id) or b""]
        return _list_body(request, path, [i for i in items if i], False, False, limit, extra)
    items, has_after, has_before = world.page(
        d, record_type, role=role, limit=limit, starting_after=after, ending_before=before
    )
    return _list_body(request, path, items, has_after, has_before, limit, extra)


def _error_response(exc: ApiError) -> HttpResponse:
    response = json_error(exc.status, exc.message)
    for name, value in exc.headers.items():
        response[name] = value
    return response


@csrf_exempt
@served
def data_api(request: HttpRequest, rest: str) -> HttpResponse:
    """GET /v3.0/<rest>: the Data API and events for district and SSO tokens."""
    if request.method != "GET":
        return json_error(405, f"{request.method} is not allowed; the Data API is read-only")
    try:
        return _handle(request, rest)
    except ApiError as exc:
        return _error_response(exc)


@csrf_exempt
@served
def userinfo(request: HttpRequest) -> HttpResponse:
    """GET or POST /userinfo: the logged-in user in the login's role (SSO tokens only)."""
    try:
        owner, headers = _authenticate(request)
    except ApiError as exc:
        return _error_response(exc)
    if not isinstance(owner, UserToken):
        response = json_error(403, SCOPE_ERROR)
    else:
        response = JsonResponse(userinfo_claims(owner))
    for name, value in headers.items():
        response[name] = value
    return response


def userinfo_claims(owner: UserToken) -> dict[str, Any]:
    """The /userinfo document for an SSO token."""
    d = world.district(owner.district_id)
    rec = d.record("users", owner.user_id) or {}
    role = rec.get("roles", {}).get(owner.login_type, {})
    name = rec.get("name", {})
    schools = role.get("schools") or ([role["school"]] if role.get("school") else [])
    claims: dict[str, Any] = {
        "sub": owner.user_id,
        "user_id": role.get("legacy_id", owner.user_id),
        "multi_role_user_id": owner.user_id,
        "user_type": owner.login_type,
        "district_id": owner.district_id,
        "district": owner.district_id,
        "name": name,
        "given_name": name.get("first", ""),
        "family_name": name.get("last", ""),
        "schools": schools,
        "email_verified": False,
        "authorized_by": "district",
    }
    if rec.get("email"):
        claims["email"] = rec["email"]
    return claims
