"""The look-alike alone at ``/clever/`` (``cleverlike.service_settings``)."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("clever/", include("cleverlike.urls"))]
