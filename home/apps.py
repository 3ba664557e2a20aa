from django.apps import AppConfig


class HomeConfig(AppConfig):
    """Shows each logged-in person the page for their role, built from the roster."""

    name = "home"
