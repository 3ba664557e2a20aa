"""Settings for serving the look-alike on its own, as Clever's servers would be (bench-login).

In development the look-alike is mounted inside the product (``make run``, the tests); the login
benchmark runs it as a separate service instead, sharing the two cores with the product. Clever's
servers do not run our middleware (sessions, CSRF, accounts, messages: nothing the look-alike's
views use), so this process serves ``/clever/`` alone without it. Everything else is the
product's development settings.
"""

from __future__ import annotations

from config.settings import *  # noqa: F403

if not CLEVER_LOOKALIKE_ENABLED:  # noqa: F405
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("cleverlike.service_settings needs CLEVER_LOOKALIKE_ENABLED=1")

MIDDLEWARE: list[str] = []
ROOT_URLCONF = "cleverlike.service_urls"
