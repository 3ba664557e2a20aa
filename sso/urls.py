from __future__ import annotations

from django.urls import path

from sso import views

app_name = "sso"

urlpatterns = [
    path("clever/login", views.login_start, name="login"),
    path("clever/login/", views.login_start),
    path("clever/callback/", views.callback, name="callback"),
]
