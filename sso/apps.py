from django.apps import AppConfig


class SsoConfig(AppConfig):
    """Log people in with Clever (OAuth 2.0 / OpenID Connect)."""

    name = "sso"
