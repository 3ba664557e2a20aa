from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest

from accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "source", "clever_id", "district", "archived_at")
    list_filter = ("source", "is_staff", "archived_at", "district")
    search_fields = ("username", "first_name", "last_name", "email", "clever_id")
    readonly_fields = ("clever_id", "district", "archived_at", "last_seen_run", "sync_digest")
    # What Clever owns on a Clever-linked account (the sync and each login write it), and the
    # powers a Clever identity must never get: an account Clever logs in is never staff.
    clever_managed_fields = (
        "first_name",
        "last_name",
        "middle_name",
        "email",
        "source",
        "is_staff",
        "is_superuser",
        "groups",
        "user_permissions",
    )

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
                    "middle_name",
                    "preferred_name",
                    "archived_at",
                    "last_seen_run",
                    "sync_digest",
                )
            },
        ),
    )
