"""Ending a browser's session: on log out, and when a new login arrives on the same device."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest

from config.session_store import SessionStoreUnavailable

__all__ = ["SessionStoreUnavailable", "session_end"]


def session_end(*, request: HttpRequest) -> None:
    """Log out this request's person and delete its session from the store (even one the store
    could not read); raise SessionStoreUnavailable when the store does not answer."""
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not (key or request.user.is_authenticated):
        return
    try:
        logout(request)
    except SessionStoreUnavailable:
        # The session lives on in the store: dropping only the cookie would hide that. An
        # untouched store object keeps the cookie as it is (the middleware neither saves nor
        # deletes it), so trying again ends this very session once the store answers.
        request.session = import_module(settings.SESSION_ENGINE).SessionStore(key)
        raise


def sessions_expired_clear() -> None:
    """Delete expired sessions from the store (database rows; Redis expires its keys itself)."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
