"""Django's Redis cache, reusing one client per connection pool.

Django's ``RedisCacheClient.get_client()`` builds a new ``redis.Redis`` for every cache call, and
redis-py fills a fresh table of ~170 response callbacks each time it is built: about 0.2 ms of CPU
per call, several times the cost of the Redis round trip itself. With sessions in the cache a
login makes about six calls, so this was a measurable share of a login's CPU (bench-login). A
``redis.Redis`` is safe to share between threads (each command takes its own connection from the
pool), so one per pool is enough.

``incr()`` is one round trip instead of Django's two (EXISTS, then INCRBY): a Lua script does
both atomically on the server. The login rate limit (django-ratelimit) increments a counter on
every hit of the login button and the callback.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends import redis as django_redis

# Django's semantics: a missing key is an error, never created by the increment.
_INCR_EXISTING = """
if redis.call('exists', KEYS[1]) == 1 then return redis.call('incrby', KEYS[1], ARGV[1]) end
return false
"""


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._clients_lock = threading.Lock()
        self._incr_scripts: dict[int, Any] = {}

    def incr(self, key: Any, delta: int) -> int:
        client = self.get_client(key, write=True)
        script = self._incr_scripts.get(id(client))
        if script is None:
            script = self._incr_scripts[id(client)] = client.register_script(_INCR_EXISTING)
        value = script(keys=[key], args=[delta])
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            with self._clients_lock:
                client = self._clients.get(id(pool))
                if client is None:
                    client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
