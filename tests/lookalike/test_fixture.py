"""The ``clever`` fixture: settings point at a live look-alike, and the test client can log in."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import requests
from django.conf import settings

from tests.conftest import CLEVER_TEST_REDIRECT_URI


def test_settings_point_at_the_running_lookalike(clever) -> None:
    assert settings.CLEVER_OAUTH_BASE_URL == clever.base_url == settings.CLEVER_API_BASE_URL
    assert settings.CLEVER_REDIRECT_URIS == [CLEVER_TEST_REDIRECT_URI]
    assert settings.CLEVER_REDIRECT_URI == CLEVER_TEST_REDIRECT_URI
    discovery = requests.get(f"{clever.base_url}/.well-known/openid-configuration", timeout=10)
    assert discovery.json()["issuer"] == clever.base_url
    app = clever.world.apps[settings.CLEVER_CLIENT_ID]
    assert app.client_secret == settings.CLEVER_CLIENT_SECRET
    assert app.redirect_uris == [CLEVER_TEST_REDIRECT_URI]


def test_each_test_starts_from_a_fresh_world_part_one(clever) -> None:
    d = clever.world.district_named("Lakeside Charter Schools")
    clever.world.disconnect(d.id)
    clever.world.faults.add("/v3.0", "500", times=100)
    response = requests.get(
        f"{clever.base_url}/v3.0/schools",
        headers={"Authorization": f"Bearer {d.token}"},
        timeout=10,
    )
    assert response.status_code == 500  # part two, run next, must see none of this


def test_each_test_starts_from_a_fresh_world_part_two(clever) -> None:
    d = clever.world.district_named("Lakeside Charter Schools")
    assert d.connected
    response = requests.get(
        f"{clever.base_url}/v3.0/schools",
        headers={"Authorization": f"Bearer {d.token}"},
        timeout=10,
    )
    assert response.status_code == 200


def test_django_test_client_follows_the_redirect_to_the_product_callback(clever, client) -> None:
    d = clever.world.district_named("Certification ISD")
    teacher = clever.world.users(d.id, role="teacher")[0]
    url = (
        f"{settings.CLEVER_OAUTH_BASE_URL}/oauth/authorize?response_type=code"
        f"&client_id={settings.CLEVER_CLIENT_ID}&redirect_uri={CLEVER_TEST_REDIRECT_URI}"
        f"&state=st&login_as={teacher['id']}"
    )
    response = client.get(url)
    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert (location.netloc, location.path) == ("testserver", "/sso/clever/callback/")
    code = parse_qs(location.query)["code"][0]
    token = requests.post(
        f"{clever.base_url}/oauth/tokens",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CLEVER_TEST_REDIRECT_URI,
        },
        auth=(settings.CLEVER_CLIENT_ID, settings.CLEVER_CLIENT_SECRET),
        timeout=10,
    )
    assert token.status_code == 200
