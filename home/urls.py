from __future__ import annotations

from django.urls import path

from home import views

app_name = "home"

urlpatterns = [
    path("", views.home, name="home"),
    path("logged-out/", views.logged_out, name="logged_out"),
]
