"""Sessions in the shared cache (Redis): no database queries on a request's session.

Chosen by settings when ``CACHE_URL`` is Redis; otherwise ``config.session_store`` keeps them in
the database. A login then costs three or four Redis commands instead of five database
statements in three transactions (bench-login). Keys are drawn and cycled as in the database
store (``LeanKeys``): a new key is written with ``SET NX`` (a collision draws again) and
``cycle_key()`` deletes the old key at once. Redis must keep what it is given (no eviction
policy that drops keys early): a Redis restart without persistence logs everyone out, and they
log in again through Clever.

While Redis does not answer, a request's session loads as empty (Django's behaviour: the visitor
is anonymous for now), but the store remembers the key it could not read, so that ending the
session (log out, or a new login on the same device) still targets it and raises
``SessionStoreUnavailable`` instead of silently dropping only the cookie: the key would log in
again once Redis is back.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore

from config.session_store import LeanKeys, SessionStoreUnavailable


class SessionStore(LeanKeys, CacheSessionStore):
    # The key of this request's session when Redis could not be read.
    unreachable_key: str | None = None

    def load(self) -> dict[str, Any]:
        try:
            data = self._cache.get(self.cache_key)
        except Exception:
            self.unreachable_key = self._session_key
            data = None
        if data is not None:
            return data
        self._session_key = None
        return {}

    def delete(self, session_key: str | None = None) -> None:
        """Delete ``session_key`` (default: this session's, even one Redis could not read), or
        raise SessionStoreUnavailable."""
        if session_key is None:
            session_key = self.session_key or self.unreachable_key
            if session_key is None:
                return
        try:
            self._cache.delete(self.cache_key_prefix + session_key)
        except Exception as exc:
            raise SessionStoreUnavailable(type(exc).__name__) from exc
        if session_key == self.unreachable_key:
            self.unreachable_key = None
