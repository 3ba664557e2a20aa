"""Both session stores: the database one (no shared cache) and the Redis one (CACHE_URL)."""

from __future__ import annotations

import secrets
from importlib import import_module
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches


def _redis_cache_url() -> str:
    """CACHE_URL when it is Redis, else the broker's Redis server with database 14."""
    if django_settings.CACHE_IS_SHARED:
        return django_settings.CACHES["default"]["LOCATION"]
    parts = urlsplit(django_settings.CELERY_BROKER_URL or "redis://127.0.0.1:6379/0")
    return urlunsplit((parts.scheme, parts.netloc, "/14", "", ""))


@pytest.fixture(params=["database", "redis"])
def store(request, settings):
    """The SessionStore class of one engine, configured as the settings would configure it."""
    if request.param == "database":
        request.getfixturevalue("db")
        settings.SESSION_ENGINE = "config.session_store"
    else:
        if not (django_settings.CELERY_BROKER_URL or "").startswith("redis"):
            pytest.skip("needs Redis: set CELERY_BROKER_URL=redis://...")
        settings.CACHES = {
            "default": {"BACKEND": "config.cache.RedisCache", "LOCATION": _redis_cache_url()}
        }
        settings.SESSION_ENGINE = "config.session_cache"
    return import_module(settings.SESSION_ENGINE).SessionStore


def test_saved_session_loads_by_its_key(store):
    session = store()
    session["who"] = "teacher-1"
    session.save()
    assert session.session_key
    assert store(session.session_key)["who"] == "teacher-1"


def test_cycle_key_kills_the_old_key_at_once_and_keeps_the_data(store):
    session = store()
    session["who"] = "teacher-1"
    session.save()
    old_key = session.session_key

    session.cycle_key()
    # The old key stops working now, before the response writes the new one.
    assert not store().exists(old_key)
    assert store(old_key).load() == {}
    session.save()
    assert session.session_key != old_key
    assert store(session.session_key)["who"] == "teacher-1"


def test_a_colliding_new_key_is_drawn_again_and_never_overwrites(store, monkeypatch):
    first = store()
    first["who"] = "teacher-1"
    first.save()
    fresh = secrets.token_hex(16)  # Redis keeps keys between test runs
    keys = iter([first.session_key, fresh])
    monkeypatch.setattr("config.session_store.new_key", lambda: next(keys))

    second = store()
    second["who"] = "student-2"
    second.save()
    assert second.session_key == fresh
    assert store(first.session_key)["who"] == "teacher-1"
    assert store(fresh)["who"] == "student-2"


def test_new_keys_look_like_djangos_and_do_not_repeat():
    from config.session_store import VALID_KEY_CHARS, new_key

    keys = {new_key() for _ in range(2000)}
    assert len(keys) == 2000
    assert all(len(k) == 32 and set(k) <= set(VALID_KEY_CHARS) for k in keys)
    # Every character position uses the whole alphabet (no position stuck on a few values).
    for position in (0, 15, 31):
        assert len({k[position] for k in keys}) == 36


def test_delete_removes_the_session(store):
    session = store()
    session["who"] = "teacher-1"
    session.save()
    key = session.session_key
    session.delete()
    assert not store().exists(key)


@pytest.mark.redis
def test_redis_cache_reuses_one_client(settings):
    settings.CACHES = {
        "default": {"BACKEND": "config.cache.RedisCache", "LOCATION": _redis_cache_url()}
    }
    backend = caches["default"]._cache
    assert backend.get_client() is backend.get_client(write=True)
    caches["default"].set("k", {"v": 1}, 30)
    assert caches["default"].get("k") == {"v": 1}


@pytest.mark.redis
@pytest.mark.django_db
def test_with_redis_sessions_starting_a_login_stores_no_session(
    client, settings, django_assert_num_queries
):
    settings.CACHES = {
        "default": {"BACKEND": "config.cache.RedisCache", "LOCATION": _redis_cache_url()}
    }
    settings.SESSION_ENGINE = "config.session_cache"
    settings.CLEVER_LOGIN_RATE_LIMIT = ""  # count only what the session store writes
    redis_client = caches["default"]._cache.get_client(write=True)
    before = set(redis_client.keys("*django.contrib.sessions.cache*"))
    with django_assert_num_queries(0):
        response = client.get("/sso/clever/login")
    assert response.status_code == 302
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert set(redis_client.keys("*django.contrib.sessions.cache*")) == before
    assert response.cookies["clever_login"].value


@pytest.mark.django_db
def test_expired_database_sessions_are_cleared_hourly_by_celery_beat(settings):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from accounts.tasks import clear_expired_sessions

    settings.SESSION_ENGINE = "config.session_store"
    store = import_module(settings.SESSION_ENGINE).SessionStore
    live, stale = store(), store()
    live["who"], stale["who"] = "today", "yesterday"
    live.save()
    stale.save()
    Session.objects.filter(session_key=stale.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    schedule = django_settings.CELERY_BEAT_SCHEDULE["clear-expired-sessions"]
    assert schedule["task"] == clear_expired_sessions.name
    clear_expired_sessions()
    assert set(Session.objects.values_list("session_key", flat=True)) == {live.session_key}


@pytest.mark.redis
def test_redis_cache_incr_is_one_round_trip_and_keeps_djangos_rules(settings):
    settings.CACHES = {
        "default": {"BACKEND": "config.cache.RedisCache", "LOCATION": _redis_cache_url()}
    }
    cache = caches["default"]
    key = f"incr-{secrets.token_hex(8)}"
    with pytest.raises(ValueError, match="not found"):
        cache.incr(key)
    assert cache.get(key) is None  # a missing key is not created
    cache.set(key, 5, 30)
    client = cache._cache.get_client(write=True)
    calls = []
    real = client.execute_command
    client.execute_command = lambda *a, **k: calls.append(a[0]) or real(*a, **k)
    try:
        assert cache.incr(key) == 6
        assert cache.incr(key, 10) == 16
    finally:
        del client.execute_command
    assert calls == ["EVALSHA", "EVALSHA"]
    assert cache.get(key) == 16
    assert 0 < client.ttl(cache.make_key(key)) <= 30  # the expiry is kept
