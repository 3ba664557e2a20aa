from __future__ import annotations

app_name = "cleverlike"

urlpatterns: list = []
