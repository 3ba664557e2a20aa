from __future__ import annotations

from django.urls import path

from golive import views

app_name = "golive"

urlpatterns = [
    path("", views.checklist, name="checklist"),
    path("recheck/", views.recheck, name="recheck"),
    path("districts/", views.districts, name="districts"),
    path("districts/request/", views.district_request, name="district_request"),
    path("districts/invite/", views.district_invite, name="district_invite"),
    path("districts/<str:clever_id>/approve/", views.district_approve, name="district_approve"),
    path("districts/<str:clever_id>/decline/", views.district_decline, name="district_decline"),
    path("districts/<str:clever_id>/schedule/", views.district_schedule, name="district_schedule"),
    path("districts/<str:clever_id>/launch/", views.district_launch, name="district_launch"),
    path(
        "districts/<str:clever_id>/launch/undo/",
        views.district_launch_undo,
        name="district_launch_undo",
    ),
    path(
        "districts/<str:clever_id>/decline/undo/",
        views.district_decline_undo,
        name="district_decline_undo",
    ),
    path(
        "districts/<str:clever_id>/approve/undo/",
        views.district_approve_undo,
        name="district_approve_undo",
    ),
    path("districts/<str:clever_id>/testers/", views.district_testers, name="district_testers"),
    path(
        "districts/<str:clever_id>/testers/add/", views.district_tester_add, name="district_tester"
    ),
    path(
        "districts/<str:clever_id>/testers/remove/",
        views.district_tester_remove,
        name="district_tester_remove",
    ),
    path("users/<int:user_id>/login/", views.login_check, name="login_check"),
    path("report/", views.report, name="report"),
    path("report.md", views.report_md, name="report_markdown"),
]
