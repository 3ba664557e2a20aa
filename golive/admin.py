from __future__ import annotations

from django.contrib import admin

from golive.models import ChecklistRun, CheckResult, DistrictConnection, LaunchTester


class CheckResultInline(admin.TabularInline):
    model = CheckResult
    extra = 0
    can_delete = False
    fields = ("position", "title", "status", "summary", "fix")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ChecklistRun)
class ChecklistRunAdmin(admin.ModelAdmin):
    list_display = ("checked_at", "ready", "checked_by")
    readonly_fields = ("checked_at", "ready", "checked_by")
    inlines = [CheckResultInline]

    def has_add_permission(self, request) -> bool:
        return False


class LaunchTesterInline(admin.TabularInline):
    model = LaunchTester
    extra = 1
    fields = ("clever_user_id", "note", "added_by", "created_at")
    readonly_fields = ("added_by", "created_at")


@admin.register(DistrictConnection)
class DistrictConnectionAdmin(admin.ModelAdmin):
    """Read-mostly: state changes go through the Districts page (golive.services)."""

    list_display = ("name", "clever_district_id", "state", "launch_date", "district")
    list_filter = ("state",)
    search_fields = ("name", "clever_district_id")
    readonly_fields = (
        "clever_district_id",
        "district",
        "state",
        "launch_date",
        "launched_at",
        "launched_by",
        "requested_at",
        "invited_at",
        "decided_at",
        "decided_by",
        "created_at",
        "updated_at",
    )
    inlines = [LaunchTesterInline]

    def has_add_permission(self, request) -> bool:
        return False
