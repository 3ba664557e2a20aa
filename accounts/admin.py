from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from accounts.models import AccountLink, User


class AccountLinkInline(admin.TabularInline):
    """Links and unlinks to Clever users (by the sync, a login or ops), newest first."""

    model = AccountLink
    fk_name = "user"
    fields = ("created_at", "action", "clever_id", "rule", "reason", "actor")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = "Links to Clever"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "source", "clever_id", "district", "archived_at")
    list_filter = ("source", "matched_by", "is_staff", "archived_at", "district")
    search_fields = ("username", "first_name", "last_name", "email", "clever_id")
    readonly_fields = (
        "clever_id",
        "district",
        "matched_by",
        "matching_report",
        "archived_at",
        "last_seen_run",
        "sync_digest",
    )
    inlines = (AccountLinkInline,)
    # What Clever owns on a Clever-linked account (the sync and each login write it), and the
    # powers a Clever identity must never get: an account Clever logs in is never staff.
    clever_managed_fields = (
        "first_name",
        "last_name",
        "middle_name",
        "email",
        "source",
        "sis_id",
        "district_username",
        "is_staff",
        "is_superuser",
        "groups",
        "user_permissions",
    )

    @admin.display(description="Matching report")
    def matching_report(self, obj: User) -> str:
        if not obj.district_id:
            return "-"
        url = reverse("admin:rostering_district_matching", args=[obj.district_id])
        return format_html('<a href="{}">This district\'s account matching</a>', url)

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple:
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and obj.clever_id:
            fields += self.clever_managed_fields
        return fields

    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            "Clever",
            {
                "fields": (
                    "source",
                    "clever_id",
                    "district",
                    "matched_by",
                    "matching_report",
                    "sis_id",
                    "district_username",
                    "middle_name",
                    "preferred_name",
                    "archived_at",
                    "last_seen_run",
                    "sync_digest",
                )
            },
        ),
    )
