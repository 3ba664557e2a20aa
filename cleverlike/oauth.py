"""OAuth 2.0 / OIDC endpoints: authorize, the code exchange, the token list, discovery, JWKS."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from cleverlike import oidc
from cleverlike.api import userinfo_claims
from cleverlike.build import timestamp
from cleverlike.http import base_url, served
from cleverlike.pages import user_picker
from cleverlike.session import clever_session_user, remember_clever_session
from cleverlike.world import ID_TOKEN_LIFETIME_SECONDS, App, world

DISTRICT_TOKEN_SCOPES = [
    "read:district_admins",
    "read:school_admins",
    "read:schools",
    "read:sections",
    "read:students",
    "read:teachers",
    "read:contacts",
    "read:user_id",
]


def _error_page(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    return render(request, "cleverlike/error.html", {"message": message}, status=status)


def _with_params(uri: str, params: dict[str, str]) -> str:
    return f"{uri}{'&' if '?' in uri else '?'}{urlencode(params)}"


def _basic_client(request: HttpRequest) -> App | None:
    """The app named by valid HTTP Basic credentials, or None."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    app = world.apps.get(client_id)
    if app is None or app.client_secret != secret:
        return None
    return app


def _login_redirect(
    request: HttpRequest,
    app: App,
    *,
    redirect_uri: str,
    state: str | None,
    district_id: str | None,
    nonce: str | None,
    user_id: str | None = None,
    as_role: str | None = None,
) -> HttpResponse:
    """Issue a code for ``login_as`` (and ``as_role``) and send the browser back to the app."""
    user_id = user_id or request.GET["login_as"]
    as_role = as_role or request.GET.get("as_role") or None
    try:
        d, _ = world.user(user_id)
    except KeyError:
        return _error_page(request, f"login_as: no shared user with id {user_id!r}")
    if district_id and d.id != district_id:
        return _error_page(request, f"login_as: user {user_id} is not in district {district_id}")
    if not d.connected:
        return _error_page(request, f"district {d.name} is not connected to this app")
    try:
        code = world.issue_code(
            user_id,
            redirect_uri=redirect_uri,
            as_role=as_role,
            client_id=app.client_id,
            nonce=nonce,
        )
    except ValueError as exc:
        return _error_page(request, f"as_role: {exc}")
    params = {"code": code}
    if state is not None:
        params["state"] = state
    response = HttpResponseRedirect(_with_params(redirect_uri, params))
    remember_clever_session(response, user_id, as_role)
    return response


def _remembered_user(request: HttpRequest, district_id: str | None) -> tuple[str, str | None]:
    """The browser's look-alike login, if it is still valid for this request; else ("", None)."""
    remembered = clever_session_user(request)
    if remembered is None or request.GET.get("prompt") == "login":
        return "", None
    try:
        d, _ = world.user(remembered[0])
    except KeyError:
        return "", None
    if (district_id and d.id != district_id) or not d.connected:
        return "", None
    return remembered


@served
def authorize(request: HttpRequest) -> HttpResponse:
    """GET /oauth/authorize: pick who logs in (or ``login_as`` at once), then redirect back."""
    client_id = request.GET.get("client_id", "")
    app = world.apps.get(client_id)
    if app is None:
        return _error_page(request, f"client_id: no app is registered as {client_id!r}")
    redirect_uri = request.GET.get("redirect_uri") or (app.redirect_uris or [""])[0]
    if redirect_uri not in app.redirect_uris:
        return _error_page(
            request,
            f"redirect_uri {redirect_uri!r} is not registered for this app "
            f"(registered: {', '.join(app.redirect_uris) or 'none'})",
        )
    state = request.GET.get("state")
    if request.GET.get("response_type") != "code":
        params = {"error": "unsupported_response_type"}
        if state is not None:
            params["state"] = state
        return HttpResponseRedirect(_with_params(redirect_uri, params))
    district_id = request.GET.get("district_id") or None
    nonce = request.GET.get("nonce") or None
    if request.GET.get("login_as"):
        return _login_redirect(
            request,
            app,
            redirect_uri=redirect_uri,
            state=state,
            district_id=district_id,
            nonce=nonce,
        )
    if district_id and district_id not in world.districts:
        return _error_page(request, f"district_id: no district with id {district_id!r}")
    user_id, as_role = _remembered_user(request, district_id)
    if user_id:
        return _login_redirect(
            request,
            app,
            redirect_uri=redirect_uri,
            state=state,
            district_id=district_id,
            nonce=nonce,
            user_id=user_id,
            as_role=as_role,
        )
    keep = {k: v for k, v in request.GET.items() if k not in ("login_as", "as_role", "q", "prompt")}
    return user_picker(
        request,
        title="Log in with Clever",
        action_path=request.path,
        keep=keep,
        district_id=district_id,
        connected_only=True,
    )


@served
def instant_login(request: HttpRequest) -> HttpResponse:
    """GET /oauth/instant-login?client_id&district_id: a Clever-initiated login (no state)."""
    client_id = request.GET.get("client_id", "")
    app = world.apps.get(client_id)
    if app is None:
        return _error_page(request, f"client_id: no app is registered as {client_id!r}")
    if not app.redirect_uris:
        return _error_page(request, "this app has no redirect URI registered")
    district_id = request.GET.get("district_id") or None
    if district_id and district_id not in world.districts:
        return _error_page(request, f"district_id: no district with id {district_id!r}")
    if request.GET.get("login_as"):
        return _login_redirect(
            request,
            app,
            redirect_uri=app.redirect_uris[0],
            state=None,
            district_id=district_id,
            nonce=None,
        )
    user_id, as_role = _remembered_user(request, district_id)
    if user_id:
        return _login_redirect(
            request,
            app,
            redirect_uri=app.redirect_uris[0],
            state=None,
            district_id=district_id,
            nonce=None,
            user_id=user_id,
            as_role=as_role,
        )
    keep = {k: v for k, v in request.GET.items() if k in ("client_id", "district_id")}
    return user_picker(
        request,
        title="Instant Login",
        action_path=request.path,
        keep=keep,
        district_id=district_id,
        connected_only=True,
    )


def _token_error(error: str, status: int, description: str) -> JsonResponse:
    return JsonResponse({"error": error, "error_description": description}, status=status)


@csrf_exempt
@served
def tokens(request: HttpRequest) -> HttpResponse:
    """POST /oauth/tokens: exchange a code; GET: list the app's district tokens (HTTP Basic)."""
    app = _basic_client(request)
    if app is None:
        response = _token_error(
            "invalid_client", 401, "HTTP Basic client_id:client_secret is missing or wrong"
        )
        response["WWW-Authenticate"] = 'Basic realm="clever"'
        return response
    if request.method == "GET":
        return JsonResponse(_token_list(request))
    if request.method != "POST":
        return _token_error("invalid_request", 405, f"{request.method} is not allowed")
    grant_type = request.POST.get("grant_type", "")
    if grant_type != "authorization_code":
        return _token_error(
            "unsupported_grant_type",
            400,
            f"grant_type must be authorization_code, got {grant_type!r}",
        )
    code = request.POST.get("code", "")
    if not code:
        return _token_error("invalid_request", 400, "code is required")
    try:
        entry = world.redeem_code(
            code, client_id=app.client_id, redirect_uri=request.POST.get("redirect_uri") or None
        )
    except ValueError as exc:
        return _token_error("invalid_grant", 400, str(exc))
    access_token = world.issue_user_token(entry)
    body: dict[str, Any] = {"access_token": access_token, "token_type": "bearer"}
    if app.oidc:
        body["id_token"] = _id_token(request, app, entry, access_token)
    return JsonResponse(body)


def _id_token(request: HttpRequest, app: App, entry: Any, access_token: str) -> str:
    owner = world.tokens[access_token]
    info = userinfo_claims(owner)
    now = int(world.now())
    claims: dict[str, Any] = {
        "iss": base_url(request),
        "sub": entry.user_id,
        "aud": app.client_id,
        "iat": now,
        "exp": now + ID_TOKEN_LIFETIME_SECONDS,
        "user_id": info["user_id"],
        "user_type": entry.login_type,
        "district": entry.district_id,
        "multi_role_user_id": entry.user_id,
        "email_verified": False,
        "given_name": info["given_name"],
        "family_name": info["family_name"],
    }
    if "email" in info:
        claims["email"] = info["email"]
    if entry.nonce:
        claims["nonce"] = entry.nonce
    return oidc.sign(claims)


def _token_list(request: HttpRequest) -> dict[str, Any]:
    owner_type = request.GET.get("owner_type")
    only = request.GET.get("district")
    data = []
    if owner_type in (None, "", "district"):
        for d in sorted(world.districts.values(), key=lambda d: d.id):
            if not d.connected or (only and d.id != only):
                continue
            rec = d.record("districts", d.id) or {}
            data.append(
                {
                    "id": hashlib.sha1(d.token.encode(), usedforsecurity=False).hexdigest()[:24],
                    "access_token": d.token,
                    "created": rec.get("last_sync") or timestamp(world._now_dt()),
                    "owner": {"type": "district", "id": d.id},
                    "scopes": DISTRICT_TOKEN_SCOPES,
                }
            )
    return {"data": data, "links": []}


@served
def discovery(request: HttpRequest) -> HttpResponse:
    """GET /.well-known/openid-configuration."""
    return JsonResponse(oidc.discovery(base_url(request)))


@served
def jwks(request: HttpRequest) -> HttpResponse:
    """GET /oauth/jwks: the id_token signing key."""
    return JsonResponse(oidc.jwks())
