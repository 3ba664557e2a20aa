from django.apps import AppConfig


class RosteringConfig(AppConfig):
    """Mirror what each district shares through Clever, keeping it current."""

    name = "rostering"
