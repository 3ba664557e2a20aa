from django.apps import AppConfig


class CleverlikeConfig(AppConfig):
    """A Clever look-alike for development, demos and tests; never enabled in production."""

    name = "cleverlike"
