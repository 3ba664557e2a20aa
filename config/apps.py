from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


class ConfigConfig(AppConfig):
    """Project-wide start-up checks of the settings (no models)."""

    name = "config"

    def ready(self) -> None:
        from config.checks import TAG, production_settings_check

        checks.register(production_settings_check, TAG)
