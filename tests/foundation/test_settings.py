"""Start-up refuses unsafe or wrong settings, naming the setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _start(
    env_overrides: dict[str, str], then: str = "print('started')"
) -> subprocess.CompletedProcess[str]:
    """Start Django in a fresh process (no CLEVER_* or SECRET_KEY from ours), then run ``then``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEVER_", "SECRET_KEY"))}
    env.update({"DEBUG": "0", "DJANGO_SETTINGS_MODULE": "config.settings"})
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {then}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


GOOD = {
    "SECRET_KEY": "x" * 50,
    "CLEVER_REDIRECT_URI": "https://app.example.com/sso/clever/callback/",
}


def test_production_starts_with_safe_settings():
    result = _start(GOOD)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        (
            {"CLEVER_REDIRECT_URI": "http://app.example.com/sso/clever/callback/"},
            "CLEVER_REDIRECT_URI",
        ),
        ({"CLEVER_REDIRECT_URI": ""}, "CLEVER_REDIRECT_URI"),
        ({"CLEVER_LOOKALIKE_ENABLED": "1"}, "CLEVER_LOOKALIKE_ENABLED"),
    ],
)
def test_production_refuses_unsafe_setting_and_names_it(override, named):
    result = _start({**GOOD, **override})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr


def test_bad_sync_cron_is_refused_with_its_name():
    result = _start({**GOOD, "CLEVER_SYNC_CRON": "every night"})
    assert result.returncode != 0
    assert "CLEVER_SYNC_CRON" in result.stderr


def test_events_poll_is_scheduled_only_when_configured():
    show = "from django.conf import settings; print(sorted(settings.CELERY_BEAT_SCHEDULE))"

    def beat(**extra: str) -> subprocess.CompletedProcess[str]:
        return _start({**GOOD, **extra}, then=show)

    assert "clever-events" not in beat().stdout
    assert "'clever-events'" in beat(CLEVER_EVENTS_CRON="*/15 * * * *").stdout
    bad = beat(CLEVER_EVENTS_CRON="often")
    assert bad.returncode != 0 and "CLEVER_EVENTS_CRON" in bad.stderr


@pytest.mark.parametrize("value", ["development", "production"])
def test_known_app_environments_start(value):
    result = _start({**GOOD, "CLEVER_APP_ENVIRONMENT": value})
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_an_unknown_app_environment_is_refused_naming_it():
    result = _start({**GOOD, "CLEVER_APP_ENVIRONMENT": "prod"})
    assert result.returncode != 0
    assert (
        "ImproperlyConfigured: CLEVER_APP_ENVIRONMENT must be 'development' or 'production', "
        "got 'prod'" in result.stderr
    )


def test_a_negative_disconnect_archive_delay_is_refused_naming_it():
    result = _start({**GOOD, "CLEVER_DISCONNECT_ARCHIVE_DAYS": "-1"})
    assert result.returncode != 0
    assert "CLEVER_DISCONNECT_ARCHIVE_DAYS must be 0 (never) or a number of days" in result.stderr
    assert _start({**GOOD, "CLEVER_DISCONNECT_ARCHIVE_DAYS": "0"}).returncode == 0
