"""Checklist steps that ask Clever (the look-alike, over real HTTP on loopback)."""

from __future__ import annotations

import socket
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from golive import checklist
from golive.models import ChecklistRun
from rostering import connections, services
from rostering.models import District
from sso.models import LoginRecord
from tests.golive.factories import make_district, make_run

pytestmark = pytest.mark.django_db

PROD_ID, PROD_SECRET = "prod-client-id-0042", "prod-secret-do-not-show"
DEV_ID = "test-client-id"


@pytest.fixture
def production(clever, settings):
    """The production app registered at the look-alike and configured here."""
    settings.CLEVER_APP_ENVIRONMENT = "production"
    settings.CLEVER_CLIENT_ID = PROD_ID
    settings.CLEVER_CLIENT_SECRET = PROD_SECRET
    settings.CLEVER_DEV_CLIENT_ID = DEV_ID
    settings.CLEVER_HTTP_MAX_RETRIES = 1
    settings.CLEVER_HTTP_BACKOFF_BASE = 0.0
    clever.world.register_app(
        PROD_ID, PROD_SECRET, ["https://app.example.com/sso/clever/callback/"]
    )
    return clever


def test_credentials_pass_when_clever_accepts_the_production_ones(production):
    outcome = checklist.check_credentials()
    assert outcome.status == "pass", outcome.summary
    connected = sum(1 for d in production.world.districts.values() if d.connected)
    assert outcome.evidence[-1] == (
        f"GET {production.base_url}/oauth/tokens (HTTP Basic): accepted, "
        f"{connected} district token(s)"
    )
    assert ("GET", "/oauth/tokens") in [(m, p) for m, p, _ in production.world.requests]
    assert PROD_SECRET not in " ".join(outcome.evidence)
    assert PROD_ID not in " ".join(outcome.evidence)  # shown shortened
    assert "CLEVER_CLIENT_ID = prod…0042" in outcome.evidence


def test_credentials_fail_when_clever_rejects_them(production, settings):
    settings.CLEVER_CLIENT_SECRET = "a-stale-secret"
    outcome = checklist.check_credentials()
    assert outcome.status == "fail"
    assert outcome.summary == "Clever rejected the production client id and secret."
    assert outcome.evidence[-1].endswith("/oauth/tokens: 401 (rejected)")
    assert "a-stale-secret" not in " ".join(outcome.evidence) + outcome.fix


def test_credentials_fail_when_they_are_the_development_ones(production, settings):
    settings.CLEVER_DEV_CLIENT_ID = PROD_ID
    outcome = checklist.check_credentials()
    assert outcome.status == "fail"
    assert outcome.summary == (
        "CLEVER_CLIENT_ID is the development app's client id, not the production one."
    )
    assert production.world.requests == []  # judged before asking Clever


def test_credentials_fail_when_the_environment_is_development(production, settings):
    settings.CLEVER_APP_ENVIRONMENT = "development"
    outcome = checklist.check_credentials()
    assert outcome.status == "fail"
    assert "configured with development credentials" in outcome.summary


def test_credentials_fail_when_the_client_id_was_used_as_the_development_app(production, settings):
    # Logins made with this client id while the app declared itself "development".
    LoginRecord.objects.create(user_type="teacher", client_id=PROD_ID, entry_point="portal")
    LoginRecord.objects.create(user_type="student", client_id=DEV_ID, production_credentials=True)
    outcome = checklist.check_credentials()
    assert outcome.status == "fail"
    assert outcome.summary.startswith(
        "CLEVER_CLIENT_ID was used here as the development app: logins with it were recorded "
        "while CLEVER_APP_ENVIRONMENT was 'development'."
    )
    assert (
        "1 login(s) with client id prod…0042 recorded while CLEVER_APP_ENVIRONMENT was "
        in (outcome.evidence[-1])
    )
    assert "production app's Settings page" in outcome.fix
    assert production.world.requests == []  # judged before asking Clever
    # Logins with the development app, or made in production with this id, prove nothing wrong.
    LoginRecord.objects.filter(client_id=PROD_ID).update(production_credentials=True)
    assert checklist.check_credentials().status == "pass"


def test_credentials_fail_when_the_dev_client_id_is_unknown(production, settings):
    settings.CLEVER_DEV_CLIENT_ID = ""
    outcome = checklist.check_credentials()
    assert outcome.status == "fail"
    assert "CLEVER_DEV_CLIENT_ID is not set" in outcome.summary


@pytest.mark.parametrize("missing", ["CLEVER_CLIENT_ID", "CLEVER_CLIENT_SECRET"])
def test_credentials_fail_when_unconfigured(production, settings, missing):
    setattr(settings, missing, "")
    outcome = checklist.check_credentials()
    assert (outcome.status, outcome.summary) == ("fail", f"Not configured: {missing} not set.")


def test_credentials_fail_when_clever_is_unreachable(production):
    production.world.faults.add("/oauth/tokens", "503", times=5)
    outcome = checklist.check_credentials()
    assert outcome.status == "fail"
    assert outcome.summary == "Could not reach Clever to verify the credentials."
    assert "re-check" in outcome.fix


def test_credentials_fail_when_nothing_answers(production, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.CLEVER_OAUTH_BASE_URL = f"http://127.0.0.1:{closed_port}"
    outcome = checklist.check_credentials()
    assert outcome.status == "fail"
    assert outcome.summary == "Could not reach Clever to verify the credentials."
    assert PROD_SECRET not in " ".join(outcome.evidence)


# --- 5. test sync (rostering only) --------------------------------------------------------------


def _production_district(world, name: str = "Certification ISD") -> District:
    state = world.district_named(name)
    return District.objects.create(clever_id=state.id, name=state.name, status="connected")


def test_test_sync_passes_after_a_sync_of_a_production_app_district(production, settings):
    settings.CLEVER_ROSTERING_ONLY = True
    district = _production_district(production.world)
    make_run(district, "failed", client_id=PROD_ID)
    outcome = checklist.check_test_sync()
    assert outcome.status == "fail"
    assert outcome.summary == (
        "No successful sync of a district connected to the production app, made with its client "
        "id (prod…0042)."
    )

    run = make_run(district, "succeeded", client_id=PROD_ID)
    outcome = checklist.check_test_sync()
    assert outcome.status == "pass"
    assert (
        outcome.summary == "A sync of Certification ISD with the production credentials succeeded."
    )
    assert f"sync #{run.pk} of Certification ISD with client id prod…0042: succeeded" in (
        " ".join(outcome.evidence)
    )


def test_test_sync_counts_only_syncs_made_with_the_current_client_id(production, settings):
    settings.CLEVER_ROSTERING_ONLY = True
    district = _production_district(production.world)
    # Made with the development app, and with production credentials since replaced.
    make_run(district, "succeeded", client_id=DEV_ID)
    make_run(district, "succeeded", client_id="prod-client-id-old1")
    outcome = checklist.check_test_sync()
    assert outcome.status == "fail"
    assert "2 successful sync(s) of those districts were made with another client id, not " in (
        " ".join(outcome.evidence)
    )
    make_run(district, "succeeded", client_id=PROD_ID)
    assert checklist.check_test_sync().status == "pass"


def test_a_real_sync_records_the_client_id_it_used(production, settings):
    settings.CLEVER_ROSTERING_ONLY = True
    connections.district_connections_refresh()
    district = District.objects.get(name="Lakeside Charter Schools")
    assert checklist.check_test_sync().status == "fail"
    run = services.district_sync(district=district)
    run.refresh_from_db()
    assert (run.status, run.client_id) == ("succeeded", PROD_ID)
    outcome = checklist.check_test_sync()
    assert outcome.status == "pass", outcome.evidence
    # The same sync under the next credentials proves nothing about them.
    settings.CLEVER_CLIENT_ID, settings.CLEVER_CLIENT_SECRET = "prod-client-id-0043", "s2"
    production.world.register_app("prod-client-id-0043", "s2", [])
    assert checklist.check_test_sync().status == "fail"


def test_test_sync_ignores_districts_the_production_app_is_not_connected_to(production, settings):
    settings.CLEVER_ROSTERING_ONLY = True
    make_run(make_district("A sandbox district"), "succeeded", client_id=PROD_ID)
    district = _production_district(production.world)
    make_run(district, "succeeded", client_id=PROD_ID)
    production.world.disconnect(district.clever_id)
    outcome = checklist.check_test_sync()
    assert outcome.status == "fail"


# --- the whole checklist ------------------------------------------------------------------------


def test_ready_to_go_live_only_when_every_step_passes(production, settings, staff_client):
    settings.ALLOWED_HOSTS = ["app.example.com", "testserver", "127.0.0.1"]
    settings.CLEVER_REDIRECT_URI = "https://app.example.com/sso/clever/callback/"
    settings.CLEVER_REDIRECT_URIS = [settings.CLEVER_REDIRECT_URI]
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "student"]
    LoginRecord.objects.create(
        user_type="teacher",
        production_credentials=True,
        client_id=settings.CLEVER_CLIENT_ID,
        entry_point="portal",
    )

    page = staff_client.post(reverse("golive:recheck"), follow=True)
    html = page.content.decode()
    assert 'data-testid="verdict">Not ready to go live<' in html
    assert "1 step to fix: Test logins with the production configuration." in html

    LoginRecord.objects.create(
        user_type="student",
        production_credentials=True,
        client_id=settings.CLEVER_CLIENT_ID,
        entry_point="portal",
    )
    page = staff_client.post(reverse("golive:recheck"), follow=True)
    html = page.content.decode()
    assert 'data-testid="verdict">Ready to go live<' in html
    assert "Re-checked: every step passes. Ready to go live." in html
    assert html.count('data-status="pass"') == 4 and html.count('data-status="n/a"') == 1
    assert PROD_SECRET not in html
    out = StringIO()
    call_command("golive_check", stdout=out)
    assert out.getvalue().endswith("Ready to go live.\n")
    assert ChecklistRun.objects.count() == 3
