"""Log in with Clever: our button starts a flow; Clever's redirect ends on the callback.

Both are limited per client address (``sso.ratelimits``), and neither stores anything on our
side until a callback's state passes: flows in progress live in a signed cookie
(``sso.flows``). A callback that arrives ends whoever was logged in in this browser before it
does anything else (a shared classroom device), unless it is a refresh of the login that made
this session.
"""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.session_keys import LOGIN_TYPE_SESSION_KEY
from accounts.sessions import SessionStoreUnavailable, session_end
from clever import identity
from sso import flows, ratelimits, services
from sso.services import LoginFailure

logger = logging.getLogger(__name__)

_DISTRICT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# kind -> (HTTP status, title, what happened, what to do next)
FAILURES: dict[str, tuple[int, str, str, str]] = {
    "state_mismatch": (
        400,
        "We couldn't verify this login",
        "This sign-in link didn't start from this browser, so we stopped it to protect your "
        "account.",
        "Start again from your Clever Portal or with the button below.",
    ),
    "state_expired": (
        400,
        "This login took too long",
        "The sign-in started more than ten minutes ago.",
        "Start again from your Clever Portal or with the button below.",
    ),
    "code_replayed": (
        400,
        "This login link was already used",
        "Each Clever sign-in link works once (this can happen after a refresh or the back button).",
        "Log in again from your Clever Portal or with the button below.",
    ),
    "code_rejected": (
        400,
        "Clever didn't accept this login",
        "Clever said the sign-in had expired or was already used.",
        "Log in again from your Clever Portal or with the button below.",
    ),
    "clever_denied": (
        400,
        "The login was cancelled at Clever",
        "Clever didn't complete the sign-in.",
        "Try again, or ask your teacher or school's Clever administrator for help.",
    ),
    "missing_code": (
        400,
        "This login link is incomplete",
        "The link from Clever had no sign-in code.",
        "Start again from your Clever Portal or with the button below.",
    ),
    "bounce_loop": (
        400,
        "We couldn't finish the login",
        "Clever kept sending us back without completing the sign-in check.",
        "Close this tab and try again from your Clever Portal.",
    ),
    "clever_unavailable": (
        503,
        "Clever isn't answering right now",
        "We couldn't reach Clever to finish your login. Nothing is wrong with your account.",
        "Wait a minute, then try again.",
    ),
    "clever_rejected": (
        502,
        "Clever sent an answer we couldn't use",
        "Your login couldn't be completed.",
        "Try again; if it keeps happening, tell your school's Clever administrator.",
    ),
    "id_token_invalid": (
        400,
        "We couldn't verify this login",
        "The proof of identity from Clever didn't check out, so we stopped the login.",
        "Start again from your Clever Portal or with the button below.",
    ),
    "unsupported_type": (
        403,
        "This account type can't use Classroom yet",
        "",
        "",
    ),
    "district_not_connected": (
        403,
        "Your district isn't connected to Classroom",
        "Your school district hasn't connected Classroom in Clever yet, so we can't log you in.",
        "Ask your school's Clever administrator to connect Classroom.",
    ),
    "session_unavailable": (
        503,
        "We can't log you in right now",
        "Our login service isn't answering, so we couldn't end the session already open in "
        "this browser.",
        "Wait a minute, then try again.",
    ),
    "rate_limited": (
        429,
        "Too many logins from your network right now",
        "Logins from your school's network are arriving faster than we accept them.",
        "Wait a minute, then try again.",
    ),
    "account_inactive": (
        403,
        "Your account here is turned off",
        "Our support team has deactivated your Classroom account, so we can't log you in.",
        "Ask your school's administrator to contact our support team.",
    ),
    "not_launched": (
        403,
        "Classroom isn't launched for your district yet",
        "",
        "Check back after your district's launch date, or ask your school's Clever administrator.",
    ),
    "login_off": (
        404,
        "Logging in with Clever is off",
        "This app uses Clever only to keep school rosters up to date (rostering only), so there "
        "is no Clever login here.",
        "Use the way your school gave you to reach Classroom, or ask your school's Clever "
        "administrator.",
    ),
}


def _failure_page(request: HttpRequest, failure: LoginFailure) -> HttpResponse:
    status, title, message, action = FAILURES[failure.kind]
    # Details name Clever ids and HTTP statuses, never codes or tokens.
    logger.warning("clever login failed: %s", failure)
    if failure.kind == "unsupported_type":
        kind = failure.context.get("user_type", "unknown").replace("_", " ")
        message = f"You logged in to Clever with a {kind} account, which Classroom doesn't support."
        allowed = sorted(set(services.supported_user_types()) - {"contact"})
        names = [f"{t.replace('_', ' ')}s" for t in allowed]
        action = (
            f"Log in with a Clever account of a type Classroom supports ({', '.join(names)}), "
            "or ask your district to contact us."
        )
    elif failure.kind == "not_launched":
        message = str(failure.context.get("reason", ""))
    context = {"title": title, "message": message, "action": action, "kind": failure.kind}
    return render(request, "sso/error.html", context, status=status)


def _rate_limited_page(request: HttpRequest, retry_after: int) -> HttpResponse:
    response = _failure_page(request, LoginFailure("rate_limited"))
    response["Retry-After"] = str(retry_after)
    return response


def _flows_cookie_save(response: HttpResponse, pending: flows.Pending) -> HttpResponse:
    if not pending.changed:
        return response
    # Sent only to the login button and the callback, both under this prefix.
    path = reverse("sso:callback").rsplit("callback/", 1)[0]
    value = pending.cookie_value()
    if not value:
        response.delete_cookie(flows.COOKIE_NAME, path=path, samesite="Lax")
        return response
    response.set_cookie(
        flows.COOKIE_NAME,
        value,
        max_age=flows.FLOW_TTL_SECONDS,
        path=path,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        # Lax: Clever's redirect back to the callback is a top-level GET, which carries it.
        samesite="Lax",
    )
    return response


def _redirect_uri() -> str:
    return settings.CLEVER_REDIRECT_URI


def _authorize_redirect(flow: flows.Flow, *, district_id: str = "") -> HttpResponse:
    url = identity.authorization_url(
        state=flow.state,
        redirect_uri=_redirect_uri(),
        nonce=flow.nonce if settings.CLEVER_OIDC_ENABLED else "",
        district_id=district_id,
    )
    return redirect(url)


@never_cache
@require_GET
def login_start(request: HttpRequest) -> HttpResponse:
    """Our "Log in with Clever" button: a one-time state in this browser's cookie, then Clever."""
    if settings.CLEVER_ROSTERING_ONLY:
        return _failure_page(request, LoginFailure("login_off"))
    if retry_after := ratelimits.login_rate_limited(request):
        return _rate_limited_page(request, retry_after)
    district_id = request.GET.get("district_id", "")
    pending = flows.pending_load(request.COOKIES.get(flows.COOKIE_NAME))
    flow = flows.flow_start(
        pending, entry_point=flows.ENTRY_BUTTON, next_path=request.GET.get("next", "")
    )
    response = _authorize_redirect(
        flow, district_id=district_id if _DISTRICT_ID.match(district_id) else ""
    )
    return _flows_cookie_save(response, pending)


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """Clever's redirect back (our primary redirect URI): check, redeem once, log in, go home."""
    if settings.CLEVER_ROSTERING_ONLY:
        # Rostering only: no code is redeemed, so no one is logged in with Clever.
        return _failure_page(request, LoginFailure("login_off"))
    code = request.GET.get("code", "")
    state = request.GET.get("state", "")
    if (
        code
        and request.user.is_authenticated
        and request.session.get(flows.LOGIN_CODE_SESSION_KEY) == services.code_digest(code)
    ):
        # A refresh or the back button on the login that made this session: never post the
        # code again, and keep the person it logged in.
        return redirect("home:home")
    # Whatever this login turns out to be (even one refused for the rate limit), the person
    # logged in before is out: a refusal must not leave them in, nor show their name or their
    # home page. For a visitor without a session cookie this costs nothing.
    try:
        session_end(request=request)
    except SessionStoreUnavailable:
        return _failure_page(request, LoginFailure("session_unavailable"))
    if retry_after := ratelimits.login_rate_limited(request):
        return _rate_limited_page(request, retry_after)
    if request.GET.get("error"):
        # Only a tidy version of Clever's error code reaches the log.
        error = re.sub(r"[^a-z_]", "", request.GET.get("error", "").lower())[:40]
        return _failure_page(request, LoginFailure("clever_denied", error))
    if not code:
        return _failure_page(request, LoginFailure("missing_code"))
    pending = flows.pending_load(request.COOKIES.get(flows.COOKIE_NAME))
    if not state:
        # Clever Portal / Instant Login: don't redeem a code we didn't ask for (login CSRF);
        # ask Clever again, this time with a state bound to this browser.
        try:
            flows.portal_bounce_allowed(pending)
        except flows.TooManyBounces:
            return _failure_page(request, LoginFailure("bounce_loop"))
        flow = flows.flow_start(pending, entry_point=flows.ENTRY_PORTAL)
        return _flows_cookie_save(_authorize_redirect(flow), pending)
    try:
        flow = flows.flow_consume(pending, state=state)
    except (flows.StateMismatch, flows.StateExpired) as exc:
        if services.code_was_redeemed(code=code):
            failure = LoginFailure("code_replayed")
        elif isinstance(exc, flows.StateExpired):
            failure = LoginFailure("state_expired")
        else:
            failure = LoginFailure("state_mismatch")
        return _flows_cookie_save(_failure_page(request, failure), pending)
    # The state passed: from here on the login may store rows and call Clever.
    try:
        outcome = services.clever_login_complete(code=code, flow=flow, redirect_uri=_redirect_uri())
    except LoginFailure as failure:
        return _flows_cookie_save(_failure_page(request, failure), pending)

    # login() gives the (now anonymous) session a new key and writes last_login. No
    # transaction around it and the LoginRecord (two statements, each its own commit, instead of
    # four round trips): if the record fails the response is a 500 and the new session is never
    # saved, so no one is logged in without a record.
    login(request, outcome.user)  # the one backend in AUTHENTICATION_BACKENDS
    request.session[LOGIN_TYPE_SESSION_KEY] = outcome.login_type
    request.session[flows.LOGIN_CODE_SESSION_KEY] = services.code_digest(code)
    services.login_record_create(outcome=outcome, entry_point=flow.entry_point)
    logger.info(
        "clever login: user %s as %s via %s",
        outcome.user.clever_id,
        outcome.login_type,
        flow.entry_point,
    )
    flows.bounces_clear(pending)
    response = redirect(flows.safe_next(flow.next_path) or reverse("home:home"))
    return _flows_cookie_save(response, pending)
