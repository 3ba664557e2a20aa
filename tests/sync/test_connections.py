"""District connections from Clever's token list (narrow HTTP cases with `responses`)."""

from __future__ import annotations

import pytest
import responses

from rostering import services
from rostering.models import District

API = "https://api.example.test"
OAUTH = "https://oauth.example.test"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clever_settings(settings):
    settings.CLEVER_API_BASE_URL = API
    settings.CLEVER_OAUTH_BASE_URL = OAUTH
    settings.CLEVER_CLIENT_ID = "cid"
    settings.CLEVER_CLIENT_SECRET = "secret"
    settings.CLEVER_HTTP_BACKOFF_BASE = 0.001


def _tokens(*pairs):
    data = [
        {"data": {"id": f"t{d}", "access_token": t, "owner": {"type": "district", "id": d}}}
        for d, t in pairs
    ]
    return {"data": data, "links": []}


def _district(district_id, name):
    responses.get(
        f"{API}/v3.0/districts/{district_id}", json={"data": {"id": district_id, "name": name}}
    )


@responses.activate
def test_refresh_creates_updates_and_disconnects():
    stale = District(clever_id="d-old", name="Old", status=District.Status.CONNECTED)
    stale.set_token("old-token")
    stale.save()
    changed = District(clever_id="d2", name="Two", status=District.Status.CONNECTED)
    changed.set_token("tok2-before")
    changed.save()
    responses.get(f"{OAUTH}/oauth/tokens", json=_tokens(("d1", "tok1"), ("d2", "tok2")))
    _district("d1", "District One")

    result = services.district_connections_refresh()

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
    name_call = next(c for c in responses.calls if "/v3.0/districts/d1" in c.request.url)
    assert name_call.request.headers["Authorization"] == "Bearer tok1"


@responses.activate
def test_refresh_twice_changes_nothing_the_second_time():
    responses.get(f"{OAUTH}/oauth/tokens", json=_tokens(("d1", "tok1")))
    _district("d1", "District One")
    services.district_connections_refresh()
    result = services.district_connections_refresh()
    assert not result.changed and result.unchanged == ["d1"]
    assert District.objects.count() == 1


@responses.activate
def test_refresh_reconnects_a_disconnected_district():
    district = District.objects.create(
        clever_id="d1", name="One", status=District.Status.DISCONNECTED
    )
    responses.get(f"{OAUTH}/oauth/tokens", json=_tokens(("d1", "tok1")))
    result = services.district_connections_refresh()
    district.refresh_from_db()
    assert result.reconnected == ["d1"]
    assert (district.status, district.token, district.disconnected_at) == (
        "connected",
        "tok1",
        None,
    )


@responses.activate
def test_ensure_connected_returns_a_known_connected_district_without_calling_clever():
    district = District(clever_id="d1", name="One")
    district.set_token("tok")
    district.save()
    found = services.district_ensure_connected(clever_id="d1")
    assert found == district and found.token == "tok"  # the stored token decrypts
    fields = [f.attname for f in District._meta.concrete_fields]
    orm = District.objects.get(pk=district.pk)
    assert {f: getattr(found, f) for f in fields} == {f: getattr(orm, f) for f in fields}
    assert len(responses.calls) == 0


@responses.activate
def test_ensure_connected_looks_up_an_unknown_district_once():
    responses.get(f"{OAUTH}/oauth/tokens", json=_tokens(("d1", "tok1"), ("d9", "tok9")))
    _district("d1", "District One")
    district = services.district_ensure_connected(clever_id="d1")
    assert district is not None and district.token == "tok1" and district.name == "District One"
    token_calls = [c for c in responses.calls if "/oauth/tokens" in c.request.url]
    assert len(token_calls) == 1 and "district=d1" in token_calls[0].request.url
    # Only the asked-for district is created.
    assert list(District.objects.values_list("clever_id", flat=True)) == ["d1"]


@responses.activate
def test_ensure_connected_is_none_when_clever_does_not_list_the_district():
    District.objects.create(clever_id="d1", status=District.Status.DISCONNECTED)
    responses.get(f"{OAUTH}/oauth/tokens", json=_tokens())
    assert services.district_ensure_connected(clever_id="d1") is None
    assert District.objects.get(clever_id="d1").status == "disconnected"
