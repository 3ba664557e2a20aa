"""What every look-alike view shares: the request log, injected faults, JSON responses."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import get_urlconf, reverse

from cleverlike.world import world

View = Callable[..., HttpResponse]


def base_path() -> str:
    """The look-alike's mount point in the URLconf, without the trailing slash ("/clever")."""
    return _base_path(get_urlconf() or settings.ROOT_URLCONF)


@functools.cache
def _base_path(urlconf: str) -> str:
    # Every request needs it and it only changes with the URLconf: reverse() once per URLconf.
    return reverse("cleverlike:index", urlconf=urlconf).rstrip("/")


def base_url(request: HttpRequest) -> str:
    """The look-alike's absolute base URL as this request reached it (``B`` in the README)."""
    return request.build_absolute_uri(base_path() + "/").rstrip("/")


def relative_path(request: HttpRequest) -> str:
    """The request path after ``B`` (e.g. "/v3.0/users")."""
    prefix = base_path()
    path = request.path
    return path[len(prefix) :] if path.startswith(prefix) else path


def json_error(status: int, message: str, **headers: str) -> JsonResponse:
    """Clever's error body: {"message": ...}."""
    response = JsonResponse({"message": message}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _fault_response(kind: str) -> HttpResponse | None:
    if kind == "timeout":
        time.sleep(world.faults.timeout_seconds)
        return None
    if kind == "html":
        return HttpResponse(
            "<!doctype html><html><body><h1>Something went wrong</h1></body></html>",
            content_type="text/html; charset=utf-8",
        )
    if kind == "429":
        reset = int(world.now() // 60 + 1) * 60
        return json_error(
            429,
            "Too Many Requests",
            **{"X-RateLimit-Reset": str(reset), "X-RateLimit-Remaining": "0"},
        )
    if kind == "401":
        return json_error(401, "invalid token")
    return json_error(
        int(kind), {"500": "Internal Error", "502": "Bad Gateway"}.get(kind, "Service Unavailable")
    )


def served(view: View) -> View:
    """Log the request and apply any injected fault before the view runs."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        path = relative_path(request)
        world.log_request(request.method or "GET", path, {k: v for k, v in request.GET.items()})
        kind = world.faults.take(path)
        if kind is not None:
            response = _fault_response(kind)
            if response is not None:
                return response
        return view(request, *args, **kwargs)

    return wrapper
