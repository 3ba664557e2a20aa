"""Django's database sessions with fewer queries per request; same table, same security.

Used when no shared cache is configured (``CACHE_URL``); with Redis, ``config.session_cache``
keeps sessions there instead. Both draw and cycle keys the same lean way (``LeanKeys``).

Django's ``db`` backend spends queries the login path does not need: every new key is first
checked with ``SELECT ... EXISTS`` (the INSERT that follows is already ``must_create`` and retries
on a duplicate), ``cycle_key()`` INSERTs the new row at once and the response then UPDATEs it
again, and ``delete()`` SELECTs the row before deleting it. Here a new key is only INSERTed (a
collision of 32 random characters fails that INSERT and a new key is drawn), ``cycle_key()``
deletes the old row at once and leaves the new one to the response's single save, and
``delete()`` is one DELETE. A login costs three session queries (load, delete, insert) instead of
six; the key is still cycled and the old one stops working the moment ``login()`` runs.
"""

from __future__ import annotations

import secrets

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.db import DatabaseError

KEY_LENGTH = 32


class SessionStoreUnavailable(Exception):
    """The session store did not answer: a session could not be ended (log out says so)."""


def new_key() -> str:
    """32 characters of [a-z0-9], as Django's keys, from one read of the OS's randomness.

    Django draws each character with its own ``secrets.choice`` (one ``urandom`` call each);
    168 random bits cover 36**32 (about 2**165) with a negligible bias.
    """
    n = int.from_bytes(secrets.token_bytes(21), "big")
    chars = []
    for _ in range(KEY_LENGTH):
        n, i = divmod(n, 36)
        chars.append(VALID_KEY_CHARS[i])
    return "".join(chars)


class LeanKeys:
    """New keys without an existence check; ``cycle_key()`` without an extra write."""

    session_key: str | None
    _session_key: str | None
    _session_cache: dict
    modified: bool

    def _get_new_session_key(self) -> str:
        # No existence check: create() saves with must_create, which fails on a duplicate key
        # (INSERT on the primary key, SET NX in Redis) and draws again.
        return new_key()

    def cycle_key(self) -> None:
        """Forget the old key (deleted now); the new one is written with the response."""
        data = self._session  # type: ignore[attr-defined]
        key = self.session_key
        self._session_key = None
        self._session_cache = data
        self.modified = True
        if key:
            self.delete(key)  # type: ignore[attr-defined]


class SessionStore(LeanKeys, DbSessionStore):
    def delete(self, session_key: str | None = None) -> None:
        """Delete the row of ``session_key`` (default: this session's) with one DELETE."""
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        try:
            self.model.objects.filter(session_key=session_key).delete()
        except DatabaseError as exc:
            raise SessionStoreUnavailable(type(exc).__name__) from exc
