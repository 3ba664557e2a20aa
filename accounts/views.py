from __future__ import annotations

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import selectors

# Set by sso at login: the type this session logged in as (teacher, student, staff, ...).
LOGIN_TYPE_SESSION_KEY = "clever_login_type"


def home(request: HttpRequest) -> HttpResponse:
    """Anonymous: the "Log in with Clever" page. Logged in: the home page for their role."""
    user = request.user
    if not user.is_authenticated:
        return render(request, "accounts/landing.html")
    role = selectors.home_role(user=user, login_type=request.session.get(LOGIN_TYPE_SESSION_KEY))
    if role == "teacher":
        cards = selectors.teacher_sections(user=user)
        synced = bool(cards) or selectors.roster_synced(district_id=user.district_id)
        return render(request, "accounts/home_teacher.html", {"cards": cards, "synced": synced})
    if role == "student":
        cards = selectors.student_sections(user=user)
        synced = bool(cards) or selectors.roster_synced(district_id=user.district_id)
        return render(request, "accounts/home_student.html", {"cards": cards, "synced": synced})
    if role == "admin":
        overview = selectors.district_overview(user=user)
        return render(request, "accounts/home_admin.html", {"overview": overview})
    return render(request, "accounts/landing.html")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("accounts:home")
