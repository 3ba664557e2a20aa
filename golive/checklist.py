"""The go-live checklist's steps (Clever's "Preparing to Go Live"), each judged from real state.

Each step returns an ``Outcome`` with the evidence it looked at and, when it fails, how to fix
it. Nothing here writes: ``golive.services.checklist_run`` evaluates and records them. Evidence
never holds a secret; client ids are shown shortened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils.text import slugify

from clever import data_api, errors, usertypes
from clever.usertypes import ADMIN_TYPES
from rostering.models import District, SyncRun
from sso.models import LoginRecord
from sso.services import supported_user_types

PASS = "pass"
FAIL = "fail"
NOT_APPLICABLE = "n/a"

# The Clever user types a partner can support for login (Clever's Instant Login settings).
CLEVER_USER_TYPES = usertypes.ROLES
CALLBACK_VIEW = "sso:callback"


@dataclass
class Outcome:
    key: str
    title: str
    status: str
    summary: str
    evidence: list[str] = field(default_factory=list)
    fix: str = ""


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def shorten(identifier: str) -> str:
    """An identifier recognisable to ops but not written out whole (client ids, keys)."""
    if len(identifier) <= 8:
        return identifier[:2] + "…" if identifier else ""
    return f"{identifier[:4]}…{identifier[-4:]}"


# --- 1. production credentials ------------------------------------------------------------------


def check_credentials() -> Outcome:
    """Production credentials configured, not the development ones, accepted by Clever."""

    key, title = "credentials", "Production credentials"
    client_id = settings.CLEVER_CLIENT_ID
    secret = settings.CLEVER_CLIENT_SECRET
    dev_id = settings.CLEVER_DEV_CLIENT_ID
    evidence = [
        f"CLEVER_APP_ENVIRONMENT = {settings.CLEVER_APP_ENVIRONMENT!r}",
        f"CLEVER_CLIENT_ID = {shorten(client_id) or '(not set)'}",
        f"CLEVER_CLIENT_SECRET {'is set' if secret else 'is not set'}",
        f"CLEVER_DEV_CLIENT_ID = {shorten(dev_id) or '(not set)'}",
    ]
    settings_fix = (
        "Copy the client id and secret of your production app (Clever dashboard > Settings) into "
        "CLEVER_CLIENT_ID and CLEVER_CLIENT_SECRET, set CLEVER_APP_ENVIRONMENT=production, and "
        "set CLEVER_DEV_CLIENT_ID to the development app's client id; then restart and re-check."
    )
    if not client_id or not secret:
        pairs = (("CLEVER_CLIENT_ID", client_id), ("CLEVER_CLIENT_SECRET", secret))
        missing = " and ".join(name for name, value in pairs if not value)
        return Outcome(
            key, title, FAIL, f"Not configured: {missing} not set.", evidence, settings_fix
        )
    if settings.CLEVER_APP_ENVIRONMENT != "production":
        return Outcome(
            key,
            title,
            FAIL,
            "The app is configured with development credentials "
            f"(CLEVER_APP_ENVIRONMENT is {settings.CLEVER_APP_ENVIRONMENT!r}).",
            evidence,
            settings_fix,
        )
    if not dev_id:
        return Outcome(
            key,
            title,
            FAIL,
            "Cannot tell the production credentials from the development ones: "
            "CLEVER_DEV_CLIENT_ID is not set.",
            evidence,
            "Set CLEVER_DEV_CLIENT_ID to your development app's client id (Clever dashboard > "
            "Settings of the development app).",
        )
    if dev_id == client_id:
        return Outcome(
            key,
            title,
            FAIL,
            "CLEVER_CLIENT_ID is the development app's client id, not the production one.",
            evidence,
            settings_fix,
        )
    # Declaring "production" proves nothing, and Clever's token list cannot tell the apps apart
    # before go-live (both see only sandbox "#DEMO" districts then). What this deployment can
    # show is its own history: a client id it logged people in with while declared
    # "development" is the development app's, whatever CLEVER_DEV_CLIENT_ID says.
    as_dev = LoginRecord.objects.filter(client_id=client_id, production_credentials=False)
    last_dev = as_dev.order_by("-created_at").first()
    if last_dev is not None:
        when = f"{last_dev.created_at:%Y-%m-%d %H:%M} UTC"
        evidence.append(
            f"{as_dev.count()} login(s) with client id {shorten(client_id)} recorded while "
            f"CLEVER_APP_ENVIRONMENT was 'development', the last {when}"
        )
        return Outcome(
            key,
            title,
            FAIL,
            "CLEVER_CLIENT_ID was used here as the development app: logins with it were "
            "recorded while CLEVER_APP_ENVIRONMENT was 'development'. Declaring it production "
            "does not make it the production app.",
            evidence,
            "Copy the client id and secret from the production app's Settings page in Clever's "
            "dashboard (not the development app's) into CLEVER_CLIENT_ID and "
            "CLEVER_CLIENT_SECRET, and put the development app's client id in "
            "CLEVER_DEV_CLIENT_ID; then restart and re-check.",
        )
    try:
        tokens = data_api.list_district_tokens(client_id=client_id, client_secret=secret)
    except errors.CleverUnauthorized:
        evidence.append(f"GET {settings.CLEVER_OAUTH_BASE_URL}/oauth/tokens: 401 (rejected)")
        return Outcome(
            key,
            title,
            FAIL,
            "Clever rejected the production client id and secret.",
            evidence,
            "Copy the client id and secret again from the production app's Settings page (a "
            "secret that was reset in the dashboard stops working at once), then re-check.",
        )
    except errors.CleverTransientError as exc:
        evidence.append(f"GET {settings.CLEVER_OAUTH_BASE_URL}/oauth/tokens: {exc}")
        return Outcome(
            key,
            title,
            FAIL,
            "Could not reach Clever to verify the credentials.",
            evidence,
            "Clever did not answer; check the server's outbound network and "
            "CLEVER_OAUTH_BASE_URL, then re-check.",
        )
    except errors.CleverError as exc:
        evidence.append(f"GET {settings.CLEVER_OAUTH_BASE_URL}/oauth/tokens: {exc}")
        return Outcome(
            key,
            title,
            FAIL,
            "Clever answered the credentials check with an unexpected error.",
            evidence,
            "Check CLEVER_OAUTH_BASE_URL points at https://clever.com, then re-check.",
        )
    evidence.append(
        f"GET {settings.CLEVER_OAUTH_BASE_URL}/oauth/tokens (HTTP Basic): accepted, "
        f"{len(tokens)} district token(s)"
    )
    return Outcome(
        key,
        title,
        PASS,
        "Production credentials are configured, differ from the development app's "
        "(CLEVER_DEV_CLIENT_ID), were never used here while declared development, and Clever "
        "accepts them.",
        evidence,
    )


# --- 2. redirect URIs ---------------------------------------------------------------------------


def _district_markers() -> set[str]:

    markers: set[str] = set()
    for clever_id, name in District.objects.values_list("clever_id", "name"):
        markers.add(clever_id.lower())
        if slug := slugify(name):
            markers.add(slug)
    return {m for m in markers if len(m) >= 3}


def check_redirect_uris() -> Outcome:
    """Every redirect URI is HTTPS; the primary one is our callback and fits every district."""
    key, title = "redirect_uris", "Redirect URIs"
    uris = list(settings.CLEVER_REDIRECT_URIS)
    evidence = [f"{'primary' if i == 0 else 'also'}: {uri}" for i, uri in enumerate(uris)]
    if not uris:
        return Outcome(
            key,
            title,
            FAIL,
            "No redirect URI is configured.",
            evidence,
            "Set CLEVER_REDIRECT_URIS (primary first) to the URIs registered in Clever's "
            "dashboard (Settings > Instant Login), e.g. https://app.example.com/sso/clever/callback/",
        )
    problems: list[str] = []
    for uri in uris:
        if urlsplit(uri).scheme != "https" or not urlsplit(uri).netloc:
            problems.append(f"{uri} is not an https:// URL")
    primary = urlsplit(uris[0])
    try:
        expected_path = reverse(CALLBACK_VIEW)
    except NoReverseMatch:
        expected_path = ""
        problems.append(f"our URLconf has no {CALLBACK_VIEW} view (the SSO callback) to serve it")
    if expected_path:
        try:
            match = resolve(primary.path or "/")
        except Resolver404:
            match = None
        if match is None or match.view_name != CALLBACK_VIEW:
            problems.append(
                f"the primary URI's path {primary.path or '/'} is not our callback "
                f"({expected_path}); it resolves to "
                f"{match.view_name if match else 'nothing'}"
            )
        elif match.kwargs:
            problems.append(
                f"the primary URI's path carries per-district parameters {sorted(match.kwargs)}"
            )
        else:
            evidence.append(f"{primary.path} resolves to {CALLBACK_VIEW}")
    if primary.query or primary.fragment:
        problems.append(
            "the primary URI has a query string or fragment; Portal logins arrive without extra "
            "parameters"
        )
    host, _port = split_domain_port(primary.netloc.rsplit("@", 1)[-1])
    if any(ch in primary.netloc + primary.path for ch in "{}*<>"):
        problems.append("the primary URI holds a placeholder; it must be one fixed URL")
    elif host and not validate_host(host, settings.ALLOWED_HOSTS):
        problems.append(f"host {host} is not in ALLOWED_HOSTS, so this app would refuse it")
    lowered = (primary.netloc + primary.path).lower()
    labels = set(host.split(".")) | set(primary.path.lower().strip("/").split("/"))
    for marker in sorted(_district_markers()):
        if marker in labels or (len(marker) >= 20 and marker in lowered):
            problems.append(
                f"the primary URI names a district ({marker}); it must work for every district"
            )
            break
    if settings.CLEVER_REDIRECT_URI and settings.CLEVER_REDIRECT_URI not in uris:
        problems.append(
            f"CLEVER_REDIRECT_URI ({settings.CLEVER_REDIRECT_URI}) is not one of "
            "CLEVER_REDIRECT_URIS, so Clever would refuse our own login button"
        )
    if problems:
        evidence.extend(f"problem: {p}" for p in problems)
        return Outcome(
            key,
            title,
            FAIL,
            f"{len(problems)} problem(s): " + "; ".join(problems) + ".",
            evidence,
            "List the HTTPS URL of our callback first, e.g. "
            f"https://app.example.com{expected_path or '/sso/clever/callback/'}, with no query "
            "string and no district in the host or path (we route users to their district after "
            "login); register the same list in Clever's dashboard and in CLEVER_REDIRECT_URIS.",
        )
    # Settings cannot show what Clever's dashboard lists first: Clever sends Portal and Instant
    # Login users to its primary URI without a state, so only such a login proves it.
    proof = (
        ""
        if settings.CLEVER_ROSTERING_ONLY
        else " That Clever sends Portal logins to it is proved only by a login started from the "
        "Clever Portal (test logins)."
    )
    return Outcome(
        key,
        title,
        PASS,
        f"{len(uris)} redirect URI(s), all HTTPS; the primary one is our callback and serves "
        f"every district.{proof}",
        evidence,
    )


# --- 3. supported user types --------------------------------------------------------------------


def check_user_types() -> Outcome:
    """Supported user types are set, known to Clever, mirrored by the sync and routed by SSO."""

    key, title = "user_types", "Supported user types"
    types = supported_user_types()
    synced = set(settings.CLEVER_SYNC_USER_ROLES)
    evidence = [
        f"CLEVER_SUPPORTED_USER_TYPES = {', '.join(types) or '(none)'}",
        f"CLEVER_SYNC_USER_ROLES = {', '.join(settings.CLEVER_SYNC_USER_ROLES) or '(none)'}",
    ]
    if not types:
        return Outcome(
            key,
            title,
            FAIL,
            "No supported user types are set.",
            evidence,
            "Set CLEVER_SUPPORTED_USER_TYPES (e.g. teacher,student) to the user types selected in "
            "Clever's dashboard (Settings > Instant Login).",
        )
    problems: list[str] = []
    unknown = [t for t in types if t not in CLEVER_USER_TYPES]
    if unknown:
        problems.append(
            f"unknown user type(s) {', '.join(unknown)} (Clever's are "
            f"{', '.join(CLEVER_USER_TYPES)})"
        )
    not_synced = [t for t in types if t in CLEVER_USER_TYPES and t not in synced]
    if not_synced:
        problems.append(
            f"{', '.join(not_synced)} may log in but the sync does not mirror them "
            "(CLEVER_SYNC_USER_ROLES), so they would have no roster"
        )
    unrouted = [t for t in types if t in CLEVER_USER_TYPES and t not in sso_routable_types()]
    if unrouted:
        problems.append(f"SSO has no home page for {', '.join(unrouted)}")
    if settings.CLEVER_ROSTERING_ONLY:
        evidence.append("CLEVER_ROSTERING_ONLY: users do not log in with Clever")
    if problems:
        evidence.extend(f"problem: {p}" for p in problems)
        return Outcome(
            key,
            title,
            FAIL,
            _sentence("; ".join(problems)),
            evidence,
            "Make CLEVER_SUPPORTED_USER_TYPES a subset of CLEVER_SYNC_USER_ROLES using Clever's "
            "type names, and select the same types in Clever's dashboard.",
        )
    return Outcome(
        key,
        title,
        PASS,
        f"Supported: {', '.join(types)}; each is mirrored by the sync and routed by SSO.",
        evidence,
    )


def sso_routable_types() -> tuple[str, ...]:
    """The Clever user types SSO admits and routes to a home page (contacts have none)."""

    return ("student", "teacher", *sorted(ADMIN_TYPES & set(CLEVER_USER_TYPES)))


# --- 4. test logins -----------------------------------------------------------------------------


def check_test_logins() -> Outcome:
    """A successful login with the production configuration for each supported user type."""

    key, title = "test_logins", "Test logins with the production configuration"
    if settings.CLEVER_ROSTERING_ONLY:
        return Outcome(
            key,
            title,
            NOT_APPLICABLE,
            "Rostering only (CLEVER_ROSTERING_ONLY): users do not log in with Clever.",
        )
    types = supported_user_types()
    client_id = settings.CLEVER_CLIENT_ID
    # Only logins through the app configured now count: a login with another client id (the
    # development app, or production credentials since replaced) proves nothing about this one.
    current = LoginRecord.objects.filter(client_id=client_id, production_credentials=True)
    evidence: list[str] = []
    missing: list[str] = []
    for user_type in types:
        # One indexed row per type (client_id, user_type, -created_at): the table grows by a row
        # per login.
        record = (
            current.filter(user_type=user_type)
            .select_related("district")
            .order_by("-created_at")
            .first()
        )
        if record is None:
            missing.append(user_type)
            evidence.append(
                f"{user_type}: no production login recorded with client id {shorten(client_id)}"
            )
        else:
            where = f" ({record.district})" if record.district_id else ""
            via = f" via {record.entry_point}" if record.entry_point else ""
            evidence.append(
                f"{user_type}: last logged in {record.created_at:%Y-%m-%d %H:%M} UTC{where}{via}"
            )
    if not types:
        return Outcome(key, title, FAIL, "No supported user types are set.", evidence)
    if missing:
        return Outcome(
            key,
            title,
            FAIL,
            f"Missing a production test login for: {', '.join(missing)}.",
            evidence,
            "With the production credentials in place, log in once as each missing user type "
            "(Clever dashboard > Testing Logins, the Clever Portal or Log in with Clever); each "
            "successful login is recorded automatically. Then re-check.",
        )
    # Clever sends Portal and Instant Login users to the app's primary redirect URI: only a login
    # Clever started (no state of ours) proves Clever's side of that URI is right.
    portal = current.filter(entry_point="portal").order_by("-created_at").first()
    if portal is None:
        evidence.append("Clever Portal: no login started from Clever recorded")
        return Outcome(
            key,
            title,
            FAIL,
            "No login from the Clever Portal yet: only a login Clever starts proves the primary "
            "redirect URI.",
            evidence,
            "Log in once from the Clever Portal (or Clever dashboard > Testing Logins), not with "
            "our Log in with Clever button; then re-check.",
        )
    evidence.append(f"Clever Portal: last login {portal.created_at:%Y-%m-%d %H:%M} UTC")
    return Outcome(
        key,
        title,
        PASS,
        f"Every supported user type ({', '.join(types)}) has logged in with the production "
        "configuration.",
        evidence,
    )


# --- 5. test sync (rostering only) ---------------------------------------------------------------


def check_test_sync() -> Outcome:
    """For rostering-only setups: a sync of a production-app district succeeded."""

    key, title = "test_sync", "Test sync with the production credentials"
    if not settings.CLEVER_ROSTERING_ONLY:
        return Outcome(
            key,
            title,
            NOT_APPLICABLE,
            "Only needed for rostering-only setups (CLEVER_ROSTERING_ONLY is off); test logins "
            "prove the production configuration instead.",
        )
    fix = (
        "Connect a test district to the production app, then run a sync "
        "(python manage.py clever_sync, or Sync now in the admin) and re-check."
    )
    if settings.CLEVER_APP_ENVIRONMENT != "production":
        return Outcome(
            key,
            title,
            FAIL,
            "The app is not using production credentials (CLEVER_APP_ENVIRONMENT).",
            [f"CLEVER_APP_ENVIRONMENT = {settings.CLEVER_APP_ENVIRONMENT!r}"],
            fix,
        )
    try:
        tokens = data_api.list_district_tokens(
            client_id=settings.CLEVER_CLIENT_ID, client_secret=settings.CLEVER_CLIENT_SECRET
        )
    except errors.CleverError as exc:
        return Outcome(
            key,
            title,
            FAIL,
            "Could not list the production app's districts to tell which syncs used it.",
            [f"GET /oauth/tokens: {type(exc).__name__}"],
            "Fix the production credentials step first. " + fix,
        )
    district_ids = sorted({t.district_id for t in tokens})
    client_id = settings.CLEVER_CLIENT_ID
    evidence = [f"production app's districts (token list): {len(district_ids)}"]
    succeeded = SyncRun.objects.filter(
        district__clever_id__in=district_ids, status=SyncRun.Status.SUCCEEDED, dry_run=False
    )
    # Only a run made with the app configured now counts: one made with the development app, or
    # with production credentials since replaced, proves nothing about this one.
    run = (
        succeeded.filter(client_id=client_id)
        .select_related("district")
        .order_by("-finished_at", "-created_at")
        .first()
    )
    if run is None:
        others = succeeded.exclude(client_id=client_id).count()
        if others:
            evidence.append(
                f"{others} successful sync(s) of those districts were made with another client "
                f"id, not {shorten(client_id)}"
            )
        return Outcome(
            key,
            title,
            FAIL,
            "No successful sync of a district connected to the production app, made with its "
            f"client id ({shorten(client_id)}).",
            evidence,
            fix,
        )
    when = run.finished_at or run.created_at
    evidence.append(
        f"sync #{run.pk} of {run.district} with client id {shorten(client_id)}: succeeded "
        f"{when:%Y-%m-%d %H:%M} UTC"
    )
    return Outcome(
        key,
        title,
        PASS,
        f"A sync of {run.district} with the production credentials succeeded.",
        evidence,
    )


# The steps by key and title, in order: listed before the first check.
STEP_TITLES: tuple[tuple[str, str], ...] = (
    ("credentials", "Production credentials"),
    ("redirect_uris", "Redirect URIs"),
    ("user_types", "Supported user types"),
    ("test_logins", "Test logins with the production configuration"),
    ("test_sync", "Test sync with the production credentials"),
)

STEPS: tuple[Callable[[], Outcome], ...] = (
    check_credentials,
    check_redirect_uris,
    check_user_types,
    check_test_logins,
    check_test_sync,
)
