from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.sessions import SessionStoreUnavailable, session_end


@never_cache
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """End whoever's session this is (on a shared device, the next person logs in fresh), or
    say that it could not be ended."""
    try:
        session_end(request=request)
    except SessionStoreUnavailable:
        return render(request, "accounts/logout_failed.html", status=503)
    return redirect(settings.LOGOUT_REDIRECT_URL)
