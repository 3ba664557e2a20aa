from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.session_keys import LOGIN_TYPE_SESSION_KEY
from home import selectors


def home(request: HttpRequest) -> HttpResponse:
    """Anonymous: the "Log in with Clever" page. Logged in: the home page for their role."""
    user = request.user
    # Rostering only (Secure Sync without Clever SSO): no one logs in with Clever.
    landing = {"clever_login": not settings.CLEVER_ROSTERING_ONLY}
    if not user.is_authenticated:
        return render(request, "home/landing.html", landing)
    role = selectors.home_role(user=user, login_type=request.session.get(LOGIN_TYPE_SESSION_KEY))
    if role == "teacher":
        cards = selectors.teacher_sections(user=user)
        synced = bool(cards) or selectors.roster_synced(district_id=user.district_id)
        return render(request, "home/home_teacher.html", {"cards": cards, "synced": synced})
    if role == "student":
        cards = selectors.student_sections(user=user)
        synced = bool(cards) or selectors.roster_synced(district_id=user.district_id)
        return render(request, "home/home_student.html", {"cards": cards, "synced": synced})
    if role == "admin":
        overview = selectors.district_overview(user=user)
        return render(request, "home/home_admin.html", {"overview": overview})
    return render(request, "home/landing.html", landing)


def logged_out(request: HttpRequest) -> HttpResponse:
    """Where logging out lands: says so, and reminds shared-device users about Clever."""
    return render(
        request, "home/logged_out.html", {"clever_login": not settings.CLEVER_ROSTERING_ONLY}
    )
