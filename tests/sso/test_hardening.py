"""Logins on shared devices and unauthenticated requests (issue 13, items 10 and 15)."""

from __future__ import annotations

import random

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core import signing
from django.core.cache import caches
from django.test import Client

from rostering.connections import district_ensure_connected
from rostering.services import district_sync
from sso.models import LoginRecord, RedeemedCode
from tests.sso.helpers import at_clever, button_login, path_and_query, query, text, token_posts

pytestmark = pytest.mark.django_db


def _stored_sessions() -> int:
    """Sessions in whichever store the settings use (database rows or Redis keys)."""
    if django_settings.SESSION_ENGINE == "config.session_cache":
        redis_client = caches["default"]._cache.get_client(write=True)
        return len(redis_client.keys("*django.contrib.sessions.cache*"))
    return Session.objects.count()


def _address() -> str:
    # Rate-limit counts live in Redis between runs: a fresh address per test.
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


# --- 10. A login that arrives ends the previous session first -------------------------------------


def test_a_refused_portal_login_on_a_shared_device_leaves_no_one_logged_in(client, clever, demo):
    district_sync(district=district_ensure_connected(clever_id=demo.district_id))
    teacher = demo.one("teacher", where=lambda u: "district_admin" not in u["roles"])
    admin = demo.one("district_admin", where=lambda u: "teacher" not in u["roles"])
    response, _ = button_login(client, teacher["id"])
    assert response.status_code == 302
    teacher_key = client.cookies["sessionid"].value
    classes_page = text(client.get("/"))
    assert f"Logged in as <strong>{demo.name(teacher)}</strong>" in classes_page
    assert 'data-testid="section"' in classes_page  # her classes

    # The district admin (an unsupported type) launches Classroom from the Clever Portal.
    code = clever.world.issue_code(admin["id"])
    bounce = client.get(f"/sso/clever/callback/?code={code}")
    assert bounce.status_code == 302
    assert client.session.get(SESSION_KEY) is None  # Tara is out before Clever is asked again
    refusal = client.get(path_and_query(at_clever(bounce["Location"], admin["id"])))

    assert refusal.status_code == 403
    page = text(refusal)
    assert "This account type can't use Classroom yet" in page
    assert "district admin account" in page
    assert "Logged in as" not in page and demo.name(teacher) not in page
    assert "Back to your home page" not in page
    assert "Log in with Clever" in page
    home = text(client.get("/"))
    assert demo.name(teacher) not in home and "Log in with Clever" in home
    assert 'data-testid="section"' not in home
    # Her old session key is dead in the store, not just dropped from the cookie.
    stale = Client()
    stale.cookies["sessionid"] = teacher_key
    assert "Log in with Clever" in text(stale.get("/"))


@pytest.mark.parametrize(
    "arrival",
    ["?error=access_denied", "?state=x", "?code=bogus&state=forged"],
)
def test_any_callback_that_arrives_ends_the_previous_session(client, clever, demo, arrival):
    button_login(client, demo.one("teacher")["id"])
    response = client.get(f"/sso/clever/callback/{arrival}")
    assert response.status_code == 400
    assert "Logged in as" not in text(response)
    assert client.session.get(SESSION_KEY) is None


def test_a_login_lasts_a_school_day(client, clever, demo):
    response, _ = button_login(client, demo.one("student")["id"])
    assert int(response.cookies["sessionid"]["max-age"]) == 12 * 3600
    assert client.session.get_expiry_age() == 12 * 3600


def test_refreshing_the_callback_of_this_sessions_login_keeps_it(client, clever, demo):
    teacher = demo.one("teacher")
    _, callback_url = button_login(client, teacher["id"])
    key = client.cookies["sessionid"].value
    again = client.get(path_and_query(callback_url))
    assert again.status_code == 302 and again["Location"] == "/"
    assert client.cookies["sessionid"].value == key
    assert token_posts(clever.world) == 1


def test_someone_elses_used_code_does_not_keep_this_session(client, clever, demo):
    # The code of another browser's login, replayed here, is not this session's login.
    other = Client()
    _, other_callback = button_login(other, demo.one("student")["id"])
    button_login(client, demo.one("teacher")["id"])
    replay = client.get(path_and_query(other_callback))
    assert replay.status_code == 400 and "already used" in text(replay)
    assert client.session.get(SESSION_KEY) is None


# --- 15. Unauthenticated requests store nothing and call no one -----------------------------------


def test_anonymous_login_button_hits_store_no_session(client, clever):
    before = _stored_sessions()
    for _ in range(5):
        assert client.get("/sso/clever/login").status_code == 302
    assert _stored_sessions() == before
    assert "sessionid" not in client.cookies


@pytest.mark.parametrize(
    "callback",
    [
        "?code=bogus",  # state-less (Portal) arrival: bounced to Clever, not redeemed
        "?code=bogus&state=bogus",  # a forged state
        "?code=bogus&state=",
    ],
)
def test_bogus_code_callbacks_store_nothing_and_never_call_clever(client, clever, callback):
    before = _stored_sessions()
    client.get("/sso/clever/login")  # even with flows of its own in progress
    for _ in range(3):
        response = client.get(f"/sso/clever/callback/{callback}")
        assert response.status_code in (302, 400)
    assert _stored_sessions() == before
    assert token_posts(clever.world) == 0
    assert not clever.world.requests or all(
        not path.endswith(("/oauth/tokens", "/me")) for _, path, _ in clever.world.requests
    )
    assert not RedeemedCode.objects.exists() and not LoginRecord.objects.exists()


def test_a_forged_or_tampered_flow_cookie_is_refused(client, clever, demo):
    teacher = demo.one("teacher")
    authorize = client.get("/sso/clever/login")["Location"]
    state = query(authorize)["state"]
    # A cookie made up without SECRET_KEY, naming the state the attacker wants.
    forged = signing.dumps(
        {"f": {state: {"state": state}}, "b": []}, key="not-our-key", salt="sso.flows"
    )
    client.cookies["clever_login"] = forged
    response = client.get(path_and_query(at_clever(authorize, teacher["id"])))
    assert response.status_code == 400
    assert "couldn't verify this login" in text(response)
    assert token_posts(clever.world) == 0


def test_the_login_and_callback_are_rate_limited_per_address(client, clever, settings):
    settings.CLEVER_LOGIN_RATE_LIMIT = "4/m"
    address = _address()
    for url in ["/sso/clever/login", "/sso/clever/callback/?code=x", "/sso/clever/login"] * 1:
        assert client.get(url, REMOTE_ADDR=address).status_code == 302
    assert (
        client.get("/sso/clever/callback/?code=x&state=y", REMOTE_ADDR=address).status_code == 400
    )
    limited = client.get("/sso/clever/login", REMOTE_ADDR=address)
    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 65
    page = text(limited)
    assert "Too many logins from your network right now" in page
    assert "Wait a minute, then try again." in page
    assert client.get("/sso/clever/callback/?code=x", REMOTE_ADDR=address).status_code == 429
    # Another address is not held back by this one.
    assert client.get("/sso/clever/login", REMOTE_ADDR=_address()).status_code == 302


def test_a_rate_limited_callback_still_ends_the_previous_session(client, clever, demo, settings):
    address = _address()
    button_login(client, demo.one("teacher")["id"])
    settings.CLEVER_LOGIN_RATE_LIMIT = "0/m"
    response = client.get("/sso/clever/callback/?code=x", REMOTE_ADDR=address)
    assert response.status_code == 429
    assert "Logged in as" not in text(response)
    assert client.session.get(SESSION_KEY) is None


def test_behind_proxies_the_limit_counts_the_forwarded_client(client, clever, settings):
    settings.CLEVER_LOGIN_RATE_LIMIT = "2/m"
    settings.TRUSTED_PROXY_COUNT = 1
    proxy, first, second = _address(), _address(), _address()

    def hit(client_address: str) -> int:
        forwarded = f"203.0.113.9, {client_address}"  # the first entry is the client's own claim
        return client.get(
            "/sso/clever/login", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=forwarded
        ).status_code

    assert [hit(first), hit(first), hit(first)] == [302, 302, 429]
    assert hit(second) == 302
