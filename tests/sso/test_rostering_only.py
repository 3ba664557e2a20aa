"""Rostering only (CLEVER_ROSTERING_ONLY): Secure Sync without Clever SSO, so no Clever login."""

from __future__ import annotations

import pytest

from accounts.models import User
from sso.models import LoginRecord
from tests.sso.helpers import (
    at_clever,
    button_login,
    path_and_query,
    start_login,
    text,
    token_posts,
)

pytestmark = pytest.mark.django_db


def test_rostering_only_turns_clever_login_off(client, clever, demo, settings):
    teacher = demo.one("teacher")
    settings.CLEVER_ROSTERING_ONLY = False
    assert 'data-testid="clever-login"' in text(client.get("/"))
    # A code Clever issued for a login we started, before the setting changed.
    callback = at_clever(start_login(client), teacher["id"])

    settings.CLEVER_ROSTERING_ONLY = True
    landing = text(client.get("/"))
    assert 'data-testid="clever-login"' not in landing
    assert "there is no Clever login here" in landing
    for response in (client.get("/sso/clever/login"), client.get(path_and_query(callback))):
        assert response.status_code == 404
        page = text(response)
        assert "Logging in with Clever is off" in page
        assert "Log in with Clever</a>" not in page
    # Nothing was redeemed at Clever, no one logged in, nothing recorded.
    assert token_posts(clever.world) == 0
    assert not User.objects.filter(clever_id=teacher["id"]).exists()
    assert not LoginRecord.objects.exists()

    settings.CLEVER_ROSTERING_ONLY = False
    response, _ = button_login(client, teacher["id"])
    assert response.status_code == 302
    assert LoginRecord.objects.count() == 1
