"""District connections from Clever's token list (narrow HTTP cases on scripted servers).

Two scripted loopback servers (tests/clever/scripted.py) stand in for Clever's API host and its
OAuth host; each test says what they answer and reads back what was sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.utils import timezone

from clever import identity
from rostering import connections
from rostering.models import District
from tests.clever.scripted import Scripted

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(server) -> Scripted:
    """Clever's API host (district records)."""
    return server


@pytest.fixture
def oauth(serve_scripted) -> Scripted:
    """Clever's OAuth host (the token list)."""
    return serve_scripted().scripted


@pytest.fixture(autouse=True)
def _clever_settings(settings, api, oauth) -> Iterator[None]:
    settings.CLEVER_API_BASE_URL = api.base
    settings.CLEVER_OAUTH_BASE_URL = oauth.base
    settings.CLEVER_CLIENT_ID = "cid"
    settings.CLEVER_CLIENT_SECRET = "secret"
    settings.CLEVER_HTTP_BACKOFF_BASE = 0.001
    identity.clear_caches()
    yield
    identity.clear_caches()


def _tokens(*pairs):
    data = [
        {"data": {"id": f"t{d}", "access_token": t, "owner": {"type": "district", "id": d}}}
        for d, t in pairs
    ]
    return {"data": data, "links": []}


def _district(api, district_id, name):
    api.answer(
        "GET", f"/v3.0/districts/{district_id}", body={"data": {"id": district_id, "name": name}}
    )


def test_refresh_creates_updates_and_disconnects(api, oauth):
    stale = District(clever_id="d-old", name="Old", status=District.Status.CONNECTED)
    stale.set_token("old-token")
    stale.save()
    changed = District(clever_id="d2", name="Two", status=District.Status.CONNECTED)
    changed.set_token("tok2-before")
    changed.save()
    oauth.answer("GET", "/oauth/tokens", body=_tokens(("d1", "tok1"), ("d2", "tok2")))
    _district(api, "d1", "District One")

    result = connections.district_connections_refresh()

    assert result.created == ["d1"]
    assert result.token_changed == ["d2"]
    assert result.disconnected == ["d-old"]
    d1 = District.objects.get(clever_id="d1")
    assert (d1.name, d1.status, d1.token) == ("District One", "connected", "tok1")
    assert d1.token_ciphertext and "tok1" not in d1.token_ciphertext
    assert d1.connected_at is not None
    assert District.objects.get(clever_id="d2").token == "tok2"
    old = District.objects.get(clever_id="d-old")
    assert old.status == "disconnected" and old.disconnected_at and old.token == ""
    # The name lookup used the district's own token.
    name_call = next(c for c in api.received if "/v3.0/districts/d1" in c.url)
    assert name_call.headers["Authorization"] == "Bearer tok1"


def test_refresh_twice_changes_nothing_the_second_time(api, oauth):
    oauth.answer("GET", "/oauth/tokens", body=_tokens(("d1", "tok1")))
    _district(api, "d1", "District One")
    connections.district_connections_refresh()
    result = connections.district_connections_refresh()
    assert not result.changed and result.unchanged == ["d1"]
    assert District.objects.count() == 1


def test_refresh_reconnects_a_disconnected_district(oauth):
    district = District.objects.create(
        clever_id="d1", name="One", status=District.Status.DISCONNECTED
    )
    oauth.answer("GET", "/oauth/tokens", body=_tokens(("d1", "tok1")))
    result = connections.district_connections_refresh()
    district.refresh_from_db()
    assert result.reconnected == ["d1"]
    assert (district.status, district.token, district.disconnected_at) == (
        "connected",
        "tok1",
        None,
    )


def test_ensure_connected_returns_a_known_connected_district_without_calling_clever(api, oauth):
    district = District(clever_id="d1", name="One")
    district.set_token("tok")
    district.save()
    found = connections.district_ensure_connected(clever_id="d1")
    assert found == district and found.token == "tok"  # the stored token decrypts
    fields = [f.attname for f in District._meta.concrete_fields]
    orm = District.objects.get(pk=district.pk)
    assert {f: getattr(found, f) for f in fields} == {f: getattr(orm, f) for f in fields}
    assert api.received == [] and oauth.received == []


def test_ensure_connected_looks_up_an_unknown_district_once(api, oauth):
    oauth.answer("GET", "/oauth/tokens", body=_tokens(("d1", "tok1"), ("d9", "tok9")))
    _district(api, "d1", "District One")
    district = connections.district_ensure_connected(clever_id="d1")
    assert district is not None and district.token == "tok1" and district.name == "District One"
    token_calls = [c for c in oauth.received if "/oauth/tokens" in c.url]
    assert len(token_calls) == 1 and "district=d1" in token_calls[0].url
    # Only the asked-for district is created.
    assert list(District.objects.values_list("clever_id", flat=True)) == ["d1"]


def test_ensure_connected_is_none_when_clever_does_not_list_the_district(oauth):
    District.objects.create(clever_id="d1", status=District.Status.DISCONNECTED)
    oauth.answer("GET", "/oauth/tokens", body=_tokens())
    assert connections.district_ensure_connected(clever_id="d1") is None
    assert District.objects.get(clever_id="d1").status == "disconnected"


# --- Clever's own district state, read at each token refresh -------------------------------------


def _district_state(api, district_id, **fields):
    api.answer(
        "GET",
        f"/v3.0/districts/{district_id}",
        body={"data": {"id": district_id, "name": "District One", **fields}},
    )


def test_refresh_stores_clevers_launch_date_and_sis_sync_state(api, oauth):
    oauth.answer("GET", "/oauth/tokens", body=_tokens(("d1", "tok1")))
    _district_state(
        api,
        "d1",
        launch_date="2027-01-15",
        state="error",
        last_sync="2026-12-01T03:00:00.000Z",
        error="Sync failed: students.csv is missing",
        pause_start=None,
    )
    before = timezone.now()
    result = connections.district_connections_refresh()
    assert result.created == ["d1"] and result.problems == []
    d1 = District.objects.get(clever_id="d1")
    assert d1.clever_launch_date == dt.date(2027, 1, 15)
    assert (d1.clever_state, d1.clever_error) == ("error", "Sync failed: students.csv is missing")
    assert d1.clever_last_sync == dt.datetime(2026, 12, 1, 3, tzinfo=dt.UTC)
    assert d1.clever_pause_start is None and d1.clever_pause_end is None
    assert d1.clever_state_checked_at >= before

    # Clever's launch date moves (rescheduled in its dashboard): the next refresh keeps the new
    # one, although the connection itself did not change.
    _district_state(
        api,
        "d1",
        launch_date="2026-12-04",
        state="paused",
        pause_start="2026-06-20T00:00:00.000Z",
        pause_end="2026-08-15T00:00:00.000Z",
    )
    result = connections.district_connections_refresh()
    assert result.unchanged == ["d1"] and not result.changed
    d1.refresh_from_db()
    assert (d1.clever_launch_date, d1.clever_state, d1.clever_error) == (
        dt.date(2026, 12, 4),
        "paused",
        "",
    )
    assert d1.clever_pause_start == dt.datetime(2026, 6, 20, tzinfo=dt.UTC)
    assert d1.clever_pause_end == dt.datetime(2026, 8, 15, tzinfo=dt.UTC)


def test_refresh_reports_malformed_district_values_and_still_connects(api, oauth):
    oauth.answer("GET", "/oauth/tokens", body=_tokens(("d1", "tok1")))
    _district_state(api, "d1", launch_date="soon", state=3)
    result = connections.district_connections_refresh()
    assert result.created == ["d1"]
    assert result.problems == [
        "district d1: field 'launch_date' is not a date (YYYY-MM-DD): 'soon'; stored empty",
        "district d1: field 'state' should be a string, got int; stored empty",
    ]
    d1 = District.objects.get(clever_id="d1")
    assert (d1.status, d1.name, d1.clever_launch_date, d1.clever_state) == (
        "connected",
        "District One",
        None,
        "",
    )
    assert d1.clever_state_checked_at is not None


def test_a_district_record_clever_cannot_give_leaves_the_state_unknown(api, oauth):
    oauth.answer("GET", "/oauth/tokens", body=_tokens(("d1", "tok1")))
    api.answer("GET", "/v3.0/districts/d1", 404, body={"error": "not found"})
    result = connections.district_connections_refresh()
    assert result.created == ["d1"]
    d1 = District.objects.get(clever_id="d1")
    assert d1.status == "connected" and d1.clever_state_checked_at is None


def test_test_connection_stores_what_clever_says(api, oauth):
    district = District(clever_id="d1", name="One")
    district.set_token("tok")
    district.save()
    _district_state(api, "d1", launch_date="2027-02-01", state="success")
    check = connections.district_test_connection(district=district)
    assert check.ok and "Clever's launch date: 2027-02-01" in check.message
    district.refresh_from_db()
    assert (district.clever_launch_date, district.clever_state) == (dt.date(2027, 2, 1), "success")
