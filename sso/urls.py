from __future__ import annotations

app_name = "sso"

urlpatterns: list = []
