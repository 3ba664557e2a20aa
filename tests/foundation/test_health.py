from __future__ import annotations

import pytest

from tests.factories import UserFactory


@pytest.mark.django_db
def test_healthz_reports_database_and_in_process_tasks_without_broker(client, settings):
    settings.CELERY_BROKER_URL = None
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert "in-process" in body["broker"]["detail"]


@pytest.mark.django_db
def test_healthz_is_503_when_broker_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["broker"]["ok"] is False
    assert body["database"]["ok"] is True


@pytest.mark.redis
@pytest.mark.django_db
def test_healthz_reaches_real_redis_broker(client, settings):
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["broker"]["ok"] is True


@pytest.mark.django_db
def test_healthz_is_503_when_database_is_down(client, monkeypatch):
    from config import health

    monkeypatch.setattr(health, "_database_ok", lambda: (False, "OperationalError"))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False, "detail": "OperationalError"}


@pytest.mark.django_db
def test_healthz_is_503_when_the_session_cache_is_unreachable(client, settings):
    # Sessions live in the Redis cache, so a login cannot work without it.
    settings.CACHES = {
        "default": {"BACKEND": "config.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    settings.CACHE_IS_SHARED = True
    settings.SESSION_ENGINE = "config.session_store"  # this request's own session: not in Redis
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["cache"]["ok"] is False
    assert response.json()["database"]["ok"] is True


@pytest.mark.django_db
def test_a_broken_session_store_ends_on_a_friendly_page(client, settings):
    # Sessions in a Redis that does not answer: the request fails, the person sees a page that
    # says what to do, not a bare "Server Error (500)".
    settings.DEBUG = False
    settings.CACHES = {
        "default": {"BACKEND": "config.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    settings.SESSION_ENGINE = "config.session_cache"
    client.raise_request_exception = False
    # Logging in writes a session (the login button no longer does: its flow is a cookie).
    ops = UserFactory(username="ops", is_staff=True, is_active=True)
    ops.set_password("a-long-ops-password")
    ops.save()
    response = client.post(
        "/admin/login/", {"username": "ops", "password": "a-long-ops-password", "next": "/admin/"}
    )
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert "try again" in page
