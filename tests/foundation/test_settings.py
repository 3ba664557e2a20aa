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


def _manage(env_overrides: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``manage.py ARGS`` in a fresh process with production settings (DEBUG off)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEVER_", "SECRET_KEY"))}
    env.pop("FIELD_ENCRYPTION_KEYS", None)
    env.update({"DEBUG": "0", "DJANGO_SETTINGS_MODULE": "config.settings", **env_overrides})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


GOOD = {
    "SECRET_KEY": "t0p-s3cret-" + "abcdefghij" * 5,
    "CLEVER_REDIRECT_URI": "https://app.example.com/sso/clever/callback/",
    "CLEVER_CLIENT_ID": "prod-client-id",
    "CLEVER_CLIENT_SECRET": "prod-client-secret",
    "FIELD_ENCRYPTION_KEYS": "pH0qAqYKuQ5r5C4iMyAAaSJrF5RNMz3Qi5BfR1nAkGg=",
}


def test_production_starts_with_safe_settings():
    result = _start(GOOD, then="import config.wsgi; print('started')")
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout
    check = _manage(GOOD, "check", "--deploy")
    assert check.returncode == 0, check.stderr
    assert "config.E" not in check.stdout + check.stderr


WEAK = [
    ({"SECRET_KEY": ""}, "SECRET_KEY is not set"),
    ({"SECRET_KEY": "x"}, "SECRET_KEY is 1 characters long, fewer than 50"),
    ({"SECRET_KEY": "ab" * 30}, "SECRET_KEY has fewer than 5 different characters"),
    ({"SECRET_KEY": "django-insecure-" + "k3y" * 20}, "SECRET_KEY is the development key"),
    (
        {"CLEVER_REDIRECT_URI": "http://app.example.com/sso/clever/callback/"},
        "CLEVER_REDIRECT_URI must be an https:// URL",
    ),
    ({"CLEVER_REDIRECT_URI": "https://"}, "CLEVER_REDIRECT_URI has no host"),
    ({"CLEVER_REDIRECT_URI": "https://app.example.com"}, "CLEVER_REDIRECT_URI has no path"),
    ({"CLEVER_REDIRECT_URI": ""}, "CLEVER_REDIRECT_URI is not set"),
    (
        {
            "CLEVER_REDIRECT_URIS": "https://app.example.com/sso/clever/callback/,"
            "http://other.example.com/sso/clever/callback/"
        },
        "CLEVER_REDIRECT_URIS: 'http://other.example.com/sso/clever/callback/' must be an https",
    ),
    ({"CLEVER_OAUTH_BASE_URL": "http://clever.com"}, "CLEVER_OAUTH_BASE_URL must be an https"),
    ({"CLEVER_API_BASE_URL": "http://api.clever.com"}, "CLEVER_API_BASE_URL must be an https"),
    ({"CLEVER_API_BASE_URL": "https://"}, "CLEVER_API_BASE_URL has no host"),
    ({"CLEVER_CLIENT_ID": ""}, "CLEVER_CLIENT_ID is not set"),
    ({"CLEVER_CLIENT_SECRET": ""}, "CLEVER_CLIENT_SECRET is not set"),
    ({"FIELD_ENCRYPTION_KEYS": ""}, "FIELD_ENCRYPTION_KEYS is not set"),
    ({"FIELD_ENCRYPTION_KEYS": "not-a-key"}, "FIELD_ENCRYPTION_KEYS: key 1 is not a"),
    ({"CLEVER_LOOKALIKE_ENABLED": "1"}, "CLEVER_LOOKALIKE_ENABLED must be off"),
]


@pytest.mark.parametrize(("override", "named"), WEAK)
def test_check_deploy_names_each_weak_setting_without_a_traceback(override, named):
    result = _manage({**GOOD, **override}, "check", "--deploy")
    assert result.returncode != 0
    assert named in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("override", "named"), WEAK[:3] + WEAK[5:6] + WEAK[14:15])
def test_the_wsgi_app_refuses_to_start_naming_the_setting(override, named):
    result = _start({**GOOD, **override}, then="import config.wsgi; print('started')")
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "Refusing to start in production mode" in result.stderr
    assert named in result.stderr


def test_runserver_and_migrate_refuse_weak_settings():
    # Both run the system checks before doing anything.
    result = _manage({**GOOD, "SECRET_KEY": "x"}, "migrate", "--plan")
    assert result.returncode != 0
    assert "SECRET_KEY is 1 characters long" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_celery_worker_refuses_weak_settings():
    result = _start(
        {**GOOD, "CLEVER_CLIENT_SECRET": ""},
        then="from celery.signals import worker_init; import config.celery; "
        "worker_init.send(sender=None); print('started')",
    )
    assert result.returncode != 0
    assert "CLEVER_CLIENT_SECRET is not set" in result.stderr


def test_development_mode_reports_nothing(settings):
    from config.checks import production_settings_check

    settings.DEBUG = True
    settings.SECRET_KEY = "x"
    settings.CLEVER_REDIRECT_URI = "http://127.0.0.1:8000/sso/clever/callback/"
    assert production_settings_check() == []
    settings.DEBUG = False
    assert {e.id for e in production_settings_check()} >= {"config.E001", "config.E002"}


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


def test_a_check_waived_by_id_is_waived_at_start_up_too():
    http_clever = {**GOOD, "CLEVER_API_BASE_URL": "http://127.0.0.1:9/clever"}
    assert _start(http_clever, then="import config.wsgi").returncode != 0
    waived = _start(
        {**http_clever, "SILENCED_SYSTEM_CHECKS": "config.E004"},
        then="import config.wsgi; print('started')",
    )
    assert waived.returncode == 0, waived.stderr
    assert (
        _manage({**http_clever, "SILENCED_SYSTEM_CHECKS": "config.E004"}, "check").returncode == 0
    )
