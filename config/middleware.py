"""Response headers for logged-in people's pages."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers


class NoStoreForLoggedInMiddleware:
    """``Cache-Control: no-store`` (and private) on every response to a logged-in person.

    Their pages name students and classes: neither a shared device's browser cache nor a proxy
    may keep a copy after log out. Anonymous pages (the landing page, static files) stay
    cacheable; reading ``request.user`` costs nothing more, the session was loaded already.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and "no-store" not in response.get("Cache-Control", "")
        ):
            add_never_cache_headers(response)
        return response
