"""Production settings we refuse to serve real districts with, as Django system checks.

Registered by ``config.apps.ConfigConfig.ready()`` with the tag ``production``. They speak only
when ``DEBUG`` is off (production mode, see ``config/settings.py``), so ``manage.py check`` and
``check --deploy`` list every weak setting by name, without a traceback, and start-up refuses
them: ``runserver`` and ``migrate`` run the checks, gunicorn's ``on_starting`` hook
(``config/gunicorn.py``), ``config/wsgi.py``, ``config/asgi.py`` and the Celery worker and beat
call ``refuse_unsafe_settings()``.
"""

from __future__ import annotations

import base64
import binascii
import sys
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

TAG = "production"

# Django's own bar for a secret key (security.W009): 50 characters, 5 different ones.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE = 5
DEV_SECRET_KEY_PREFIXES = ("dev-only-insecure", "django-insecure")


def _secret_key() -> str:
    # Django raises on an empty SECRET_KEY when it is read; report it instead.
    try:
        return settings.SECRET_KEY or ""
    except ImproperlyConfigured:
        return ""


def _secret_key_problem() -> str:
    key = _secret_key()
    if not key:
        return "SECRET_KEY is not set"
    if key.startswith(DEV_SECRET_KEY_PREFIXES):
        return "SECRET_KEY is the development key"
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"SECRET_KEY is {len(key)} characters long, fewer than {SECRET_KEY_MIN_LENGTH}"
    if len(set(key)) < SECRET_KEY_MIN_UNIQUE:
        return f"SECRET_KEY has fewer than {SECRET_KEY_MIN_UNIQUE} different characters"
    return ""


def https_url_problem(value: str, *, need_path: bool) -> str:
    """Why ``value`` is not a full https URL (host, and a path when ``need_path``), or ""."""
    if not value:
        return "is not set"
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError on a port that is not a number)
    except ValueError:
        return f"is not a URL (got {value!r})"
    if parts.scheme != "https":
        return f"must be an https:// URL (got {value!r})"
    if not host:
        return f"has no host (got {value!r})"
    if parts.username or parts.password:
        return f"must not carry a user name or password (got {value!r})"
    if need_path and parts.path in ("", "/"):
        return f"has no path: it must be the full callback URL (got {value!r})"
    if parts.query or parts.fragment:
        return f"must have no query string or fragment (got {value!r})"
    return ""


def _fernet_key_ok(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode())) == 32
    except (binascii.Error, ValueError):
        return False


def _errors() -> Iterable[checks.Error]:
    if problem := _secret_key_problem():
        yield checks.Error(
            f"{problem}.",
            hint="Set SECRET_KEY to a long random value, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'.",
            id="config.E001",
        )
    if problem := https_url_problem(settings.CLEVER_REDIRECT_URI, need_path=True):
        yield checks.Error(
            f"CLEVER_REDIRECT_URI {problem}.",
            hint="Set it to our callback's full https URL as registered with Clever, e.g. "
            "https://app.example.com/sso/clever/callback/.",
            id="config.E002",
        )
    for uri in settings.CLEVER_REDIRECT_URIS:
        if uri != settings.CLEVER_REDIRECT_URI and (
            problem := https_url_problem(uri, need_path=True)
        ):
            yield checks.Error(
                f"CLEVER_REDIRECT_URIS: {uri!r} {problem}.",
                hint="Every redirect URI registered with Clever is a full https URL.",
                id="config.E003",
            )
    for name in ("CLEVER_OAUTH_BASE_URL", "CLEVER_API_BASE_URL"):
        if problem := https_url_problem(getattr(settings, name), need_path=False):
            yield checks.Error(
                f"{name} {problem}.",
                hint="Clever's servers are https://clever.com and https://api.clever.com "
                "(the defaults); leave it unset.",
                id="config.E004",
            )
    for name in ("CLEVER_CLIENT_ID", "CLEVER_CLIENT_SECRET"):
        if not getattr(settings, name):
            yield checks.Error(
                f"{name} is not set.",
                hint="Copy it from the app's settings in Clever's dashboard.",
                id="config.E005",
            )
    keys = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        yield checks.Error(
            "FIELD_ENCRYPTION_KEYS is not set: district tokens would not be encrypted with a "
            "key of their own.",
            hint="Set one or more Fernet keys, newest first: python -c 'from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'.",
            id="config.E006",
        )
    for position, key in enumerate(keys, start=1):
        if not _fernet_key_ok(key):
            yield checks.Error(
                f"FIELD_ENCRYPTION_KEYS: key {position} is not a urlsafe-base64 32-byte "
                "Fernet key.",
                id="config.E007",
            )
    if settings.CLEVER_LOOKALIKE_ENABLED:
        yield checks.Error(
            "CLEVER_LOOKALIKE_ENABLED must be off when DEBUG is off: the look-alike is for "
            "development and tests only.",
            id="config.E008",
        )


def production_settings_check(app_configs: Any = None, **kwargs: Any) -> list[checks.Error]:
    """Every weak or missing production setting, by name; nothing in development (DEBUG)."""
    if settings.DEBUG:
        return []
    # Django drops silenced checks from `manage.py check`; start-up does the same (bench-login
    # silences config.E004: its stand-in for Clever is the look-alike over loopback http).
    silenced = set(settings.SILENCED_SYSTEM_CHECKS)
    return [error for error in _errors() if error.id not in silenced]


def refuse_unsafe_settings() -> None:
    """Raise ImproperlyConfigured listing every weak production setting (none: return)."""
    problems = production_settings_check()
    if problems:
        raise ImproperlyConfigured(startup_refusal(problems))


def exit_if_unsafe_settings() -> None:
    """For servers that catch exceptions at start-up (gunicorn's master, Celery's signals): print
    the refusal and exit with status 1, without a traceback."""
    problems = production_settings_check()
    if problems:
        print(startup_refusal(problems), file=sys.stderr, flush=True)
        raise SystemExit(1)


def startup_refusal(problems: list[checks.Error]) -> str:
    """The refusal start-up prints: one line per problem, each naming its setting."""
    lines = [f"  {p.id}: {p.msg}" + (f" HINT: {p.hint}" if p.hint else "") for p in problems]
    return "Refusing to start in production mode (DEBUG is off):\n" + "\n".join(lines)
