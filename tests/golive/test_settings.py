"""Go-live settings: a wrong CLEVER_APP_ENVIRONMENT stops start-up, naming the setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _start(**overrides: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEVER_")}
    env.update({"DEBUG": "1", "DJANGO_SETTINGS_MODULE": "config.settings", **overrides})
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("value", ["development", "production"])
def test_known_app_environments_start(value):
    result = _start(CLEVER_APP_ENVIRONMENT=value)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_an_unknown_app_environment_is_refused_naming_it():
    result = _start(CLEVER_APP_ENVIRONMENT="prod")
    assert result.returncode != 0
    assert (
        "ImproperlyConfigured: CLEVER_APP_ENVIRONMENT must be 'development' or 'production', "
        "got 'prod'" in result.stderr
    )
