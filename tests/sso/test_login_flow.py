"""Log in with Clever end to end: our views in-process, Clever (the look-alike) over real HTTP."""

from __future__ import annotations

import logging
from datetime import timedelta
from importlib import import_module

import pytest
import requests
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from accounts.models import User
from clever import errors, identity
from rostering.models import UserRole
from sso.models import LoginRecord, RedeemedCode
from tests.factories import UserFactory
from tests.sso.helpers import (
    at_clever,
    button_login,
    path_and_query,
    query,
    start_login,
    text,
    token_posts,
)

pytestmark = pytest.mark.django_db

ALL_TYPES = ["teacher", "student", "staff", "district_admin"]


def _logged_in_as(client: Client) -> User | None:
    pk = client.session.get(SESSION_KEY)
    return User.objects.get(pk=pk) if pk else None


def _nothing_written() -> None:
    assert not User.objects.filter(clever_id__isnull=False).exists()
    assert not LoginRecord.objects.exists()


# --- Button logins --------------------------------------------------------------------------------


@pytest.mark.parametrize("user_type", ALL_TYPES)
def test_button_login_for_every_supported_type(client, clever, demo, settings, user_type):
    settings.CLEVER_SUPPORTED_USER_TYPES = ALL_TYPES
    person = demo.one(user_type)
    response, _ = button_login(client, person["id"], as_role=user_type)
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert f"Logged in as <strong>{demo.name(person)}</strong>" in text(home)
    assert "Log out" in text(home)
    user = User.objects.get(clever_id=person["id"])
    assert _logged_in_as(client) == user
    assert user.first_name == person["name"]["first"] and user.source == "clever"
    record = LoginRecord.objects.get()
    assert (record.user, record.user_type, record.entry_point) == (user, user_type, "button")
    assert record.district.clever_id == demo.district_id
    assert record.production_credentials is False
    assert timedelta(0) <= timezone.now() - record.created_at < timedelta(minutes=1)
    assert set(UserRole.objects.filter(user=user).values_list("role", flat=True)) == set(
        person["roles"]
    )


def test_default_settings_admit_teachers_and_students_only(settings):
    assert set(settings.CLEVER_SUPPORTED_USER_TYPES) == {"teacher", "student"}


def test_production_credentials_are_recorded(client, clever, demo, settings):
    settings.CLEVER_APP_ENVIRONMENT = "production"
    # In production a district's users log in once Clever's launch date has passed (golive): the
    # look-alike's demo district launched in Clever on 2025-08-01, read at its first login.
    button_login(client, demo.one("teacher")["id"])
    assert LoginRecord.objects.get().production_credentials is True


def test_district_hint_is_passed_to_clever(client, clever, demo):
    url = start_login(client, district_id=demo.district_id)
    assert query(url)["district_id"] == demo.district_id
    assert query(url)["redirect_uri"] == "http://testserver/sso/clever/callback/"
    assert query(url)["state"]


def test_login_for_a_district_whose_first_sync_has_not_run(client, clever, demo):
    # No District row exists yet: login learns the connection from Clever's token list.
    from rostering.models import District

    assert not District.objects.exists()
    response, _ = button_login(client, demo.one("student")["id"])
    assert response.status_code == 302
    district = District.objects.get(clever_id=demo.district_id)
    assert district.status == District.Status.CONNECTED
    page = text(client.get("/"))
    assert "haven't synced yet" in page


# --- Portal / Instant Login (no state) ------------------------------------------------------------


def test_portal_login_without_state_bounces_once_then_completes(client, clever, demo):
    teacher = demo.one("teacher")
    code = clever.world.issue_code(teacher["id"])
    bounce = client.get(f"/sso/clever/callback/?code={code}")
    # Not refused, not sent to our own login page: back to Clever with a fresh state.
    assert bounce.status_code == 302
    assert bounce["Location"].startswith(f"{clever.base_url}/oauth/authorize?")
    assert query(bounce["Location"])["state"]
    assert token_posts(clever.world) == 0  # the state-less code is never redeemed
    assert _logged_in_as(client) is None
    callback_url = at_clever(bounce["Location"], teacher["id"])
    response = client.get(path_and_query(callback_url))
    assert response.status_code == 302 and response["Location"] == "/"
    assert _logged_in_as(client).clever_id == teacher["id"]
    assert LoginRecord.objects.get().entry_point == "portal"
    assert token_posts(clever.world) == 1


def test_portal_login_from_the_look_alike_portal_page(client, clever, demo):
    # The same path a person takes in the browser test, with the portal's own link.
    teacher = demo.one("teacher")
    portal = requests.get(f"{clever.base_url}/portal", timeout=10)
    assert portal.status_code == 200
    code = clever.world.issue_code(teacher["id"])
    response = client.get(f"/sso/clever/callback/?code={code}", follow=False)
    callback_url = at_clever(response["Location"], teacher["id"])
    assert client.get(path_and_query(callback_url)).status_code == 302
    assert _logged_in_as(client).clever_id == teacher["id"]


def test_instant_login_link_without_state_completes(client, clever, demo, settings):
    student = demo.one("student")
    link = requests.get(
        f"{clever.base_url}/oauth/instant-login",
        params={
            "client_id": settings.CLEVER_CLIENT_ID,
            "district_id": demo.district_id,
            "login_as": student["id"],
        },
        allow_redirects=False,
        timeout=10,
    )
    assert link.status_code in (302, 303)
    landing = link.headers["Location"]
    assert landing.startswith(settings.CLEVER_REDIRECT_URI) and "state" not in query(landing)
    bounce = client.get(path_and_query(landing))
    assert bounce.status_code == 302 and query(bounce["Location"])["state"]
    response = client.get(path_and_query(at_clever(bounce["Location"], student["id"])))
    assert response.status_code == 302
    assert _logged_in_as(client).clever_id == student["id"]
    assert LoginRecord.objects.get().entry_point == "portal"
    assert token_posts(clever.world) == 1


def test_endless_state_less_callbacks_stop_on_a_friendly_page(client, clever, demo):
    teacher = demo.one("teacher")
    for _ in range(3):
        code = clever.world.issue_code(teacher["id"])
        assert client.get(f"/sso/clever/callback/?code={code}").status_code == 302
    code = clever.world.issue_code(teacher["id"])
    response = client.get(f"/sso/clever/callback/?code={code}")
    assert response.status_code == 400
    assert "couldn't finish the login" in text(response)
    assert token_posts(clever.world) == 0


# --- Forged and replayed states -------------------------------------------------------------------


def test_forged_state_is_refused_and_nothing_is_written(client, clever, demo):
    teacher = demo.one("teacher")
    authorize = start_login(client)
    callback_url = at_clever(authorize, teacher["id"], state="forged-state")
    response = client.get(path_and_query(callback_url))
    assert response.status_code == 400
    assert "couldn't verify this login" in text(response)
    assert "Log in with Clever" in text(response)
    assert token_posts(clever.world) == 0
    assert not RedeemedCode.objects.exists()
    _nothing_written()
    assert _logged_in_as(client) is None


def test_state_from_another_browser_is_refused(client, clever, demo):
    # Login CSRF: the attacker starts a login in their browser and sends the victim the link.
    attacker = Client()
    authorize = start_login(attacker)
    callback_url = at_clever(authorize, demo.one("teacher")["id"])
    response = client.get(path_and_query(callback_url))
    assert response.status_code == 400
    assert token_posts(clever.world) == 0
    _nothing_written()


def test_replayed_state_with_a_new_code_is_refused(client, clever, demo):
    teacher = demo.one("teacher")
    response, callback_url = button_login(client, teacher["id"])
    assert response.status_code == 302
    state = query(callback_url)["state"]
    new_code = clever.world.issue_code(teacher["id"])
    replay = client.get(f"/sso/clever/callback/?code={new_code}&state={state}")
    assert replay.status_code == 400
    assert token_posts(clever.world) == 1
    # A login that arrives ends the session first, even one refused (a shared device).
    assert _logged_in_as(client) is None
    assert "Logged in as" not in text(replay)


def test_expired_state_is_refused(client, clever, demo, monkeypatch):
    from sso import flows

    authorize = start_login(client)
    real_time = flows.time.time
    monkeypatch.setattr(flows.time, "time", lambda: real_time() + flows.FLOW_TTL_SECONDS + 1)
    response = client.get(path_and_query(at_clever(authorize, demo.one("teacher")["id"])))
    assert response.status_code == 400
    assert "took too long" in text(response)
    assert token_posts(clever.world) == 0


# --- Codes ----------------------------------------------------------------------------------------


def test_replayed_code_is_never_posted_again_and_the_user_goes_home(client, clever, demo):
    teacher = demo.one("teacher")
    response, callback_url = button_login(client, teacher["id"])
    assert response.status_code == 302
    for _ in range(2):  # refresh, back button
        replay = client.get(path_and_query(callback_url))
        assert replay.status_code == 302 and replay["Location"] == "/"
    assert token_posts(clever.world) == 1
    assert LoginRecord.objects.count() == 1
    assert RedeemedCode.objects.count() == 1
    assert len(RedeemedCode.objects.get().code_hash) == 64
    assert query(callback_url)["code"] not in RedeemedCode.objects.get().code_hash


def test_replayed_code_in_a_logged_out_browser_gets_a_friendly_page(client, clever, demo):
    _, callback_url = button_login(client, demo.one("teacher")["id"])
    other = Client()
    replay = other.get(path_and_query(callback_url))
    assert replay.status_code == 400
    assert "already used" in text(replay)
    assert token_posts(clever.world) == 1


def test_code_exchange_failure_shows_a_friendly_page(client, clever, demo, settings):
    # The code is spent before our callback sees it (expired, or used elsewhere).
    teacher = demo.one("teacher")
    callback_url = at_clever(start_login(client), teacher["id"])
    spent = requests.post(
        f"{clever.base_url}/oauth/tokens",
        auth=(settings.CLEVER_CLIENT_ID, settings.CLEVER_CLIENT_SECRET),
        data={
            "grant_type": "authorization_code",
            "code": query(callback_url)["code"],
            "redirect_uri": "http://testserver/sso/clever/callback/",
        },
        timeout=10,
    )
    assert spent.status_code == 200
    response = client.get(path_and_query(callback_url))
    assert response.status_code == 400
    assert "Clever didn't accept this login" in text(response)
    _nothing_written()
    assert _logged_in_as(client) is None


def test_clever_error_parameter_is_shown_kindly(client, clever):
    start_login(client)
    response = client.get("/sso/clever/callback/?error=access_denied")
    assert response.status_code == 400
    assert "cancelled at Clever" in text(response)


# --- Who gets in ----------------------------------------------------------------------------------


def test_unsupported_type_is_named_on_a_friendly_page(client, clever, demo):
    staff = demo.one("staff", where=lambda u: "teacher" not in u["roles"])
    response, _ = button_login(client, staff["id"], as_role="staff")
    assert response.status_code == 403
    page = text(response)
    assert "with a staff account" in page and "doesn't support" in page
    _nothing_written()


def test_contacts_are_never_admitted(client, clever, demo, settings):
    settings.CLEVER_SUPPORTED_USER_TYPES = [*ALL_TYPES, "contact"]
    contact = demo.one("contact")
    response, _ = button_login(client, contact["id"], as_role="contact")
    assert response.status_code == 403
    assert "with a contact account" in text(response)
    _nothing_written()


def test_unconnected_district_gets_a_friendly_page(client, clever, demo):
    # The district disconnects between Clever's login page and our callback, so Clever's token
    # list no longer names it.
    callback_url = at_clever(start_login(client), demo.one("teacher")["id"])
    clever.world.disconnect(demo.district_id)
    response = client.get(path_and_query(callback_url))
    assert response.status_code == 403
    assert "isn't connected to Classroom" in text(response)
    _nothing_written()


def test_not_launched_district_shows_the_reason(client, clever, demo, monkeypatch):
    from sso import gates

    monkeypatch.setattr(gates, "_gates", [lambda **kw: "Launch is scheduled for 1 December."])
    response, _ = button_login(client, demo.one("teacher")["id"])
    assert response.status_code == 403
    page = text(response)
    assert "isn't launched for your district yet" in page and "1 December" in page
    _nothing_written()


def test_multi_role_employee_logs_in_and_keeps_every_role(client, clever, demo, settings):
    settings.CLEVER_SUPPORTED_USER_TYPES = ALL_TYPES
    person = demo.one("teacher", where=lambda u: len(u["roles"]) > 1)
    other_role = next(r for r in person["roles"] if r != "teacher")
    response, _ = button_login(client, person["id"], as_role=other_role)
    assert response.status_code == 302
    user = User.objects.get(clever_id=person["id"])
    assert set(UserRole.objects.filter(user=user).values_list("role", flat=True)) == set(
        person["roles"]
    )
    assert LoginRecord.objects.get().user_type == other_role
    client.post("/logout/")
    button_login(client, person["id"], as_role="teacher")
    assert User.objects.filter(clever_id=person["id"]).count() == 1
    assert LoginRecord.objects.filter(user=user).count() == 2


def test_teaching_admin_is_admitted_as_teacher_when_admins_are_off(client, clever, demo):
    person = demo.one("teacher", where=lambda u: {"staff", "district_admin"} & set(u["roles"]))
    admin_role = next(r for r in person["roles"] if r in ("staff", "district_admin"))
    response, _ = button_login(client, person["id"], as_role=admin_role)
    assert response.status_code == 302
    assert client.session["clever_login_type"] == "teacher"
    assert LoginRecord.objects.get().user_type == admin_role


def test_student_without_email_logs_in(client, clever, demo):
    student = demo.one("student", where=lambda u: not u.get("email"))
    response, _ = button_login(client, student["id"])
    assert response.status_code == 302
    user = User.objects.get(clever_id=student["id"])
    assert user.email == ""
    assert demo.name(student) in text(client.get("/"))


def test_later_logins_refresh_name_and_email(client, clever, demo):
    teacher = demo.one("teacher")
    button_login(client, teacher["id"])
    User.objects.filter(clever_id=teacher["id"]).update(first_name="Stale", email="stale@x")
    client.post("/logout/")
    button_login(client, teacher["id"])
    user = User.objects.get(clever_id=teacher["id"])
    assert user.first_name == teacher["name"]["first"]
    assert user.email == (teacher.get("email") or "")


# --- Matching accounts made before Clever ---------------------------------------------------------


def _sis_id(person: dict, role: str) -> str:
    return person["roles"][role].get("sis_id", "")


def test_existing_account_is_linked_by_sis_id(client, clever, demo):
    teacher = demo.one("teacher", where=lambda u: _sis_id(u, "teacher"))
    local = UserFactory(username="pre-clever", sis_id=_sis_id(teacher, "teacher"))
    response, _ = button_login(client, teacher["id"])
    assert response.status_code == 302
    local.refresh_from_db()
    assert local.clever_id == teacher["id"]
    assert _logged_in_as(client) == local
    assert User.objects.count() == 1


def test_existing_account_is_linked_by_verified_email(client, clever, demo, settings):
    teacher = demo.one("teacher", where=lambda u: "@" in (u.get("email") or ""))
    settings.CLEVER_ACCOUNT_MATCHING = ["clever_id", "email"]
    settings.CLEVER_VERIFIED_EMAIL_DOMAINS = [teacher["email"].split("@")[1]]
    local = UserFactory(username="pre-clever", email=teacher["email"].upper())
    button_login(client, teacher["id"])
    assert _logged_in_as(client) == local


def test_unverified_email_match_logs_in_to_their_own_account_not_merged(
    client, clever, demo, settings
):
    teacher = demo.one("teacher", where=lambda u: "@" in (u.get("email") or ""))
    settings.CLEVER_ACCOUNT_MATCHING = ["clever_id", "email"]
    settings.CLEVER_VERIFIED_EMAIL_DOMAINS = []
    local = UserFactory(username="pre-clever", email=teacher["email"])
    response, _ = button_login(client, teacher["id"])
    assert response.status_code == 302
    local.refresh_from_db()
    assert local.clever_id is None
    assert _logged_in_as(client) == User.objects.get(clever_id=teacher["id"])


# --- Shared devices and sessions ------------------------------------------------------------------


def test_a_new_login_replaces_whoever_was_logged_in(client, clever, demo):
    teacher, student = demo.one("teacher"), demo.one("student")
    button_login(client, teacher["id"])
    teacher_session = client.cookies["sessionid"].value
    response, _ = button_login(client, student["id"])
    assert response.status_code == 302
    assert _logged_in_as(client).clever_id == student["id"]
    assert client.cookies["sessionid"].value != teacher_session
    page = text(client.get("/"))
    assert f"Logged in as <strong>{demo.name(student)}</strong>" in page
    # The teacher's old session no longer logs anyone in.
    stale = Client()
    stale.cookies["sessionid"] = teacher_session
    assert "Log in with Clever" in text(stale.get("/"))


def test_session_key_is_cycled_on_every_login(client, clever, demo):
    teacher = demo.one("teacher")
    start_login(client)
    assert "sessionid" not in client.cookies  # an anonymous visitor has no session
    button_login(client, teacher["id"])
    first_key = client.cookies["sessionid"].value
    button_login(client, teacher["id"])  # the same person again
    assert client.cookies["sessionid"].value != first_key
    assert _logged_in_as(client).clever_id == teacher["id"]
    # The keys given up are gone from the store, not just replaced in the cookie.
    store = import_module(django_settings.SESSION_ENGINE).SessionStore()
    assert store.exists(client.cookies["sessionid"].value)
    assert not store.exists(first_key)


def test_login_start_stores_nothing(client, clever, settings, django_assert_num_queries):
    settings.SESSION_ENGINE = "config.session_store"  # sessions in the database (no CACHE_URL)
    for _ in range(3):
        with django_assert_num_queries(0):
            start_login(client)
    assert not Session.objects.exists()
    assert "sessionid" not in client.cookies
    # The pending flows are in a signed cookie sent only to the login URLs.
    cookie = client.cookies["clever_login"]
    assert cookie["path"] == "/sso/clever/" and cookie["httponly"]
    assert cookie["samesite"] == "Lax" and int(cookie["max-age"]) == 600


def test_log_out(client, clever, demo):
    button_login(client, demo.one("teacher")["id"])
    response = client.post("/logout/")
    assert response.status_code == 302
    assert "Log in with Clever" in text(client.get("/"))


# --- next -----------------------------------------------------------------------------------------


def test_next_is_honoured_for_our_own_paths(client, clever, demo):
    response, _ = button_login(client, demo.one("teacher")["id"], next="/golive/?tab=1")
    assert response["Location"] == "/golive/?tab=1"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "http:evil.example"],
)
def test_open_redirect_attempts_land_home(client, clever, demo, target):
    response, _ = button_login(client, demo.one("teacher")["id"], next=target)
    assert response.status_code == 302 and response["Location"] == "/"


# --- Clever down ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "kind"),
    [
        ("/oauth/tokens", "503"),
        ("/oauth/tokens", "html"),
        ("/v3.0/me", "500"),
        ("/v3.0/users/", "502"),
        ("/v3.0/me", "timeout"),
    ],
)
def test_clever_down_ends_on_a_friendly_page(client, clever, demo, settings, prefix, kind):
    settings.CLEVER_HTTP_TIMEOUT = 0.5
    clever.world.faults.timeout_seconds = 1.5
    callback_url = at_clever(start_login(client), demo.one("teacher")["id"])
    clever.world.faults.add(prefix, kind)
    response = client.get(path_and_query(callback_url))
    assert response.status_code == 503
    page = text(response)
    assert "Clever isn't answering right now" in page and "try again" in page
    _nothing_written()
    assert _logged_in_as(client) is None


# --- Logs -----------------------------------------------------------------------------------------


def test_no_log_line_carries_a_code_or_token(client, clever, demo, caplog):
    caplog.set_level(logging.DEBUG)
    teacher = demo.one("teacher")
    response, callback_url = button_login(client, teacher["id"])
    assert response.status_code == 302
    code = query(callback_url)["code"]
    state = query(callback_url)["state"]
    client.get(path_and_query(callback_url))  # replay
    failed = at_clever(start_login(client), teacher["id"], state="forged")
    client.get(path_and_query(failed))
    clever.world.faults.add("/oauth/tokens", "503")
    down = at_clever(start_login(client), teacher["id"])
    client.get(path_and_query(down))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "clever login failed: state_mismatch" in text  # failures are logged...
    assert "clever login failed: clever_unavailable" in text
    for secret in (code, state, query(failed)["code"], query(down)["code"], "test-client-secret"):
        assert secret not in text  # ...without codes, states or secrets
    assert "Bearer " not in text and "access_token" not in text


def test_a_user_record_from_another_district_than_the_login_is_refused(client, clever, demo):
    teacher = demo.one("teacher")
    callback_url = at_clever(start_login(client), teacher["id"])
    # /me names the district the person logged in through; their record now names another.
    clever.world.update_record("users", teacher["id"], district="0" * 24)
    response = client.get(path_and_query(callback_url))
    assert response.status_code == 502
    assert "Clever sent an answer we couldn't use" in text(response)
    assert _logged_in_as(client) is None
    _nothing_written()


# --- Hot path -------------------------------------------------------------------------------------


def test_returning_user_callback_query_count(
    client, clever, demo, django_assert_max_num_queries, session_queries
):
    teacher = demo.one("teacher")
    button_login(Client(), teacher["id"])  # yesterday, on another device
    callback_url = at_clever(start_login(client), teacher["id"])
    # The redeemed code (one INSERT ... ON CONFLICT); district; account; roles (unchanged: no
    # write); last_login; the LoginRecord; no transaction around any of them. Sessions in the
    # database add only the new row's insert: the login button stored no session (its state is
    # in a signed cookie), so there is none to load or delete.
    with django_assert_max_num_queries(20) as ctx:
        response = client.get(path_and_query(callback_url))
    assert response.status_code == 302
    writes = [
        q["sql"].split(" (")[0]
        for q in ctx.captured_queries
        if q["sql"][:6] in ("INSERT", "UPDATE", "DELETE")
    ]
    assert not any("accounts_user" in w and "last_login" not in w for w in writes), writes
    assert not any("rostering_userrole" in w for w in writes), writes
    real = [q["sql"][:40] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(real) == 6 + session_queries, real
    if not session_queries:
        assert len(ctx.captured_queries) == 6  # no transactions at all


def test_launch_gating_adds_no_query_once_clevers_launch_date_has_passed(
    client, clever, demo, settings, django_assert_max_num_queries, session_queries
):
    settings.CLEVER_APP_ENVIRONMENT = "production"
    teacher = demo.one("teacher")
    button_login(Client(), teacher["id"])  # yesterday, on another device
    callback_url = at_clever(start_login(client), teacher["id"])
    with django_assert_max_num_queries(20) as ctx:
        response = client.get(path_and_query(callback_url))
    assert response.status_code == 302
    real = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    # The six of a development login: Clever's launch date is on the district row it reads.
    assert len(real) == 6 + session_queries, real
    assert not any("golive_" in q for q in real)


def test_launch_gating_reads_our_note_while_clevers_launch_date_is_unknown(
    client, clever, demo, settings, django_assert_max_num_queries, session_queries
):
    from golive import services as golive_services
    from rostering.models import District

    settings.CLEVER_APP_ENVIRONMENT = "production"
    teacher = demo.one("teacher")
    button_login(Client(), teacher["id"])  # yesterday, on another device
    # As if Clever's district record had never been read: ops' note of the launch decides.
    District.objects.filter(clever_id=demo.district_id).update(
        clever_launch_date=None, clever_state_checked_at=None
    )
    golive_services.connection_launch_now(clever_district_id=demo.district_id, by=None)
    callback_url = at_clever(start_login(client), teacher["id"])
    with django_assert_max_num_queries(20) as ctx:
        response = client.get(path_and_query(callback_url))
    assert response.status_code == 302
    real = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    # The six of a development login, and the district's connection (launched: no tester read).
    assert len(real) == 6 + 1 + session_queries, real
    assert sum("golive_districtconnection" in q for q in real) == 1


# --- OpenID Connect -------------------------------------------------------------------------------


@pytest.fixture
def oidc(settings, clever):
    settings.CLEVER_OIDC_ENABLED = True
    clever.world.default_app().oidc = True  # Clever's support enabled OIDC for our app
    identity.clear_caches()


def test_oidc_login_validates_the_id_token_and_keys_on_sub(client, clever, demo, oidc):
    teacher = demo.one("teacher")
    authorize = start_login(client)
    assert query(authorize)["nonce"]
    response = client.get(path_and_query(at_clever(authorize, teacher["id"])))
    assert response.status_code == 302
    assert _logged_in_as(client).clever_id == teacher["id"]
    paths = [path for method, path, _ in clever.world.requests if method == "GET"]
    assert any(p.endswith("/.well-known/openid-configuration") for p in paths)
    assert not any(p.endswith("/v3.0/me") for p in paths)  # the id_token's sub is the key


def test_oidc_wrong_nonce_is_refused(client, clever, demo, oidc):
    authorize = start_login(client)
    callback_url = at_clever(authorize, demo.one("teacher")["id"], nonce="someone-elses-nonce")
    response = client.get(path_and_query(callback_url))
    assert response.status_code == 400
    assert "couldn't verify this login" in text(response)
    _nothing_written()


def test_oidc_expired_id_token_is_refused(client, clever, demo, oidc, monkeypatch):
    real_now = identity._now
    monkeypatch.setattr(identity, "_now", lambda: real_now() + 2 * 3600)
    callback_url = at_clever(start_login(client), demo.one("teacher")["id"])
    response = client.get(path_and_query(callback_url))
    assert response.status_code == 400
    _nothing_written()


def _id_token_for(clever, app_id: str, user_id: str, nonce: str) -> str:
    """An id_token the look-alike mints for another app (its audience is that app)."""
    redirect = "http://other.example/cb/"
    clever.world.register_app(app_id, "other-secret", [redirect], oidc=True)
    authorize = (
        f"{clever.base_url}/oauth/authorize?response_type=code&client_id={app_id}"
        f"&redirect_uri={requests.utils.quote(redirect, safe='')}&state=s&nonce={nonce}"
    )
    code = query(at_clever(authorize, user_id))["code"]
    tokens = requests.post(
        f"{clever.base_url}/oauth/tokens",
        auth=(app_id, "other-secret"),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
        timeout=10,
    ).json()
    return tokens["id_token"]


def test_oidc_id_token_for_another_audience_is_refused(clever, demo, oidc):
    token = _id_token_for(clever, "other-app", demo.one("teacher")["id"], nonce="n1")
    with pytest.raises(errors.IdTokenInvalid):
        identity.validate_id_token(id_token=token, nonce="n1")


def test_oidc_tampered_id_token_is_refused(clever, demo, oidc, settings):
    settings.CLEVER_CLIENT_ID = "other-app"
    token = _id_token_for(clever, "other-app", demo.one("teacher")["id"], nonce="n1")
    assert identity.validate_id_token(id_token=token, nonce="n1").sub  # genuine: accepted
    header, payload, signature = token.split(".")
    flipped = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")
    with pytest.raises(errors.IdTokenInvalid):
        identity.validate_id_token(id_token=f"{header}.{payload}.{flipped}", nonce="n1")


def test_unsupported_type_page_names_what_is_supported(client, clever, demo, settings):
    settings.CLEVER_SUPPORTED_USER_TYPES = ["student"]
    response, _ = button_login(
        client, demo.one("teacher", where=lambda u: len(u["roles"]) == 1)["id"]
    )
    assert response.status_code == 403
    page = text(response)
    assert "with a teacher account" in page and "(students)" in page
    _nothing_written()


def test_redeemed_code_hashes_are_pruned_after_a_day_by_celery_beat(client, clever, demo, settings):
    from datetime import timedelta

    from django.utils import timezone

    from sso.tasks import prune_redeemed_codes

    schedule = settings.CELERY_BEAT_SCHEDULE["prune-redeemed-codes"]
    assert schedule["task"] == prune_redeemed_codes.name
    button_login(client, demo.one("teacher")["id"])
    assert prune_redeemed_codes() == 0
    RedeemedCode.objects.update(created_at=timezone.now() - timedelta(days=1, minutes=1))
    assert prune_redeemed_codes() == 1
    assert not RedeemedCode.objects.exists()


def test_a_deactivated_account_is_refused_with_a_page_that_says_so(client, clever, demo):
    teacher = demo.one("teacher")
    button_login(client, teacher["id"])
    User.objects.filter(clever_id=teacher["id"]).update(is_active=False)
    fresh = Client()
    response, _ = button_login(fresh, teacher["id"])
    assert response.status_code == 403
    assert "Your account here is turned off" in text(response)
    assert _logged_in_as(fresh) is None
    assert LoginRecord.objects.count() == 1  # only the first, active login
