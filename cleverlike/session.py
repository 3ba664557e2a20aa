"""The look-alike's own login session: who last logged in at "Clever" in this browser."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

# Clever keeps its own login session: once a person has logged in at Clever (the Portal or the
# authorize page), a later authorize request sends them straight back with a code. That is what
# makes the app's bounce of a state-less Portal login invisible to the person.
CLEVER_SESSION_COOKIE = "cleverlike_user"
_COOKIE_SALT = "cleverlike.session"


def clever_session_user(request: HttpRequest) -> tuple[str, str | None] | None:
    """The (user id, role) logged in at the look-alike in this browser, if any."""
    value = request.get_signed_cookie(CLEVER_SESSION_COOKIE, default=None, salt=_COOKIE_SALT)
    if not value:
        return None
    user_id, _, as_role = value.partition("|")
    return user_id, as_role or None


def remember_clever_session(response: HttpResponse, user_id: str, as_role: str | None) -> None:
    """Remember in this browser who logged in at the look-alike (as Clever's session does)."""
    response.set_signed_cookie(
        CLEVER_SESSION_COOKIE,
        f"{user_id}|{as_role or ''}",
        salt=_COOKIE_SALT,
        path="/",
        httponly=True,
        samesite="Lax",
    )
