"""The look-alike's HTML pages: the user picker behind authorize, and the Clever Portal."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from cleverlike.build import USER_ROLES
from cleverlike.http import served
from cleverlike.world import DistrictState, world

# Big districts: show this many users per role, and a search box for the rest.
PICKER_CAP = 25
ROLE_LABELS = {
    "student": "Students",
    "teacher": "Teachers",
    "staff": "Staff",
    "district_admin": "District admins",
    "contact": "Contacts (parents and guardians)",
}


def _districts(connected_only: bool) -> list[DistrictState]:
    found = [d for d in world.districts.values() if d.connected or not connected_only]
    return sorted(found, key=lambda d: d.name.lower())


def _groups(d: DistrictState, query: str, link: Any) -> list[dict[str, Any]]:
    """Per role: up to PICKER_CAP users matching ``query`` (name or id), each with its link."""
    q = query.strip().lower()
    groups = []
    for role in USER_ROLES:
        ids = d.role_order.get(role, [])
        users = []
        total = 0
        for uid in ids:
            name = d.user_names.get(uid, uid)
            if q and q not in name.lower() and q != uid:
                continue
            total += 1
            if len(users) < PICKER_CAP:
                roles = d.user_roles.get(uid, ())
                users.append(
                    {
                        "id": uid,
                        "name": name,
                        "url": link(uid, role),
                        "other_roles": [r.replace("_", " ") for r in roles if r != role],
                    }
                )
        if total:
            groups.append(
                {
                    "role": role,
                    "label": ROLE_LABELS[role],
                    "users": users,
                    "total": total,
                    "more": total - len(users),
                }
            )
    return groups


def user_picker(
    request: HttpRequest,
    *,
    title: str,
    action_path: str,
    keep: dict[str, str],
    district_id: str | None,
    connected_only: bool,
    user_param: str = "login_as",
) -> HttpResponse:
    """A district picker, then the district's users grouped by role, each a login link."""
    districts = _districts(connected_only)
    if district_id is None and len(districts) == 1:
        district_id = districts[0].id
    if district_id is None:
        choices = [
            {
                "name": d.name,
                "url": f"{action_path}?{urlencode({**keep, 'district_id': d.id})}",
                "users": len(d.order.get("users", [])),
            }
            for d in districts
        ]
        return render(
            request, "cleverlike/pick_district.html", {"title": title, "districts": choices}
        )
    d = world.district(district_id)
    base = {**keep, "district_id": d.id}
    query = request.GET.get("q", "")

    def link(uid: str, role: str) -> str:
        return f"{action_path}?{urlencode({**base, user_param: uid, 'as_role': role})}"

    return render(
        request,
        "cleverlike/pick_user.html",
        {
            "title": title,
            "district": d,
            "groups": _groups(d, query, link),
            "query": query,
            "keep": base,
            "action_path": action_path,
            "switch_url": f"{action_path}?{urlencode(keep)}" if len(districts) > 1 else "",
        },
    )


@served
def index(request: HttpRequest) -> HttpResponse:
    """GET /: what the look-alike serves, and its districts."""
    return render(
        request,
        "cleverlike/index.html",
        {"districts": _districts(False), "apps": list(world.apps.values())},
    )


@served
def portal(request: HttpRequest) -> HttpResponse:
    """GET /portal: pick a district and a user, then that user's Clever Portal with app icons."""
    district_id = request.GET.get("district_id") or None
    user_id = request.GET.get("user") or None
    if user_id is None:
        keep: dict[str, str] = {}
        return _portal_picker(request, keep, district_id)
    try:
        d, rec = world.user(user_id)
    except KeyError:
        return render(
            request,
            "cleverlike/error.html",
            {"message": f"user: no shared user with id {user_id!r}"},
            status=400,
        )
    as_role = request.GET.get("as_role") or next(r for r in USER_ROLES if r in rec["roles"])
    apps = []
    if d.connected:
        for app in world.apps.values():
            if app.redirect_uris:
                params = {"client_id": app.client_id, "user": user_id, "as_role": as_role}
                launch = reverse("cleverlike:portal_launch")
                apps.append({"app": app, "url": f"{launch}?{urlencode(params)}"})
    return render(
        request,
        "cleverlike/portal.html",
        {
            "district": d,
            "user": rec,
            "as_role": ROLE_LABELS.get(as_role, as_role),
            "apps": apps,
            "switch_url": f"{request.path}?{urlencode({'district_id': d.id})}",
        },
    )


def _portal_picker(
    request: HttpRequest, keep: dict[str, str], district_id: str | None
) -> HttpResponse:
    response = user_picker(
        request,
        title="Clever Portal",
        action_path=request.path,
        keep=keep,
        district_id=district_id,
        connected_only=False,
        user_param="user",
    )
    return response


@served
def portal_launch(request: HttpRequest) -> HttpResponse:
    """GET /portal/launch: the app icon: a code to the app's primary redirect URI, no state."""
    app = world.apps.get(request.GET.get("client_id", ""))
    if app is None or not app.redirect_uris:
        return render(
            request,
            "cleverlike/error.html",
            {
                "message": "client_id: no app with a redirect URI is registered as "
                f"{request.GET.get('client_id', '')!r}"
            },
            status=400,
        )
    try:
        d, _ = world.user(request.GET.get("user", ""))
        if not d.connected:
            raise ValueError(f"district {d.name} is not connected to this app")
        code = world.issue_code(
            request.GET.get("user", ""),
            redirect_uri=app.redirect_uris[0],
            as_role=request.GET.get("as_role") or None,
            client_id=app.client_id,
        )
    except (KeyError, ValueError) as exc:
        return render(request, "cleverlike/error.html", {"message": str(exc)}, status=400)
    primary = app.redirect_uris[0]
    return HttpResponseRedirect(f"{primary}{'&' if '?' in primary else '?'}code={code}")
