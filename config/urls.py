from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("sso/", include("sso.urls")),
    path("golive/", include("golive.urls")),
    path("", include("home.urls")),
    path("", include("accounts.urls")),
]

if settings.CLEVER_LOOKALIKE_ENABLED:
    urlpatterns.append(path("clever/", include("cleverlike.urls")))
