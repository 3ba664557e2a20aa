from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path

from config.health import healthz


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico whatever the page says: send them to ours."""
    return HttpResponseRedirect(static("favicon.svg"))


# The admin is this product's ops console; "View site" leads to the product's own pages.
admin.site.site_header = "Classroom ops console"
admin.site.site_title = "Classroom ops"
admin.site.index_title = "Districts, rosters, runs and accounts"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("sso/", include("sso.urls")),
    path("golive/", include("golive.urls")),
    path("", include("home.urls")),
    path("", include("accounts.urls")),
]

if settings.CLEVER_LOOKALIKE_ENABLED:
    urlpatterns.append(path("clever/", include("cleverlike.urls")))
