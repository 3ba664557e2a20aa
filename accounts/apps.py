from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Who can log in: the user model, keyed by Clever ID for Clever users."""

    name = "accounts"
