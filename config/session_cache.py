"""Sessions in the shared cache (Redis): no database queries on a request's session.

Chosen by settings when ``CACHE_URL`` is Redis; otherwise ``config.session_store`` keeps them in
the database. A login then costs three or four Redis commands instead of five database
statements in three transactions (bench-login). Keys are drawn and cycled as in the database
store (``LeanKeys``): a new key is written with ``SET NX`` (a collision draws again) and
``cycle_key()`` deletes the old key at once. Redis must keep what it is given (no eviction
policy that drops keys early): a Redis restart without persistence logs everyone out, and they
log in again through Clever.
"""

from __future__ import annotations

from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore

from config.session_store import LeanKeys


class SessionStore(LeanKeys, CacheSessionStore):
    pass
