from __future__ import annotations

app_name = "golive"

urlpatterns: list = []
