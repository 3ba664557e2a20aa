from __future__ import annotations

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """End whoever's session this is (on a shared device, the next person logs in fresh)."""
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)
